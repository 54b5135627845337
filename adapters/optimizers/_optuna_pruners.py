"""Optuna pruners over the store's fidelity axis: what makes an Optuna sampler multi-fidelity.

On an ``epoch`` axis a pruner stops a trial from its learning curve: the runner reports each
epoch of one training run. On a ``schedule`` axis (12- and 200-epoch schedules, e.g. the
embedded default) the schedules are separate training runs, not points of one curve: the
runner reports the 12-epoch run's result, and a trial the pruner lets continue is retrained
from scratch on the 200-epoch schedule, so it is charged the 12-epoch run plus the full
200-epoch run (see :func:`harness.running.runner.run_trials`); the 12-epoch value is never read as
epoch 12 of the 200-epoch run.

Resources are the axis values: Optuna's ``step`` is the epoch (or schedule length) the runner
reports, ``min_resource`` the axis's first value and ``max_resource`` its last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.types import BadInputError, FidelitySpace

if TYPE_CHECKING:
    from optuna.pruners import BasePruner

__all__ = ["PRUNERS", "make_pruner"]

#: Option values of ``pruner``; "sh" is asynchronous successive halving.
PRUNERS: tuple[str, ...] = ("none", "hyperband", "sh", "median")


def make_pruner(name: str, fidelity: FidelitySpace, reduction_factor: int) -> tuple[BasePruner, dict[str, Any]]:
    """The Optuna pruner for option ``name`` on ``fidelity``, and the settings it was built with."""
    import optuna

    if name == "none":
        return optuna.pruners.NopPruner(), {}
    if not fidelity.multi_fidelity:
        raise BadInputError(
            f"pruner {name!r} needs a fidelity axis (epochs of one run, or the 12- and 200-epoch schedules); "
            f"this store has only {fidelity.kind} {list(fidelity.values)}"
        )
    if name == "median":
        # Optuna's defaults: no pruning before 5 trials have finished, then below-median at any epoch.
        settings: dict[str, Any] = {"n_startup_trials": 5, "n_warmup_steps": 0, "interval_steps": 1}
        return optuna.pruners.MedianPruner(**settings), settings
    settings = {"min_resource": fidelity.min, "reduction_factor": reduction_factor}
    if name == "sh":
        settings["min_early_stopping_rate"] = 0
        return optuna.pruners.SuccessiveHalvingPruner(**settings), settings
    settings["max_resource"] = fidelity.max
    return optuna.pruners.HyperbandPruner(**settings), settings

"""Optuna pruners over the store's epoch axis: what makes an Optuna sampler multi-fidelity.

A pruner stops a trial from its learning curve, so it needs the per-epoch values of one
training run: a fidelity axis of kind ``epoch``. A ``schedule`` axis (12- vs 200-epoch
schedules) holds separate runs, not a curve; reading its 12-epoch value as epoch 12 of the
200-epoch run would flatter early stopping, so it is refused instead.

Resources are epochs: Optuna's ``step`` is the epoch the runner reports, ``min_resource`` the
axis's first epoch and ``max_resource`` its last.
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
    if fidelity.kind != "epoch":
        raise BadInputError(
            f"pruner {name!r} needs per-epoch learning curves (a fidelity axis of kind 'epoch'); this store's "
            f"axis is {fidelity.kind!r} {list(fidelity.values)} ({fidelity.meaning or 'separate training runs'})"
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

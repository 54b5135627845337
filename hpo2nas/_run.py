"""``hpo2nas.run``: one optimizer, one dataset, one budget, from Python in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.running.budget import Budget
from harness.running.results import RunResult
from harness.running.runner import RunConfig, execute_run

__all__ = ["run"]


def run(
    optimizer: str,
    *,
    budget: str,
    out: str | Path,
    dataset: str = "cifar10-valid",
    seed: int = 0,
    options: dict[str, Any] | None = None,
    store: str = "default",
    resume: bool = False,
    **settings: Any,
) -> RunResult:
    """What ``hpo2nas run`` does, with the CLI's defaults: build the config, run, record in ``out``.

    ``optimizer`` is a name from ``hpo2nas.OPTIMIZERS`` or ``module:Class``; ``budget`` is the
    CLI's text (``300000s``, ``100evals``, ``50full``); ``options`` are the optimizer's ``--set``
    options; ``settings`` are any further :class:`harness.running.runner.RunConfig` fields (``workers``,
    ``data_seeds``, ``search_fidelity``, ``objectives``, ...). Bad input raises
    :class:`adapters.types.BadInputError` with the CLI's one-line message.
    """
    config = RunConfig(optimizer=optimizer, dataset=dataset, budget=Budget.parse(budget), seed=seed, store=store,
                       options=dict(options or {}), **settings)
    return execute_run(config, Path(out), resume=resume)

"""Why an optimizer cannot run a run config on a benchmark: worked out once, here.

``hpo2nas run`` refuses with the first reason, ``compare`` leaves the optimizer out with it,
and real workers refuse a study with it, so the three never disagree on what can run.
"""

from __future__ import annotations

import numpy as np

from adapters import OBJECTIVES
from adapters.protocols import Benchmark, Optimizer, capabilities, task_space
from adapters.types import BadInputError, FidelitySpace
from harness.running.live_pricing import trains
from harness.running.run_config import RunConfig

__all__ = ["search_axis", "refusals", "refuse"]


def search_axis(benchmark: Benchmark, dataset: str, search_fidelity: int | None = None) -> FidelitySpace:
    """The fidelity axis an optimizer sees: the store's, cut at ``search_fidelity`` if given."""
    space = benchmark.fidelity_space(dataset)
    if search_fidelity is None:
        return space
    if search_fidelity not in space.values:
        raise BadInputError(
            f"search_fidelity {search_fidelity} is not on {dataset}'s axis in store {benchmark.name!r} "
            f"({space.kind}: {list(space.values)}); a store with the 12-epoch schedule has it"
        )
    values = tuple(v for v in space.values if v <= search_fidelity)
    return FidelitySpace(space.kind, values, space.meaning)


def refusals(optimizer: Optimizer, benchmark: Benchmark, config: RunConfig) -> list[str]:
    """Every reason ``optimizer`` cannot run ``config`` on ``benchmark``, most basic first; empty if it can.

    A ``search_fidelity`` that is not on the store's axis, or a budget the data cannot charge (a time
    budget where the source has no train time), is bad input, not a refusal: it raises.
    """
    check_budget = getattr(benchmark, "check_budget", None)  # benchmarks whose data may lack train time declare it
    if callable(check_budget):
        check_budget(config.dataset, config.budget.kind)
    axis = search_axis(benchmark, config.dataset, config.search_fidelity)
    return [*_space_refusals(optimizer, benchmark, config), *_fidelity_refusals(optimizer, benchmark, config, axis),
            *_objective_refusals(optimizer, benchmark, config), *_worker_refusals(optimizer, config.workers),
            *_training_refusals(benchmark, config.workers)]


def _space_refusals(optimizer: Optimizer, benchmark: Benchmark, config: RunConfig) -> list[str]:
    """An optimizer that declares the spaces it can search, on another (the zero-cost ones off NB201)."""
    spaces = capabilities(optimizer).spaces
    space = task_space(benchmark, config.dataset)
    if spaces is None or space.name in spaces:
        return []
    return [f"{optimizer.name} searches the {' and '.join(spaces)} space only, not {config.benchmark}'s "
            f"{space.name} space on {config.dataset}"]


def refuse(optimizer: Optimizer, benchmark: Benchmark, config: RunConfig) -> FidelitySpace:
    """The axis the optimizer searches; raises BadInputError with the first refusal if there is one."""
    reasons = refusals(optimizer, benchmark, config)
    if reasons:
        raise BadInputError(reasons[0])
    return search_axis(benchmark, config.dataset, config.search_fidelity)


def _fidelity_refusals(optimizer: Optimizer, benchmark: Benchmark, config: RunConfig, axis: FidelitySpace) -> list[str]:
    """A multi-fidelity optimizer without a fidelity axis, or continued promotions on a schedule axis
    (whose schedules are separate training runs)."""
    reasons = []
    if capabilities(optimizer).multi_fidelity and not axis.multi_fidelity:
        reasons.append(
            f"{optimizer.name} is multi-fidelity but store {benchmark.name!r} has no fidelity axis on "
            f"{config.dataset} (only {axis.kind} {list(axis.values)}); "
            + ("import curves (NATS-Bench) first" if axis.kind != "final" else f"{axis.meaning}; choose a "
               "single-fidelity optimizer")
        )
    if config.continue_promotions and axis.kind == "schedule":
        reasons.append(
            f"continue_promotions needs an epoch axis; store {benchmark.name!r} has the {list(axis.values)}-epoch "
            f"schedules on {config.dataset}, separate training runs that a promotion retrains from scratch"
        )
    return reasons


def _objective_refusals(optimizer: Optimizer, benchmark: Benchmark, config: RunConfig) -> list[str]:
    """Several objectives to a single-objective optimizer, and an objective the data lacks."""
    objectives = config.objectives
    if len(objectives) < 2:
        return []
    if not capabilities(optimizer).multi_objective:
        from adapters.optimizers import OPTIMIZERS

        able = ", ".join(name for name, cls in OPTIMIZERS.items() if capabilities(cls).multi_objective)
        why = " with a pruner (Optuna cannot prune multi-objective trials)" if capabilities(type(optimizer)).multi_objective else ""
        return [f"{optimizer.name} searches a single objective{why} and cannot search "
                f"{', '.join(objectives)}; multi-objective optimizers: {able}"]
    return [
        f"objective {name!r} ({OBJECTIVES[name].metric}) is not in store {benchmark.name!r} for {config.dataset}; "
        "import a source that has it (NATS-Bench has FLOPs)"
        for name in objectives
        if np.isnan(benchmark.lookup(np.arange(task_space(benchmark, config.dataset).size), config.dataset,
                                    OBJECTIVES[name].metric)).all()
    ]


def _worker_refusals(optimizer: Optimizer, workers: int) -> list[str]:
    """W > 1 workers for an optimizer that cannot be asked while trials are pending."""
    caps = capabilities(optimizer)
    if workers > 1 and not caps.pending_trials:
        reason = caps.serial_reason or "it does not declare pending_trials = True"
        return [f"{optimizer.name} cannot run with {workers} workers (trials pending): {reason}"]
    return []


def _training_refusals(benchmark: Benchmark, workers: int) -> list[str]:
    """Simulated workers on a benchmark that trains: its trainings run one after another in real time,
    so a simulated clock of W workers would describe time that never passed."""
    if workers > 1 and trains(benchmark):
        return [f"{workers} simulated workers on benchmark {benchmark.name!r}: it trains in real time, one trial "
                "after another; run real workers (--processes N) or compare's runs on Dask instead"]
    return []

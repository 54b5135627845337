"""Planning an experiment: a spec's (optimizer, dataset, seed, workers) grid as run configs.

The runner's own refusals are asked here, before anything runs, so an optimizer that cannot run
one of its runs is left out of the grid with the reason rather than failing on a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.bounds import check
from adapters.protocols import Benchmark
from adapters.types import BadInputError
from harness.running.records import run_id_for
from harness.running.refusals import refusals
from harness.running.run_config import SPEC_SETTINGS, RunConfig
from harness.running.spec import ExperimentSpec, Profile, Task

__all__ = ["PlannedRun", "open_spec_benchmark", "open_benchmarks", "plan_runs", "resolved_tasks", "worker_label"]


@dataclass(frozen=True)
class PlannedRun:
    label: str
    config: RunConfig

    @property
    def run_id(self) -> str:
        return run_id_for(self.config.to_dict())


def plan_runs(
    spec: ExperimentSpec, profile: Profile, benchmark: Benchmark, skip: dict[str, str] | None = None, *,
    root: Path | None = None,
) -> tuple[list[PlannedRun], list[tuple[str, str]]]:
    """The runnable grid, and the optimizers left out with the reason (skipped, refused, or no curves).

    ``benchmark`` is the spec's own (``spec.benchmark``, NB201's store by default); a spec whose
    ``tasks`` name other benchmarks has them opened here (:func:`open_benchmarks`, under ``root``).
    An optimizer the runner refuses on every task is left out with the reason; one refused on some
    tasks only runs on the others, and the reason names the tasks it is left out of.
    """
    from adapters.optimizers import make_optimizer

    benches = open_benchmarks(spec, profile, benchmark, root=root)
    tasks = resolved_tasks(spec, profile, benches)
    _check_analyses(spec, benchmark, [t.dataset for t in tasks])
    searched = {t.dataset for t in tasks} | {str(t) for t in tasks} | {t.benchmark for t in tasks}
    stray = sorted(set(profile.dataset_budgets) - searched)
    if stray:
        raise BadInputError(f"spec {spec.name}: profiles.{profile.name}.dataset_budgets names {stray[0]!r}, "
                            f"not a searched dataset ({', '.join(map(str, tasks))})")
    skip = {**profile.skip, **(skip or {})}
    unknown = sorted(set(skip) - {e.label for e in spec.optimizers})
    if unknown:
        raise BadInputError(f"spec {spec.name}: cannot skip unknown optimizer {unknown[0]!r}")
    settings = {name: getattr(spec, name) for name in SPEC_SETTINGS}
    runs: list[PlannedRun] = []
    excluded: list[tuple[str, str]] = []
    for entry in spec.optimizers:
        if entry.label in skip:
            excluded.append((entry.label, skip[entry.label]))
            continue
        optimizer = make_optimizer(entry.optimizer, entry.options)
        total = len(runs) + len(spec.workers) * len(tasks) * len(profile.seeds_for(entry.label))
        check("runs", total, f"spec {spec.name}: the number of runs in profile {profile.name!r}")  # before building
        # The runner's own refusals (which do not depend on the seed), asked once per task and worker count.
        refused: dict[Task, str] = {}
        planned = []
        for workers in spec.workers:
            label = worker_label(entry.label, workers, spec.workers)
            for task in tasks:
                configs = [RunConfig(optimizer=entry.optimizer, label=label, options=dict(entry.options),
                                     dataset=task.dataset, budget=profile.budget_for(task.dataset, task.benchmark),
                                     seed=seed, workers=workers, benchmark=task.benchmark,
                                     benchmark_options=spec.benchmark_options if task.benchmark == spec.benchmark else {},
                                     **settings)
                           for seed in profile.seeds_for(entry.label)]
                reason = next(iter(refusals(optimizer, benches[task.benchmark], configs[0])), None)
                if reason is not None:
                    refused.setdefault(task, reason)
                    continue
                planned += [PlannedRun(label, config) for config in configs]
        if refused and not planned:
            excluded.append((entry.label, next(iter(refused.values()))))
            continue
        for reason in dict.fromkeys(refused.values()):
            where = ", ".join(str(t) for t, why in refused.items() if why == reason)
            excluded.append((entry.label, f"not run on {where}: {reason}"))
        runs.extend(planned)
    return runs, excluded


def open_spec_benchmark(spec: ExperimentSpec, root: Path | None) -> Benchmark:
    """The benchmark a spec searches, with its options (``spec.output`` as the live benchmark's workdir:
    for planning and refusals only, nothing is trained or written here; runs keep their own checkpoints)."""
    from benchmarks.registry import open_named

    return open_named(spec.benchmark, store=spec.store, root=root, options=spec.benchmark_options,
                      workdir=spec.output)


def open_benchmarks(spec: ExperimentSpec, profile: Profile, benchmark: Benchmark, *,
                    root: Path | None = None) -> dict[str, Benchmark]:
    """Every benchmark a profile's tasks name, each opened once: ``benchmark`` stands for ``spec.benchmark``."""
    from benchmarks.registry import open_named

    benches: dict[str, Benchmark] = {spec.benchmark: benchmark}
    for task in spec.tasks_for(profile):
        if task.benchmark not in benches:
            benches[task.benchmark] = open_named(task.benchmark, store=spec.store, root=root)
    return benches


def resolved_tasks(spec: ExperimentSpec, profile: Profile, benches: dict[str, Benchmark]) -> list[Task]:
    """The profile's tasks with each dataset's canonical name in its benchmark (``cifar10`` aliases resolved)."""
    from benchmarks import resolve_dataset

    return [Task(t.benchmark, resolve_dataset(t.dataset, benches[t.benchmark].datasets))
            for t in spec.tasks_for(profile)]


def _check_analyses(spec: ExperimentSpec, benchmark, searched: list[str]) -> None:
    """The report's analyses name datasets of the store: checked before the first run, not after the last."""
    from benchmarks import resolve_dataset

    for key in ("transfer_datasets", "paper_table"):
        for name in getattr(spec, key):
            try:
                resolve_dataset(name, benchmark.datasets)
            except BadInputError as exc:
                raise BadInputError(f"spec {spec.name}: key {key!r}: {exc}") from None
    if spec.transfer_datasets and len(searched) != 1:
        raise BadInputError(f"spec {spec.name}: key 'transfer_datasets' needs runs searched on one dataset, "
                            f"got {', '.join(searched)}")


def worker_label(label: str, workers: int, all_workers: tuple[int, ...]) -> str:
    """An optimizer's label at W workers: unchanged when the spec runs one worker count."""
    return label if len(all_workers) == 1 else f"{label}@{workers}"



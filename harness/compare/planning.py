"""Planning an experiment: a spec's (optimizer, dataset, seed, workers) grid as run configs.

The runner's own refusals are asked here, before anything runs, so an optimizer that cannot run
one of its runs is left out of the grid with the reason rather than failing on a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.bounds import check
from adapters.types import BadInputError
from harness.running.records import run_id_for
from harness.running.refusals import refusals
from harness.running.run_config import SPEC_SETTINGS, RunConfig
from harness.running.spec import ExperimentSpec, Profile

__all__ = ["PlannedRun", "plan_runs", "worker_label"]


@dataclass(frozen=True)
class PlannedRun:
    label: str
    config: RunConfig

    @property
    def run_id(self) -> str:
        return run_id_for(self.config.to_dict())


def plan_runs(
    spec: ExperimentSpec, profile: Profile, benchmark, skip: dict[str, str] | None = None
) -> tuple[list[PlannedRun], list[tuple[str, str]]]:
    """The runnable grid, and the optimizers left out with the reason (skipped, or no curves)."""
    from adapters.optimizers import make_optimizer
    from benchmarks import resolve_dataset

    runs, excluded = [], []
    datasets = [resolve_dataset(d, benchmark.datasets) for d in spec.datasets]
    _check_analyses(spec, benchmark, datasets)
    stray = sorted(set(profile.dataset_budgets) - set(datasets))
    if stray:
        raise BadInputError(f"spec {spec.name}: profiles.{profile.name}.dataset_budgets names {stray[0]!r}, "
                            f"not a searched dataset ({', '.join(datasets)})")
    skip = {**profile.skip, **(skip or {})}
    unknown = sorted(set(skip) - {e.label for e in spec.optimizers})
    if unknown:
        raise BadInputError(f"spec {spec.name}: cannot skip unknown optimizer {unknown[0]!r}")
    settings = {name: getattr(spec, name) for name in SPEC_SETTINGS}
    for entry in spec.optimizers:
        if entry.label in skip:
            excluded.append((entry.label, skip[entry.label]))
            continue
        optimizer = make_optimizer(entry.optimizer, entry.options)
        total = len(runs) + len(spec.workers) * len(datasets) * len(profile.seeds_for(entry.label))
        check("runs", total, f"spec {spec.name}: the number of runs in profile {profile.name!r}")  # before building
        planned = []
        for workers in spec.workers:
            label = worker_label(entry.label, workers, spec.workers)
            for dataset in datasets:
                planned += [PlannedRun(label, RunConfig(
                    optimizer=entry.optimizer, label=label, options=dict(entry.options), dataset=dataset,
                    budget=profile.budget_for(dataset), seed=seed, workers=workers, **settings))
                    for seed in profile.seeds_for(entry.label)]
        # The runner's own refusals (which do not depend on the seed): an optimizer that cannot run
        # one of its runs is left out with the reason.
        firsts: dict[tuple[int, str], RunConfig] = {}
        for run in planned:
            firsts.setdefault((run.config.workers, run.config.dataset), run.config)
        reason = next((why for config in firsts.values() for why in refusals(optimizer, benchmark, config)), None)
        if reason is not None:
            excluded.append((entry.label, reason))
            continue
        runs.extend(planned)
    return runs, excluded


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



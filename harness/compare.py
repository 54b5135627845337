"""Compare optimizers: fan a spec's (optimizer, dataset, seed) grid out on Dask, then report.

Each run is one Dask task. Workers receive the store from the client (the default store is a
few MB) unless a shared store path is named, run in a private folder, and send the run's
files back; the client writes them into ``<out>/runs/<run_id>/`` atomically. Finished runs
are never redone, so an interrupted compare resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.records import LOCK, run_id_for
from harness.runner import RunConfig, search_axis
from harness.spec import ExperimentSpec, Profile
from adapters.types import BadInputError

__all__ = ["PlannedRun", "plan_runs", "run_grid", "compare", "CompareResult"]

#: Stores larger than this must be on a path every worker can read (not shipped per task).
_SHIP_LIMIT_BYTES = 256 << 20


@dataclass(frozen=True)
class PlannedRun:
    label: str
    config: RunConfig

    @property
    def run_id(self) -> str:
        return run_id_for(self.config.to_dict())


@dataclass
class CompareResult:
    out: Path
    trials: pd.DataFrame
    report: Path
    excluded: list[tuple[str, str]]
    wall_s: float


def plan_runs(
    spec: ExperimentSpec, profile: Profile, benchmark, skip: dict[str, str] | None = None
) -> tuple[list[PlannedRun], list[tuple[str, str]]]:
    """The runnable grid, and the optimizers left out with the reason (skipped, or no curves)."""
    from adapters.optimizers import make_optimizer
    from benchmarks import resolve_dataset

    runs, excluded = [], []
    datasets = [resolve_dataset(d, benchmark.datasets) for d in spec.datasets]
    stray = sorted(set(profile.dataset_budgets) - set(datasets))
    if stray:
        raise BadInputError(f"spec {spec.name}: profiles.{profile.name}.dataset_budgets names {stray[0]!r}, "
                            f"not a searched dataset ({', '.join(datasets)})")
    skip = {**profile.skip, **(skip or {})}
    unknown = sorted(set(skip) - {e.label for e in spec.optimizers})
    if unknown:
        raise BadInputError(f"spec {spec.name}: cannot skip unknown optimizer {unknown[0]!r}")
    for entry in spec.optimizers:
        if entry.label in skip:
            excluded.append((entry.label, skip[entry.label]))
            continue
        optimizer = make_optimizer(entry.optimizer, entry.options)
        flat = [d for d in datasets if not search_axis(benchmark, d, spec.search_fidelity).multi_fidelity]
        if optimizer.multi_fidelity and flat:
            excluded.append((entry.label, f"multi-fidelity, but store {benchmark.name!r} has no fidelity axis on {', '.join(flat)}"))
            continue
        if len(spec.objectives) > 1 and not getattr(optimizer, "multi_objective", False):
            excluded.append((entry.label, f"searches a single objective; this spec searches {', '.join(spec.objectives)}"))
            continue
        if max(spec.workers) > 1 and not getattr(optimizer, "pending_trials", False):
            excluded.append((entry.label, f"cannot run with several workers: {getattr(optimizer, 'serial_reason', '')}"))
            continue
        for workers in spec.workers:
            label = worker_label(entry.label, workers, spec.workers)
            for dataset in datasets:
                for seed in profile.seeds_for(entry.label):
                    config = RunConfig(
                        optimizer=entry.optimizer, label=label, options=dict(entry.options), dataset=dataset,
                        budget=profile.budget_for(dataset), seed=seed, store=spec.store, data_seeds=spec.data_seeds,
                        continue_promotions=spec.continue_promotions, objectives=spec.objectives,
                        storage=spec.storage,
                        search_fidelity=spec.search_fidelity,
                        workers=workers,
                    )
                    runs.append(PlannedRun(label, config))
    return runs, excluded


def worker_label(label: str, workers: int, all_workers: tuple[int, ...]) -> str:
    """An optimizer's label at W workers: unchanged when the spec runs one worker count."""
    return label if len(all_workers) == 1 else f"{label}@{workers}"


def _is_complete(folder: Path) -> bool:
    import json

    try:
        return json.loads((folder / "run.json").read_text()).get("status") == "complete" and (
            folder / "trials.parquet"
        ).exists()
    except (OSError, ValueError):
        return False


def _store_payload(store_path: Path) -> dict[str, bytes]:
    files = [p for p in store_path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    if size > _SHIP_LIMIT_BYTES:
        raise BadInputError(
            f"store {store_path.name!r} is {size >> 20} MB; put it on a path every worker reads and pass --store-path"
        )
    return {str(p.relative_to(store_path)): p.read_bytes() for p in files}


def _worker_root(store_name: str, checksum: str, payload: dict[str, bytes] | None, shared_root: str | None) -> Path:
    """Where the store lives on this worker: the shared root, or a private copy made once."""
    if shared_root:
        return Path(shared_root)
    root = Path(tempfile.gettempdir()) / "hpo2nas-worker-stores" / checksum
    if (root / store_name / "manifest.json").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root.parent))  # same filesystem: atomic rename
    for rel, data in (payload or {}).items():
        target = staging / store_name / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    root.mkdir(exist_ok=True)
    try:
        os.replace(staging / store_name, root / store_name)  # another worker may have won the race
    except OSError:
        pass
    shutil.rmtree(staging, ignore_errors=True)
    return root


def _run_task(config: dict[str, Any], checksum: str, payload: dict[str, bytes] | None, shared_root: str | None) -> dict[str, bytes]:
    """One run on a worker; returns the run folder's files (relative path -> bytes)."""
    from harness.runner import execute_run

    root = _worker_root(config["store"], checksum, payload, shared_root)
    with tempfile.TemporaryDirectory(prefix="hpo2nas-run-") as tmp:
        out = Path(tmp) / "run"
        execute_run(RunConfig.from_dict(config), out, root=root)
        return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK}


def _write_run_files(folder: Path, files: dict[str, bytes]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run_grid(
    runs: list[PlannedRun],
    runs_dir: Path,
    *,
    store_path: Path,
    checksum: str,
    scheduler: str | None = None,
    shared_store_path: Path | None = None,
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run every planned run not already complete in ``runs_dir``, on Dask."""
    from dask.distributed import Client, LocalCluster, as_completed

    runs_dir.mkdir(parents=True, exist_ok=True)
    todo = [r for r in runs if not _is_complete(runs_dir / r.run_id)]
    done = len(runs) - len(todo)
    if progress:
        progress(done, len(runs))
    if not todo:
        return
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        payload = None if shared_store_path else client.scatter(_store_payload(store_path), broadcast=True)
        shared = str(shared_store_path) if shared_store_path else None
        # Slow optimizers first, so a few long runs do not end up alone at the tail.
        order = sorted(todo, key=lambda r: ("smac" not in r.config.optimizer, "gp" not in r.config.optimizer,
                                            "bohb" not in r.config.optimizer))
        futures = {
            client.submit(_run_task, r.config.to_dict(), checksum, payload, shared, key=f"run-{r.run_id}", pure=False): r
            for r in order
        }
        for future in as_completed(futures):
            run = futures[future]
            _write_run_files(runs_dir / run.run_id, future.result())
            done += 1
            if progress:
                progress(done, len(runs))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def collect_trials(runs: list[PlannedRun], runs_dir: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(runs_dir / r.run_id / "trials.parquet") for r in runs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare(
    spec: ExperimentSpec,
    profile_name: str,
    *,
    out: Path | None = None,
    scheduler: str | None = None,
    shared_store_path: Path | None = None,
    skip: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CompareResult:
    """The Python API behind ``hpo2nas compare``: plan, run on Dask, collect, report.

    ``skip`` maps optimizer labels to leave out (this time) to the reason the report gives.
    """
    from benchmarks import data_root, open_benchmark

    start = time.perf_counter()
    profile = spec.profile(profile_name)
    bench = open_benchmark(spec.store, root=shared_store_path)
    runs, excluded = plan_runs(spec, profile, bench, skip)
    if not runs:
        raise BadInputError(f"spec {spec.name}: no optimizer can run in profile {profile.name!r}")
    out = Path(out or spec.output / profile.name)
    runs_dir = out / "runs"
    store_path = Path(shared_store_path or data_root()) / spec.store
    run_grid(runs, runs_dir, store_path=store_path, checksum=bench.checksum, scheduler=scheduler,
             shared_store_path=shared_store_path, progress=progress)
    trials = collect_trials(runs, runs_dir)
    from harness.atomic import atomic_write, staged_folder

    # Every output file is written before any replaces the earlier one: a failure half-way
    # (a full disk) leaves the earlier report whole rather than new figures beside an old text.
    with staged_folder(out, last=("report.html", "report.md")) as staging:
        atomic_write(staging / "trials.parquet", lambda tmp: trials.to_parquet(tmp, index=False))
        report = out / _report(spec, profile, bench, trials, excluded, runs_dir, staging,
                               time.perf_counter() - start).name
    if spec.export_deepcave:
        from harness.export_deepcave import export_deepcave

        export_deepcave(runs_dir, out / "deepcave", force=True)
    return CompareResult(out=out, trials=trials, report=report, excluded=excluded, wall_s=time.perf_counter() - start)


def _report(spec, profile, bench, trials, excluded, runs_dir, out, wall_s) -> Path:
    """Hand the records to the report writer (it reads records and this context only)."""
    import json

    from harness.report import ReportContext, machine_facts, write_report
    from harness.transfer import transfer_section

    notes: dict[str, list[str]] = {}
    store_notes: set[str] = set()
    for folder in sorted(runs_dir.iterdir()):
        if (folder / "run.json").exists():
            body = json.loads((folder / "run.json").read_text())
            label = body["config"].get("label") or body["config"]["optimizer"]
            notes.setdefault(label, sorted(set(body.get("notes", []))))
            store_notes.update(body.get("store", {}).get("notes", ()))  # set by runs that used a lower schedule
    datasets = tuple(sorted(set(trials["dataset"])))
    extra = list(transfer_section(trials, bench, out, datasets=spec.transfer_datasets)) if spec.transfer_datasets else []
    if len(spec.objectives) > 1:
        from benchmarks import exact_front
        from harness.pareto_report import pareto_section

        fronts = {d: exact_front(bench, d, spec.objectives) for d in datasets}
        extra += pareto_section(trials, fronts, {d: bench.splits(d) for d in datasets}, out)
    if len(spec.workers) > 1:
        from harness.parallel_report import parallel_section

        base_of = {worker_label(e.label, w, spec.workers): e.label for e in spec.optimizers for w in spec.workers}
        for d in datasets:
            extra += parallel_section(trials[trials["dataset"] == d], base_of, spec.regret_target,
                                      bench.splits(d)["valid_acc"].split(" (")[0], out)
    if spec.paper_table:
        from harness.paper import paper_section

        extra = [*paper_section(trials, bench, out, spec.paper_table), *extra]
    rule = BUDGET_RULE
    if spec.search_fidelity is not None:
        rule += (f" The search sees fidelities up to {spec.search_fidelity} only (its signal is the validation "
                 f"accuracy there); incumbents and final cells are reported at the store's highest fidelity.")
    if store_notes:  # some runs used the lower schedule: say how it is charged (the store's notes are listed apart)
        rule = " ".join([rule, SCHEDULE_RULE])
    context = ReportContext(
        spec=spec.name,
        profile=profile.name,
        store=bench.name,
        store_checksum=bench.checksum,
        budget=profile.budget_text(),
        budget_rule=rule,
        store_notes=tuple(sorted(store_notes)),
        focus=spec.focus,
        baselines=tuple(worker_label(b, min(spec.workers), spec.workers) for b in spec.baselines),
        datasets=datasets,
        optimum={d: bench.best(d).valid_acc for d in datasets},
        splits={d: bench.splits(d) for d in datasets},
        excluded=list(excluded),
        notes=notes,
        machine=machine_facts(),
        wall_time_s=wall_s,
        reference=worker_label(spec.reference, min(spec.workers), spec.workers),
        extra=extra,
    )
    return write_report(trials, context, out)


BUDGET_RULE = (
    "Every optimizer is charged by one rule: a trial costs the table's train time to its fidelity "
    "(simulated seconds), 1 evaluation, or fidelity/max full-fidelity equivalents; a trial starts only "
    "if the budget left covers its whole cost, and the first trial that does not fit ends the run "
    "(no skipping ahead, no overshoot). Pruned trials pay up to the epoch where they stopped."
)
SCHEDULE_RULE = (
    "On a schedule axis (the 12- and 200-epoch schedules) each schedule is its own training run from "
    "scratch: a promotion to 200 epochs pays the full 200-epoch run, and a trial a pruner watches pays its "
    "12-epoch run plus, if the pruner lets it continue, the full 200-epoch run."
)

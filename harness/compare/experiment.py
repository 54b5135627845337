"""Compare optimizers: fan a spec's (optimizer, dataset, seed) grid out on Dask, then report.

Each run is one Dask task. Workers receive the store from the client (the default store is a
few MB) unless a shared store path is named, run in a private folder, and send the run's
files back; the client writes them into ``<out>/runs/<run_id>/`` atomically. Finished runs
are never redone, so an interrupted compare resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from adapters.bounds import check
from adapters.files import TEMP_MARK, atomic_write_bytes, owned_temp_dir, replace_folder, sibling_name, sweep_orphans
from adapters.files import atomic_write
from benchmarks.registry import LIVE
from harness.running.devices import pin_worker
from harness.running.folders import staged_folder, writable_folder
from harness.running.records import LOCK, load_trials, read_run_json, run_id_for, run_lock
from harness.running.refusals import refusals
from harness.running.run_config import SPEC_SETTINGS, RunConfig
from harness.running.signals import sigterm_as_interrupt
from harness.running.spec import ExperimentSpec, Profile
from adapters.types import BadInputError
from harness.compare.measured import LIVE_RULE, measured_optimum, open_spec_benchmark, trains, with_measured_regret

__all__ = ["PlannedRun", "plan_runs", "run_grid", "compare", "CompareResult"]

#: Prefix of the private folder a worker runs each run in (see ``adapters.files.owned_temp_dir``).
RUN_TEMP_PREFIX = "hpo2nas-run-"
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
    #: The papers' table (markdown) where the spec asks for it (``paper_table``), else "".
    paper_table: str = ""
    #: Warnings the runs raised on their workers: first line -> how many runs raised it.
    warnings: dict[str, int] = field(default_factory=dict)


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


def _needs_run(folder: Path) -> str | None:
    """None when ``folder`` holds a complete, readable run; else why it must be run ("" if it never finished)."""
    try:
        record = read_run_json(folder)
        if record is None or record["status"] != "complete":
            return ""
        if not (folder / "trials.parquet").is_file():
            return f"{folder / 'trials.parquet'} is missing"
        trials = load_trials(folder)
    except BadInputError as exc:
        return str(exc)
    if record.get("n_trials", len(trials)) != len(trials):
        return f"{folder / 'trials.parquet'} holds {len(trials)} trials, run.json says {record['n_trials']}"
    return None


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
        atomic_write_bytes(staging / store_name / rel, data)
    root.mkdir(exist_ok=True)
    try:
        os.replace(staging / store_name, root / store_name)  # another worker may have won the race
    except OSError:
        pass
    shutil.rmtree(staging, ignore_errors=True)
    return root


def _pin_to_device() -> None:
    """A live run trains: pin this Dask worker to its own GPU, where there are GPUs (a local
    cluster's workers are numbered 0..N-1; an external cluster's workers are pinned by whoever starts them)."""
    from distributed import get_worker

    name = get_worker().name
    if isinstance(name, int):
        pin_worker(name)


def _run_task(config: dict[str, Any], checksum: str, payload: dict[str, bytes] | None,
              shared_root: str | None) -> tuple[dict[str, bytes], list[str]]:
    """One run on a worker; returns the run folder's files (relative path -> bytes) and the first line of
    each warning the run raised (the client reports them once each, rather than every worker printing
    Python's multi-line form)."""
    from harness.running.runner import execute_run

    if config.get("benchmark") == LIVE:
        _pin_to_device()
    root = _worker_root(config["store"], checksum, payload, shared_root)
    with owned_temp_dir(RUN_TEMP_PREFIX) as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        out = Path(tmp) / "run"
        execute_run(RunConfig.from_dict(config), out, root=root)
        files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK}
    return files, sorted({str(w.message).splitlines()[0] if str(w.message) else w.category.__name__ for w in caught})


def _write_run_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write a run's files into a hidden sibling, then swap it in; the old folder stays until the new is in place."""
    staging = sibling_name(folder)
    staging.mkdir()
    try:
        for rel, data in files.items():
            atomic_write_bytes(staging / rel, data)
        replace_folder(staging, folder)
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
    notice: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Run every planned run not already complete in ``runs_dir``, on Dask.

    A run whose records are damaged (run.json or trials.parquet unreadable, or off their
    schema) is named through ``notice`` and run again; its folder is replaced only once the
    new run's files are complete. The caller holds ``runs_dir``'s compare lock, so staging
    folders a killed compare left there are removed first. Returns the warnings the runs raised
    (first line -> how many runs raised it).
    """
    for leftover in runs_dir.glob(f".*{TEMP_MARK}*"):  # a compare killed while swapping a run in (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    reasons = {r.run_id: _needs_run(runs_dir / r.run_id) for r in runs}
    todo = [r for r in runs if reasons[r.run_id] is not None]
    for run in todo:
        if reasons[run.run_id] and notice:
            notice(f"redoing damaged run {run.run_id}: {reasons[run.run_id]}")
    done = len(runs) - len(todo)
    warned: dict[str, int] = {}
    if progress:
        progress(done, len(runs))
    if not todo:
        return warned
    return _run_on_dask(todo, runs_dir, done, len(runs), warned, store_path=store_path, checksum=checksum,
                        scheduler=scheduler, shared_store_path=shared_store_path, n_workers=n_workers,
                        progress=progress)


def _run_on_dask(
    todo: list[PlannedRun], runs_dir: Path, done: int, total: int, warned: dict[str, int], *, store_path: Path,
    checksum: str, scheduler: str | None, shared_store_path: Path | None, n_workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> dict[str, int]:
    """Run ``todo`` on a Dask cluster (``scheduler``'s, or a local one closed again however this ends);
    ``warned`` gathers the runs' warnings."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = _connect(scheduler)
    else:
        # CRITICAL: a failed task is reported once, as one line below, not as the workers' ERROR log blocks;
        # what a worker logs besides is shutdown noise (heartbeats to a scheduler that closed first, after
        # Ctrl-C or SIGTERM). The scheduler's HTTP server (no dashboard here) takes another port when 8787
        # is busy; its three-line warning about that says nothing this run needs.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL,
            )
        client = Client(cluster)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)  # once a cluster is there: an unreachable one leaves nothing
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
            files, raised = _task_result(future, run)
            _write_run_files(runs_dir / run.run_id, files)
            for message in raised:
                warned[message] = warned.get(message, 0) + 1
            done += 1
            if progress:
                progress(done, total)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            sweep_orphans(RUN_TEMP_PREFIX)  # the workers are gone: a run cut short left its folder
    return warned


def check_scheduler(address: str) -> str:
    """``address`` if it has the form of a Dask scheduler address (``tcp://HOST:PORT``), else BadInputError."""
    if not re.fullmatch(r"(tcp|tls|inproc|ucx)://[^\s/]+", address):
        raise BadInputError(f"--scheduler {address!r} is not a Dask scheduler address such as tcp://127.0.0.1:8786")
    return address


def _connect(address: str):
    """A client of the scheduler at ``address``; an unreachable one is one line, not Dask's traceback."""
    from dask.distributed import Client

    try:
        return Client(check_scheduler(address), timeout=15)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def _task_result(future, run: PlannedRun) -> tuple[dict[str, bytes], list[str]]:
    """A finished task's files and warnings; a failed task is one line that names the run (its folder is
    not written)."""
    try:
        return future.result()
    except BadInputError as exc:
        raise BadInputError(f"run {run.run_id}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any library's failure in a worker: reported by run, one line
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise BadInputError(f"run {run.run_id} failed on its worker: {type(exc).__name__}: {reason}") from None


def collect_trials(runs: list[PlannedRun], runs_dir: Path) -> pd.DataFrame:
    frames = [load_trials(runs_dir / r.run_id) for r in runs]
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
    notice: Callable[[str], None] | None = None,
) -> CompareResult:
    """The Python API behind ``hpo2nas compare``: plan, run on Dask, collect, report.

    ``skip`` maps optimizer labels to leave out (this time) to the reason the report gives.
    One compare at a time holds ``out`` (``run_lock``): a second is refused at once. SIGTERM
    stops it as Ctrl-C does, so its cluster and temporary folders are cleaned up.
    ``notice`` is told, in one line each, of damaged runs that are redone.
    """
    from benchmarks import data_root

    start = time.perf_counter()
    if scheduler:
        _connect(scheduler).close()  # malformed or unreachable: refused before the output folder is made
    profile = spec.profile(profile_name)
    bench = open_spec_benchmark(spec, shared_store_path)
    runs, excluded = plan_runs(spec, profile, bench, skip)
    if not runs:
        raise BadInputError(f"spec {spec.name}: no optimizer can run in profile {profile.name!r}")
    out = Path(out or spec.output / profile.name)
    with run_lock(writable_folder(out, "compare output folder"), holder="compare"), sigterm_as_interrupt():
        runs_dir = out / "runs"
        store_path = Path(shared_store_path or data_root()) / spec.store
        # a benchmark that trains ships no store to the workers: they open it from the runs' recorded options
        shared = shared_store_path or (Path(data_root()) if trains(bench) else None)
        warned = run_grid(runs, runs_dir, store_path=store_path, checksum=bench.checksum, scheduler=scheduler,
                          shared_store_path=shared, progress=progress, notice=notice)
        trials = collect_trials(runs, runs_dir)
        if trains(bench):  # no table: regret against the best accuracy the runs measured
            trials = with_measured_regret(trials, measured_optimum(trials))
        # Every output file is written before any replaces the earlier one: a failure half-way
        # (a full disk) leaves the earlier report whole rather than new figures beside an old text.
        with staged_folder(out, last=("report.html", "report.md")) as staging:
            atomic_write(staging / "trials.parquet", lambda tmp: trials.to_parquet(tmp, index=False))
            written, paper_table = _report(spec, profile, bench, trials, excluded, runs, runs_dir, staging,
                                           time.perf_counter() - start)
            report = out / written.name
        if spec.export_deepcave:
            from harness.exports.deepcave import export_deepcave

            export_deepcave(runs_dir, out / "deepcave", force=True, only={r.run_id for r in runs})
    return CompareResult(out=out, trials=trials, report=report, excluded=excluded, wall_s=time.perf_counter() - start,
                         paper_table=paper_table, warnings=warned)


def _report(spec, profile, bench, trials, excluded, runs, runs_dir, out, wall_s) -> tuple[Path, str]:
    """Hand the records to the report writer (it reads records and this context only).

    Returns the report's path and the papers' table as markdown ("" where the spec has none).

    Only the planned runs' records are read: anything else under ``runs/`` is not this grid's.
    """
    from harness.reporting.report import ReportContext, machine_facts, write_report
    from harness.reporting.transfer import transfer_section

    notes: dict[str, list[str]] = {}
    store_notes: set[str] = set()
    for folder in sorted({runs_dir / r.run_id for r in runs}):
        body = read_run_json(folder)
        if body is not None:
            label = body["config"].get("label") or body["config"]["optimizer"]
            notes.setdefault(label, sorted(set(body.get("notes", []))))
            store_notes.update(body.get("store", {}).get("notes", ()))  # set by runs that used a lower schedule
    datasets = tuple(sorted(set(trials["dataset"])))
    extra = list(transfer_section(trials, bench, out, datasets=spec.transfer_datasets)) if spec.transfer_datasets else []
    if len(spec.objectives) > 1:
        from benchmarks import exact_front
        from harness.reporting.pareto_report import pareto_section

        fronts = {d: exact_front(bench, d, spec.objectives) for d in datasets}
        extra += pareto_section(trials, fronts, {d: bench.splits(d) for d in datasets}, out)
    if len(spec.workers) > 1:
        from harness.reporting.parallel_report import parallel_section

        base_of = {worker_label(e.label, w, spec.workers): e.label for e in spec.optimizers for w in spec.workers}
        for d in datasets:
            extra += parallel_section(trials[trials["dataset"] == d], base_of, spec.regret_target,
                                      bench.splits(d)["valid_acc"].split(" (")[0], out)
    paper = []
    if spec.paper_table:
        from harness.reporting.paper import paper_section

        paper = paper_section(trials, bench, out, spec.paper_table)
        extra = [*paper, *extra]
    rule = LIVE_RULE if trains(bench) else BUDGET_RULE
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
        space=bench.space,
        budget=profile.budget_text(),
        budget_rule=rule,
        store_notes=tuple(sorted(store_notes)),
        focus=spec.focus,
        baselines=tuple(worker_label(b, min(spec.workers), spec.workers) for b in spec.baselines),
        datasets=datasets,
        optimum=measured_optimum(trials) if trains(bench) else {d: bench.best(d).valid_acc for d in datasets},
        splits={d: bench.splits(d) for d in datasets},
        excluded=list(excluded),
        notes=notes,
        machine=machine_facts(),
        wall_time_s=wall_s,
        reference=worker_label(spec.reference, min(spec.workers), spec.workers),
        extra=extra,
    )
    from harness.reporting.document import Table, to_markdown

    table = to_markdown(b for b in paper if isinstance(b, Table)).rstrip("\n") if paper else ""
    return write_report(trials, context, out), table


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

"""Compare optimizers: plan a spec's grid, run it on Dask, then report (``hpo2nas compare``'s Python API).

Planning lives in ``harness.compare.planning`` and execution in ``harness.compare.grid``; this
module holds the command's orchestration and hands the records to the report writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adapters.files import atomic_write
from adapters.protocols import task_objective, task_space
from adapters.types import BadInputError
from harness.compare.grid import collect_trials, connect, run_grid
from harness.compare.measured import LIVE_RULE, measured_optimum, with_measured_regret
from harness.compare.planning import open_benchmarks, open_spec_benchmark, plan_runs, worker_label
from harness.running.folders import staged_folder, writable_folder
from harness.running.live_pricing import trains
from harness.running.records import read_run_json
from harness.running.run_folder import run_lock
from harness.running.signals import sigterm_as_interrupt
from harness.running.spec import ExperimentSpec

__all__ = ["compare", "CompareResult"]


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
        connect(scheduler).close()  # malformed or unreachable: refused before the output folder is made
    profile = spec.profile(profile_name)
    bench = open_spec_benchmark(spec, shared_store_path)  # the spec's benchmark (NB201's store: shipped to the workers)
    runs, excluded = plan_runs(spec, profile, bench, skip, root=shared_store_path)
    benches = open_benchmarks(spec, profile, bench, root=shared_store_path)
    bench_of = {run.config.dataset: benches[run.config.benchmark] for run in runs}
    if not runs:
        raise BadInputError(f"spec {spec.name}: no optimizer can run in profile {profile.name!r}")
    out = Path(out or spec.output / profile.name)
    with run_lock(writable_folder(out, "compare output folder"), holder="compare"), sigterm_as_interrupt():
        runs_dir = out / "runs"
        store_path = Path(shared_store_path or data_root()) / spec.store
        # a benchmark that trains ships no store to the workers: they open it from the runs' recorded options
        shared = shared_store_path or (Path(data_root()) if trains(bench) else None)
        grid = run_grid(runs, runs_dir, store_path=store_path, checksum=bench.checksum, scheduler=scheduler,
                          shared_store_path=shared, progress=progress, notice=notice)
        trials = collect_trials(runs, runs_dir)
        if trains(bench):  # no table: regret against the best accuracy the runs measured
            trials = with_measured_regret(trials, measured_optimum(trials))
        # Every output file is written before any replaces the earlier one: a failure half-way
        # (a full disk) leaves the earlier report whole rather than new figures beside an old text.
        with staged_folder(out, last=("report.html", "report.md")) as staging:
            atomic_write(staging / "trials.parquet", lambda tmp: trials.to_parquet(tmp, index=False))
            lead = _suite_lead(spec, profile, trials, staging, shared_store_path)
            written, paper_table = _report(spec, profile, bench, bench_of, trials, excluded, runs, runs_dir, staging,
                                           time.perf_counter() - start, lead, reused=grid.reused)
            report = out / written.name
        if spec.export_deepcave:
            from harness.exports.deepcave import export_deepcave

            export_deepcave(runs_dir, out / "deepcave", force=True, only={r.run_id for r in runs})
    return CompareResult(out=out, trials=trials, report=report, excluded=excluded, wall_s=time.perf_counter() - start,
                         paper_table=paper_table, warnings=grid.warned)


def _suite_lead(spec: ExperimentSpec, profile, trials: pd.DataFrame, out: Path, root: Path | None) -> list:
    """A suite's sections across tasks, for a spec that names benchmark/task pairs and searches more than one.

    Each task's optimum and median (normalised regret's 0 and 1) are read from its benchmark here;
    the sections themselves read only the trials (``harness.reporting.suite_report``).
    """
    tasks = spec.tasks_for(profile)
    if not (spec.tasks or profile.tasks) or len(tasks) < 2:
        return []
    from harness.compare.suite_facts import suite_facts
    from harness.reporting.suite_report import suite_section

    facts = suite_facts([(t.benchmark, t.dataset) for t in tasks], root=root, store=spec.store)
    return suite_section(trials, facts, out)


def _report(spec, profile, bench, bench_of, trials, excluded, runs, runs_dir, out, wall_s, lead=(),
            reused: int = 0) -> tuple[Path, str]:
    """Hand the records to the report writer (it reads records and this context only).

    ``lead`` are sections placed before the per-dataset ones (a suite's results across tasks).

    ``bench`` is the spec's benchmark (the transfer and papers' analyses read it); ``bench_of`` maps
    each searched dataset to its benchmark (its optimum, splits and space).

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

        fronts = {d: exact_front(bench_of[d], d, spec.objectives) for d in datasets}
        extra += pareto_section(trials, fronts, {d: bench_of[d].splits(d) for d in datasets}, out)
    if len(spec.workers) > 1:
        from harness.reporting.parallel_report import parallel_section

        base_of = {worker_label(e.label, w, spec.workers): e.label for e in spec.optimizers for w in spec.workers}
        for d in datasets:
            extra += parallel_section(trials[trials["dataset"] == d], base_of, spec.regret_target,
                                      bench_of[d].splits(d)["valid_acc"].split(" (")[0], out)
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
        spaces={d: task_space(bench_of[d], d) for d in datasets},
        objectives={d: task_objective(bench_of[d], d) for d in datasets},
        budget=profile.budget_text({(r.config.benchmark, r.config.dataset) for r in runs}),
        budget_rule=rule,
        store_notes=tuple(sorted(store_notes)),
        focus=spec.focus,
        baselines=tuple(worker_label(b, min(spec.workers), spec.workers) for b in spec.baselines),
        datasets=datasets,
        optimum=measured_optimum(trials) if trains(bench) else {d: bench_of[d].best(d).valid_acc for d in datasets},
        splits={d: bench_of[d].splits(d) for d in datasets},
        excluded=list(excluded),
        notes=notes,
        machine=machine_facts(),
        wall_time_s=wall_s,
        reused_runs=(reused, len(runs)),
        reference=worker_label(spec.reference, min(spec.workers), spec.workers),
        extra=extra,
        lead=tuple(lead),
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

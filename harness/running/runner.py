"""The runner: the only loop that combines a benchmark, an optimizer and a budget.

Every optimizer is charged by the same rule (see :class:`harness.running.budget.Budget`), sees data
seeds drawn by the harness from its own generator, and is recorded in the same trial rows.
The parts: the run config (:mod:`harness.running.run_config`), the refusals (:mod:`harness.running.refusals`),
the pricing (:mod:`harness.running.pricing`) and the simulated clock (:mod:`harness.running.simulator`); here,
the trial loop that asks, tells and records, and :func:`execute_run`, which opens the store
and the run folder around it.

Resume replays the recorded trials through ask/tell (libraries' states cannot all be
pickled), checking that the optimizer asks for the same cells again; an optimizer that saved
its own state (Optuna's samplers, in their study) restores it instead, and the runner only
re-evaluates the trials it restored.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from adapters.optimizers.optuna_study import JOURNAL_NAME
from adapters.protocols import (Benchmark, Observation, Optimizer, SearchProblem, StudyTarget, Suggestion, capabilities,
                                optimizer_notes, optimizer_settings, task_objective, task_space)
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace, RandomSeed
from harness.running.folders import writable_folder
from harness.running.objectives import ObjectiveReader
from harness.running.expected import expected_trials
from harness.running.live_pricing import pricing_for
from harness.running.pricing import UNTRAINED, Outcome, Price, Report, watch_schedules
from harness.running.records import is_complete, objective_columns, study_attrs
from harness.running.run_folder import RunFolder, run_lock
from harness.running.results import RunResult
from harness.running.refusals import refuse
from harness.running.run_config import RunConfig
from harness.running.simulator import Simulator

__all__ = ["RunConfig", "RunResult", "run_trials", "execute_run", "Progress"]

#: Called as progress(trials, budget_fraction_used, incumbent_valid_acc).
Progress = Callable[[int, float, "float | None"], None]


class _Incumbent:
    """Best observed objective score (the value to maximise) at the highest fidelity evaluated so far."""

    def __init__(self) -> None:
        self.fidelity = -1
        self.observed = float("-inf")
        self.index: int | None = None

    def update(self, index: int, fidelity: int, observed: float) -> None:
        if fidelity > self.fidelity or (fidelity == self.fidelity and observed > self.observed):
            self.fidelity, self.observed, self.index = fidelity, observed, index


@dataclass(slots=True)
class _Trial:
    """A trial a worker has started: everything known at its start, told when it ends."""

    trial: int
    worker: int
    suggestion: Suggestion
    recorded: dict[str, Any] | None
    price: Price
    outcome: Outcome
    values: tuple[float, ...]
    cost_s: float
    fraction: float  # of a full-fidelity evaluation trained (what a "full" budget charges)
    overhead_s: float
    planned: float
    ask_s: float
    wall_extra: float
    busy_s: float
    start_s: float
    end_s: float


def run_trials(
    config: RunConfig,
    optimizer: Optimizer,
    benchmark: Benchmark,
    folder: RunFolder,
    *,
    replay: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``optimizer`` on ``benchmark`` with ``config.workers`` simulated workers until the
    budget's next trial does not fit.

    One event-driven simulated clock (:class:`harness.running.simulator.Simulator`): a trial occupies a
    worker for its simulated cost; the optimizer is asked whenever a worker is free (trials it
    was not told yet are still running); results are told in order of simulated finish time,
    ties broken by worker id, and every trial finishing at one instant is told before the
    freed workers ask again. With one worker this is the sequential loop: ask, evaluate, tell.
    Trials are recorded in the order they are told; ``trial`` numbers them in the order they
    were asked.

    Args:
        replay: on resume, the recorded trials of the interrupted run (None: a fresh run).
            The optimizer restores what it saved itself (``restore``); the rest are re-asked
            and re-told (checking the optimizer asks for the same cells). None are charged again.
    """
    return _run_on_axis(config, optimizer, benchmark, folder, refuse(optimizer, benchmark, config), replay=replay,
                        progress=progress)


def _run_on_axis(config: RunConfig, optimizer: Optimizer, benchmark: Benchmark, folder: RunFolder,
                 axis: FidelitySpace, *, replay: list[dict[str, Any]] | None, progress: Progress | None) -> RunResult:
    """:func:`run_trials` once the run is known not to be refused (``axis``: what the optimizer searches)."""
    expected = expected_trials(config.budget, benchmark, config.dataset, axis.max)
    folder.path.mkdir(parents=True, exist_ok=True)  # the study's default journal lives in it
    optimizer.setup(_search_problem(config, axis, folder, expected["n"], benchmark))
    caps = capabilities(optimizer)
    restore = optimizer.restore if caps.restores else None
    # A saved state after a told trial knows nothing of trials asked and not yet told, so with
    # several workers the optimizer restores nothing and every recorded trial is replayed.
    restored = restore(len(replay) if config.workers == 1 else 0) if replay is not None and restore is not None else 0
    loop = _TrialLoop(config, optimizer, benchmark, folder, axis, replay=replay or [], restored=restored,
                      progress=progress)
    loop.simulator.run(loop.start, loop.finish)
    if caps.closes:
        optimizer.close()  # lets a library write its own output folder once (SMAC's run history)
    folder.save_trials(loop.trials, objective=loop.objective.name)
    return RunResult(folder=folder.path, rows=loop.trials, budget_used=loop.simulator.spent,
                     workers=config.workers, compute_s=loop.simulator.compute, expected_trials=expected,
                     config=config.to_dict())


def _search_problem(config: RunConfig, axis: FidelitySpace, folder: RunFolder, expected: int,
                    benchmark: Benchmark) -> SearchProblem:
    """What the optimizer is told at set-up, derived from the run config."""
    study = StudyTarget(storage=config.storage or str(folder.path / JOURNAL_NAME), name=folder.run_id,
                        attrs=study_attrs(folder.run_id, config.to_dict()))
    return SearchProblem(fidelity=axis, seed=config.seed, workdir=folder.optimizer_dir,
                         max_trials=config.budget.max_trials(), expected_trials=expected, dataset=config.dataset,
                         objectives=config.objectives, study=study, workers=config.workers,
                         space=task_space(benchmark, config.dataset), objective=task_objective(benchmark, config.dataset))


class _TrialLoop:
    """One run's trials: on a free worker, ask (or restore) a trial and price it; at its end, tell and record it.

    The simulator calls :meth:`start` and :meth:`finish`; everything the two share (the trials
    asked, the last tell's time, the incumbent) is this object's state.
    """

    def __init__(self, config: RunConfig, optimizer: Optimizer, benchmark: Benchmark, folder: RunFolder,
                 axis: FidelitySpace, *, replay: list[dict[str, Any]], restored: int, progress: Progress | None):
        self.config, self.optimizer, self.benchmark, self.folder = config, optimizer, benchmark, folder
        self.dataset = config.dataset
        self.on_axis = frozenset(axis.values)
        self.axis_values = axis.values
        self.max_fid = axis.max
        self.pricing = pricing_for(benchmark, config.dataset, axis, continue_promotions=config.continue_promotions)
        self.simulator = Simulator(config.workers, config.budget)
        self.seed_policy = SEED_MEAN if config.data_seeds == "mean" else RandomSeed(config.seed)
        self.reader = ObjectiveReader(benchmark, config.dataset, config.objectives) if len(config.objectives) > 1 else None
        self.include_overhead = config.budget.include_overhead
        self.recorded = {int(row["trial"]): row for row in replay}
        self.restored = restored
        self.record = optimizer.record if capabilities(optimizer).records else None
        self.progress = progress
        #: The task's metric and direction: optimizers are told its score (maximised), records keep its value.
        self.objective = task_objective(benchmark, config.dataset)
        self.score = self.objective.score
        self.optimum = self.pricing.optimum()
        self.space = task_space(benchmark, config.dataset)
        self.incumbent = _Incumbent()
        self.trials: list[dict[str, Any]] = []
        self.saved = len(self.recorded)  # replayed trials are already in the journal
        self.asked = 0
        self.last_tell_s = 0.0

    def start(self, worker: int) -> _Trial | None:
        """Ask for the next trial on ``worker`` at the simulator's ``now``; None if it does not fit the budget."""
        trial = self.asked
        restoring = trial < self.restored  # the optimizer restored its state past this trial: no ask
        if restoring:
            suggestion, ask_s = self._restored_suggestion(trial), 0.0
        else:
            t0 = time.perf_counter()
            suggestion = self.optimizer.ask()
            ask_s = time.perf_counter() - t0
        index = self.pricing.row(suggestion.config)
        target = suggestion.fidelity if suggestion.fidelity is not None else self.max_fid
        if target not in self.on_axis:
            raise RuntimeError(f"{self.optimizer.name} asked for fidelity {target}, not on the axis {self.axis_values}")
        recorded = self.recorded.get(trial)
        if recorded is not None and not restoring:
            _check_replay(recorded, self.optimizer.name, trial, index, target, self.space.to_str(suggestion.config))
        pricing = self.pricing
        untrained = None
        if index == UNTRAINED:  # a configuration the source never trained: a failed trial, nothing queried
            price, untrained = pricing.untrained(target)
        else:
            price = pricing.price(index, target, self.seed_policy, suggestion.extra_cost_s, suggestion.intermediate)
        # Overhead: this ask plus the previous tell, both known before the trial starts.
        overhead_s = ask_s + self.last_tell_s if recorded is None else recorded["overhead_s"]
        planned = self.config.budget.cost(price.cost_s, price.fraction, overhead_s)
        if not self.simulator.fits(planned):
            return None
        if untrained is not None:
            outcome, wall_extra = untrained, 0.0
        elif restoring or suggestion.intermediate:
            outcome, wall_extra = self._stop(suggestion, price, recorded if restoring else None)
        else:  # no pruner watches it: it runs to its target
            outcome, wall_extra = pricing.completed(price), 0.0
        if outcome.valid_acc is None and outcome.status != "failed":
            raise RuntimeError(f"cell {index} has no validation accuracy on {self.dataset} at fidelity {outcome.fidelity}")
        if pricing.continue_promotions and untrained is None:
            pricing.trained(price, outcome)
        values = (self.reader.observe(index, outcome.result, self.score(outcome.valid_acc), outcome.data_seed)
                  if self.reader and untrained is None else ())
        busy_s = outcome.cost_s + (overhead_s if self.include_overhead else 0.0)  # how long it occupies the worker
        self.asked += 1
        now = self.simulator.now
        return _Trial(trial, worker, suggestion, recorded, price, outcome, values, outcome.cost_s, outcome.fraction,
                      overhead_s, planned, ask_s, wall_extra, busy_s, now, now + busy_s)

    def _restored_suggestion(self, trial: int) -> Suggestion:
        """The suggestion of a trial the optimizer restored itself, rebuilt from its record."""
        done = self.recorded[trial]
        # Only pruning optimizers restore (Optuna), and their suggestions are intermediate exactly
        # when they are multi-fidelity: on a schedule axis that decides which runs were charged.
        # the configuration it proposed (not its row's canonical one, nor a row at all where the source has none)
        config = self.space.from_str(done["arch_str"])
        return Suggestion(config, fidelity=done["fidelity_asked"], origin=done["origin"],
                          intermediate=bool(self.optimizer.multi_fidelity))

    def _stop(self, suggestion: Suggestion, price: Price, restored: dict[str, Any] | None) -> tuple[Outcome, float]:
        """Where a watched or restored trial stops, and the wall time of the pruning reports: run through,
        pruned by the optimizer, or (a restored trial, which the optimizer already knows) where its record says."""
        pricing = self.pricing
        if price.runs:  # a pruned search on a schedule axis
            if restored is not None:
                return pricing.stopped_after_schedule(price, [r.fidelity for r in price.runs].index(restored["fidelity"])), 0.0
            position, wall = watch_schedules(self._reporter(suggestion), price.runs)
            return pricing.stopped_after_schedule(price, position), wall
        if restored is not None:
            pruned = restored["status"] == "pruned"
            return (pricing.stopped_at_epoch(price, restored["fidelity"]) if pruned else pricing.completed(price)), 0.0
        fidelity, wall = pricing.watch(price, self._reporter(suggestion))
        return pricing.stopped_at_epoch(price, fidelity), wall

    def _reporter(self, suggestion: Suggestion) -> Report:
        report, score = self.optimizer.report, self.score
        return lambda fidelity, valid_acc: report(suggestion, fidelity, score(valid_acc))

    def finish(self, run: _Trial) -> None:
        """Tell the optimizer a trial's result and record it."""
        outcome = run.outcome
        if run.trial >= self.restored:
            t2 = time.perf_counter()
            # a failed training, or an untrained configuration, is told the worst accuracy (told_acc: 0%); failures
            # happen only where the objective is an accuracy (live training, NAS-Bench-Graph), so its score is the worst
            self.optimizer.tell(run.suggestion, Observation(valid_acc=self.score(outcome.told_acc), fidelity=outcome.fidelity,
                                                            cost_s=outcome.cost_s, status=outcome.status,
                                                            values=run.values))
            self.last_tell_s = time.perf_counter() - t2
        wall_s = run.ask_s + run.wall_extra + self.last_tell_s if run.recorded is None else run.recorded["wall_s"]
        charged = self.simulator.settle(run)
        row = self._row(run, wall_s, charged)
        trials = self.trials
        trials.append(row)
        if self.record is not None and len(trials) > self.restored:
            self.record(row)
        if self.progress:
            self.progress(len(trials), self.simulator.spent / self.config.budget.amount, row["incumbent_valid_acc"])
        if len(trials) % self.config.checkpoint_every == 0:
            self.folder.checkpoint(trials, self.saved)
            self.saved = len(trials)

    def _row(self, run: _Trial, wall_s: float, charged: float) -> dict[str, Any]:
        """The trial's record (see ``harness.running.records.TRIAL_COLUMNS``), with the incumbent after it."""
        outcome, index = run.outcome, run.price.index
        incumbent = self.incumbent
        if outcome.valid_acc is not None:
            incumbent.update(index, outcome.fidelity, self.score(outcome.valid_acc))
        inc_valid, inc_test = ((None, None) if incumbent.index is None else
                               self.pricing.final_values(incumbent.index, self.score(incumbent.observed)))
        row = {
            "trial": run.trial,
            "worker": run.worker,
            "index": index,
            "native_key": "" if index == UNTRAINED else self.space.native_key(index),
            "arch_str": self.space.to_str(run.suggestion.config),
            "canonical_id": UNTRAINED if index == UNTRAINED else self.space.canonical_key(index),
            "fidelity": outcome.fidelity,
            "fidelity_asked": run.price.target,
            "continued_from": run.price.start_fid,
            "valid_acc": outcome.valid_acc,
            "test_acc": outcome.test_acc,
            "data_seed": "" if outcome.result is None else outcome.result.seed,
            "cost_s": outcome.cost_s,
            "budget_charged": charged,
            "sim_start_s": run.start_s,
            "sim_end_s": run.end_s,
            "sim_compute_s": self.simulator.compute,
            "wall_s": wall_s,
            "overhead_s": run.overhead_s,
            "status": outcome.status,
            "origin": run.suggestion.origin,
            "incumbent_index": incumbent.index,
            "incumbent_valid_acc": inc_valid,
            "incumbent_test_acc": inc_test,
            "regret_valid": None if inc_valid is None or self.optimum is None else self.objective.regret(self.optimum, inc_valid),
        }
        extra = self.pricing.columns(outcome)  # a training's measurements; a resumed trial keeps its record's
        row.update(extra if run.recorded is None else {key: run.recorded[key] for key in extra})
        if self.reader:
            row.update(self.reader.columns(index, run.values) if index != UNTRAINED else
                       dict.fromkeys(objective_columns(self.config.objectives)))
        return row


def _check_replay(recorded: dict[str, Any], name: str, trial: int, index: int, target: int, arch_str: str) -> None:
    """Refuse a resume whose optimizer asks for something else than the record says it asked (for a
    configuration without a row, the configuration itself)."""
    if (recorded["index"] != index or recorded["fidelity_asked"] != target
            or (index == UNTRAINED and recorded["arch_str"] != arch_str)):
        raise BadInputError(
            f"resume diverged at trial {trial}: {name} asked for cell {index} at {target}, the record has "
            f"cell {recorded['index']} at {recorded['fidelity_asked']}; the optimizer is not deterministic"
        )


def execute_run(
    config: RunConfig, out: Path, *, resume: bool = False, progress: Progress | None = None, root: Path | None = None
) -> RunResult:
    """The Python API behind ``hpo2nas run``: open the store, build the optimizer, run, record.

    On resume the optimizer's own output folder is regenerated and the recorded trials are
    replayed through ask/tell (cost: one ask/tell per recorded trial, no table charges).
    ``out`` must be writable (checked first), and one run at a time holds it (``run_lock``):
    a second run on the same folder is refused at once.
    """
    out = Path(out)
    existed = out.exists()
    with run_lock(writable_folder(out, "run folder")):
        try:
            return _execute_locked(config, out, resume=resume, progress=progress, root=root)
        except BadInputError:
            if not existed and not (out / "run.json").exists():  # refused before it began: leave nothing
                shutil.rmtree(out, ignore_errors=True)
            raise


def _execute_locked(
    config: RunConfig, out: Path, *, resume: bool, progress: Progress | None, root: Path | None
) -> RunResult:
    from adapters.optimizers import make_optimizer
    from benchmarks import resolve_dataset

    benchmark = config.open_benchmark(root=root, workdir=out)
    dataset = resolve_dataset(config.dataset, benchmark.datasets)
    if dataset != config.dataset:
        config = RunConfig(**{**config.__dict__, "dataset": dataset})
    optimizer = make_optimizer(config.optimizer, config.options)
    axis = refuse(optimizer, benchmark, config)  # before the folder is claimed: a refused run leaves nothing
    objective = task_objective(benchmark, dataset)
    folder = RunFolder(out, config.to_dict())
    replay = folder.claim(resume=resume)
    if resume and is_complete(out):  # a finished run: nothing to replay, and its records stay as they are
        return RunResult.from_folder(out)
    fresh = not replay and not (Path(out) / "run.json").exists()
    if folder.optimizer_dir.exists():
        shutil.rmtree(folder.optimizer_dir)
    # the split behind every metric goes with the run (a store searched on a test split says so here)
    store: dict[str, Any] = {"benchmark": config.benchmark, "name": benchmark.name, "checksum": benchmark.checksum,
                             "space": task_space(benchmark, dataset).name, "objective": objective.to_dict(),
                             "splits": benchmark.splits(dataset)}
    folder.write_run_json({"status": "running", "store": store, "optimizer_settings": optimizer_settings(optimizer),
                           "multi_fidelity": optimizer.multi_fidelity})
    try:
        result = _run_on_axis(config, optimizer, benchmark, folder, axis, replay=replay if resume else None,
                              progress=progress)
    except BadInputError:
        if fresh and not folder.recorded_trials():  # refused before any trial (e.g. in setup): no half-made run
            shutil.rmtree(out, ignore_errors=True)
        raise
    space = benchmark.fidelity_space(dataset)
    if space.kind == "schedule" and (optimizer.multi_fidelity or any(t["fidelity"] != space.max for t in result.rows)):
        store["notes"] = list(benchmark.manifest.source.get("notes", ()))  # e.g. how the 12-epoch time is estimated
    folder.write_run_json({"status": "complete", "store": store, "optimizer_settings": optimizer_settings(optimizer),
                           "multi_fidelity": optimizer.multi_fidelity, "notes": optimizer_notes(optimizer),
                           "n_trials": len(result.rows), "budget_used": result.budget_used,
                           "expected_trials": result.expected_trials, "workers": config.workers,
                           "wall_clock_s": max((t["sim_end_s"] for t in result.rows), default=0.0),
                           "compute_s": result.compute_s, "utilisation": result.utilisation})
    return result

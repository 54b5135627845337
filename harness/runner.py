"""The runner: the only loop and the only simulated clock.

Every optimizer is charged by the same rule (see :class:`harness.budget.Budget`), sees data
seeds drawn by the harness from its own generator, and is recorded in the same trial rows.
Resume replays the recorded trials through ask/tell (libraries' states cannot all be
pickled), checking that the optimizer asks for the same cells again; an optimizer that saved
its own state (Optuna's samplers, in their study) restores it instead, and the runner only
re-evaluates the trials it restored.
"""

from __future__ import annotations

import heapq
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adapters import NUM_CELLS, Cell, canonical_ids
from adapters import parse_objectives
from harness.budget import Budget
from harness.objectives import ObjectiveReader, check_objectives
from adapters.optimizers._optuna_study import JOURNAL_NAME
from adapters.protocols import Benchmark, Observation, Optimizer, SearchProblem, StudyTarget, Suggestion
from harness.atomic import writable_folder
from harness.records import RunFolder, is_complete, run_lock, study_attrs
from harness.results import RunResult
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace, RandomSeed

__all__ = ["RunConfig", "RunResult", "run_trials", "execute_run", "expected_trials", "search_axis", "check_workers",
           "Progress"]

#: Called as progress(trials, budget_fraction_used, incumbent_valid_acc).
Progress = Callable[[int, float, "float | None"], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; two runs with equal configs have identical trials.

    ``label`` names the optimizer in records and reports (a spec may run one optimizer with
    different options under two labels). ``objectives`` names what is searched (see
    ``adapters.OBJECTIVES``); more than the accuracy makes a multi-objective search. ``workers``
    is the number of simulated workers sharing the simulated clock (see :func:`run_trials`). ``data_seeds`` is ``"random"`` (a draw per query from the run's own generator) or
    ``"mean"`` (seed-mean table values). ``continue_promotions`` lets a cell trained before
    to a lower fidelity continue (paying only the new epochs, on the same data seed);
    otherwise promotions retrain from scratch, as in the Hyperband/BOHB/DEHB papers. On a
    ``schedule`` axis (12- or 200-epoch schedules) there is nothing to continue: every
    schedule is its own training run, so ``continue_promotions`` is refused there.
    ``search_fidelity`` caps the fidelity axis the optimizer sees (NB201's protocol searches
    on the 12-epoch schedule): trials run at most there, while the incumbent is still reported
    at the store's highest fidelity (the 200-epoch seed mean).
    ``storage`` is the Optuna storage an Optuna sampler's run writes its study to (an RDB URL
    or a journal path); None means ``optuna.journal`` in the run folder.
    """

    optimizer: str
    dataset: str
    budget: Budget
    seed: int
    store: str = "default"
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    data_seeds: str = "random"
    continue_promotions: bool = False
    checkpoint_every: int = 100
    objectives: tuple[str, ...] = ("valid_acc",)
    search_fidelity: int | None = None
    storage: str | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives))
        if self.data_seeds not in ("random", "mean"):
            raise BadInputError(f"data_seeds must be 'random' or 'mean', got {self.data_seeds!r}")
        if self.checkpoint_every < 1:
            raise BadInputError("checkpoint_every must be at least 1")
        # The libraries seed numpy's generators with it, which take 0 .. 2**32 - 1 only.
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise BadInputError(f"seed must be an integer from 0 to {2**32 - 1}, got {self.seed!r}")
        if self.search_fidelity is not None and self.search_fidelity < 1:
            raise BadInputError(f"search_fidelity must be a positive fidelity, got {self.search_fidelity}")
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 1:
            raise BadInputError(f"workers must be a whole number of at least 1, got {self.workers!r}")

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RunConfig:
        """Inverse of :meth:`to_dict` (what run.json stores)."""
        budget = body["budget"]
        fields = {k: v for k, v in body.items() if k != "budget"}
        return cls(budget=Budget(budget["kind"], budget["amount"], budget["include_overhead"]), **fields)

    def to_dict(self) -> dict[str, Any]:
        # The objectives appear only when there are several: single-objective run ids stay as they were;
        # search_fidelity and storage only when set, for the same reason.
        multi = {"objectives": list(self.objectives)} if len(self.objectives) > 1 else {}
        extra = {} if self.search_fidelity is None else {"search_fidelity": self.search_fidelity}
        body = {
            "optimizer": self.optimizer,
            "label": self.label or self.optimizer,
            "options": dict(sorted(self.options.items())),
            "dataset": self.dataset,
            "budget": self.budget.to_dict(),
            "seed": self.seed,
            "store": self.store,
            "data_seeds": self.data_seeds,
            "continue_promotions": self.continue_promotions,
            "checkpoint_every": self.checkpoint_every,
            **multi,
            **extra,
            # Only when parallel: one worker keeps the run ids (and resumable folders) of before.
            **({"workers": self.workers} if self.workers != 1 else {}),
        }
        if self.storage is not None:
            body["storage"] = self.storage
        return body


class _Incumbent:
    """Best observed validation accuracy at the highest fidelity evaluated so far."""

    def __init__(self) -> None:
        self.fidelity = -1
        self.observed = float("-inf")
        self.index: int | None = None

    def update(self, index: int, fidelity: int, observed: float) -> None:
        if fidelity > self.fidelity or (fidelity == self.fidelity and observed > self.observed):
            self.fidelity, self.observed, self.index = fidelity, observed, index


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


def check_fidelity_axis(
    optimizer: Optimizer, benchmark: Benchmark, dataset: str, search_fidelity: int | None = None,
    continue_promotions: bool = False,
):
    """The axis the optimizer searches, or a clear refusal for a multi-fidelity optimizer without one
    (or for continuing promotions on a schedule axis, whose schedules are separate runs)."""
    fidelity_space = search_axis(benchmark, dataset, search_fidelity)
    if optimizer.multi_fidelity and not fidelity_space.multi_fidelity:
        raise BadInputError(
            f"{optimizer.name} is multi-fidelity but store {benchmark.name!r} has no fidelity axis on "
            f"{dataset} (only {fidelity_space.kind} {list(fidelity_space.values)}); import curves (NATS-Bench) first"
        )
    if continue_promotions and fidelity_space.kind == "schedule":
        raise BadInputError(
            f"continue_promotions needs an epoch axis; store {benchmark.name!r} has the {list(fidelity_space.values)}-epoch "
            f"schedules on {dataset}, separate training runs that a promotion retrains from scratch"
        )
    return fidelity_space


@dataclass
class _Running:
    """A trial a worker has started: everything known at its start, told when it ends."""

    trial: int
    worker: int
    suggestion: Suggestion
    recorded: dict[str, Any] | None
    index: int
    target: int
    start_fid: int
    stop_fid: int
    status: str
    observed: float
    observed_test: float | None
    values: tuple[float, ...]
    data_seed: Any
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

    One event-driven simulated clock: a trial occupies a worker for its simulated cost; the
    optimizer is asked whenever a worker is free (trials it was not told yet are still
    running); results are told in order of simulated finish time, ties broken by worker id,
    and every trial finishing at one instant is told before the freed workers ask again. With
    one worker this is the sequential loop: ask, evaluate, tell. Trials are recorded in the
    order they are told; ``trial`` numbers them in the order they were asked.

    Args:
        replay: on resume, the recorded trials of the interrupted run (None: a fresh run).
            The optimizer restores what it saved itself (``restore``); the rest are re-asked
            and re-told (checking the optimizer asks for the same cells). None are charged again.
    """
    dataset = config.dataset
    fidelity_space = check_fidelity_axis(optimizer, benchmark, dataset, config.search_fidelity, config.continue_promotions)
    schedules = fidelity_space.kind == "schedule"
    check_objectives(optimizer, benchmark, dataset, config.objectives)
    check_workers(optimizer, config.workers)
    reader = ObjectiveReader(benchmark, dataset, config.objectives) if len(config.objectives) > 1 else None
    max_fid = fidelity_space.max  # the highest fidelity searched; "full" fractions are of it
    store_max = benchmark.fidelity_space(dataset).max  # where the incumbent is reported
    budget = config.budget
    study = StudyTarget(storage=config.storage or str(folder.path / JOURNAL_NAME), name=folder.run_id,
                        attrs=study_attrs(folder.run_id, config.to_dict()))
    expected = expected_trials(budget, benchmark, dataset, max_fid)
    optimizer.setup(
        SearchProblem(fidelity=fidelity_space, seed=config.seed, workdir=folder.optimizer_dir,
                      max_trials=budget.max_trials(), expected_trials=expected["n"], dataset=config.dataset,
                      objectives=config.objectives, study=study, workers=config.workers)
    )
    restore = getattr(optimizer, "restore", None)
    # A saved state after a told trial knows nothing of trials asked and not yet told, so with
    # several workers the optimizer restores nothing and every recorded trial is replayed.
    restored = restore(len(replay) if config.workers == 1 else 0) if replay is not None and restore is not None else 0
    record = getattr(optimizer, "record", None)
    seed_policy = SEED_MEAN if config.data_seeds == "mean" else RandomSeed(config.seed)
    optimum = benchmark.best(dataset).valid_acc
    canon = canonical_ids().tolist()
    on_axis = frozenset(fidelity_space.values)
    final_cache: dict[int, tuple[float | None, float | None]] = {}
    trained: dict[int, tuple[int, Any]] = {}  # index -> (fidelity, data seed) for continuation
    incumbent = _Incumbent()
    recorded_by_trial = {int(row["trial"]): row for row in replay or ()}
    trials: list[dict[str, Any]] = []
    saved = len(recorded_by_trial)  # replayed trials are already in the journal
    free = list(range(config.workers))  # a heap of worker ids free at ``now``
    running: list[tuple[float, int, _Running]] = []  # a heap by (end time, worker id)
    now = used = reserved = compute = 0.0
    asked = 0
    last_tell_s = 0.0
    wall_clock_budget = budget.kind == "seconds"  # a seconds budget is simulated wall-clock time
    include_overhead = budget.include_overhead

    def cost_to(index: int, fidelity: int, seed: Any) -> float:
        result = benchmark.query(index, dataset, fidelity, seed)
        if result.train_time_s is not None:
            return result.train_time_s
        total = benchmark.query(index, dataset, store_max, seed).train_time_s or 0.0
        return total * fidelity / store_max

    def run_cost(run: Any) -> float:
        """The train time of one schedule's run (a query result), from the table where it has one."""
        if run.train_time_s is not None:
            return run.train_time_s
        return cost_to(run.index, run.fidelity, SEED_MEAN if run.seed == "mean" else run.seed)

    def start(worker: int) -> _Running | None:
        """Ask for the next trial on ``worker`` at ``now``; None if it does not fit the budget."""
        if asked < restored:  # the optimizer restored its state past this trial: no ask
            done = recorded_by_trial[asked]
            # Only pruning optimizers restore (Optuna), and their suggestions are intermediate exactly
            # when they are multi-fidelity: on a schedule axis that decides which runs were charged.
            suggestion = Suggestion(cell=Cell.from_index(done["index"]), fidelity=done["fidelity_asked"],
                                    origin=done["origin"], intermediate=bool(optimizer.multi_fidelity))
            ask_s = 0.0
        else:
            t0 = time.perf_counter()
            suggestion = optimizer.ask()
            ask_s = time.perf_counter() - t0
        cell = suggestion.cell
        index = cell.index
        target = suggestion.fidelity if suggestion.fidelity is not None else max_fid
        if target not in on_axis:
            raise RuntimeError(f"{optimizer.name} asked for fidelity {target}, not on the axis {fidelity_space.values}")
        recorded = recorded_by_trial.get(asked)
        if recorded is not None and asked >= restored:
            _check_replay(recorded, optimizer.name, asked, index, target)

        # Data seed: continue on the same seed when continuing training, otherwise a fresh draw.
        previous = trained.get(index) if config.continue_promotions else None
        start_fid = previous[0] if previous and previous[0] < target else 0
        first = benchmark.query(index, dataset, target, previous[1] if start_fid else seed_policy)
        data_seed = SEED_MEAN if first.seed == "mean" else first.seed
        target_cost = first.train_time_s if first.train_time_s is not None else cost_to(index, target, data_seed)
        start_cost = cost_to(index, start_fid, data_seed) if start_fid else 0.0  # already paid for
        full_cost_s = target_cost - start_cost + suggestion.extra_cost_s
        trained_fraction = (target - start_fid) / max_fid
        runs: list[Any] = []
        if schedules and suggestion.intermediate:
            # A pruned search on a schedule axis trains each schedule up to the target in turn, each
            # from scratch: the pruner sees the 12-epoch run's result, and continuing means a new
            # 200-epoch run, so the trial is charged every schedule it ran (never a continuation).
            runs = [benchmark.query(index, dataset, s, seed_policy) for s in fidelity_space.values if s < target]
            runs.append(first)
            full_cost_s = sum(run_cost(run) for run in runs) + suggestion.extra_cost_s
            trained_fraction = sum(run.fidelity for run in runs) / max_fid
        # Overhead: this ask plus the previous tell, both known before the trial starts.
        overhead_s = ask_s + last_tell_s if recorded is None else recorded["overhead_s"]
        planned = budget.cost(full_cost_s, trained_fraction, overhead_s)
        if not budget.fits(now if wall_clock_budget else used + reserved, planned):
            return None

        status, stop_fid, observed, observed_test = "ok", target, first.valid_acc, first.test_acc
        stop_run = first
        wall_extra = 0.0
        cost_s, fraction = full_cost_s, trained_fraction
        restored_prune = asked < restored and recorded["status"] == "pruned"
        if runs:
            if asked < restored:  # the optimizer already knows this trial: the record says where it stopped
                stop = [run.fidelity for run in runs].index(recorded["fidelity"])
            else:
                stop, wall_extra = _watch_schedules(optimizer, suggestion, runs)
            if stop < len(runs) - 1:
                done, stop_run = runs[: stop + 1], runs[stop]
                status, stop_fid = "pruned", stop_run.fidelity
                observed, observed_test = stop_run.valid_acc, stop_run.test_acc
                data_seed = SEED_MEAN if stop_run.seed == "mean" else stop_run.seed
                cost_s = sum(run_cost(run) for run in done) + suggestion.extra_cost_s
                fraction = sum(run.fidelity for run in done) / max_fid
        else:
            if restored_prune:
                status, stop_fid = "pruned", recorded["fidelity"]
            elif suggestion.intermediate and asked >= restored:
                pruned_at, wall_extra = _watch_epochs(optimizer, benchmark, suggestion, dataset, fidelity_space.values,
                                                      start_fid, target, data_seed)
                if pruned_at is not None:
                    status, stop_fid = "pruned", pruned_at
            if stop_fid != target:
                result = benchmark.query(index, dataset, stop_fid, data_seed)
                observed, observed_test = result.valid_acc, result.test_acc
                cost_s = cost_to(index, stop_fid, data_seed) - start_cost + suggestion.extra_cost_s
                fraction = (stop_fid - start_fid) / max_fid
        if observed is None:
            raise RuntimeError(f"cell {index} has no validation accuracy on {dataset} at fidelity {stop_fid}")
        if config.continue_promotions:
            trained[index] = (max(stop_fid, start_fid), data_seed)
        values = reader.observe(index, stop_run, observed, data_seed) if reader else ()
        busy_s = cost_s + (overhead_s if include_overhead else 0.0)  # how long it occupies the worker
        return _Running(asked, worker, suggestion, recorded, index, target, start_fid, stop_fid, status, observed,
                        observed_test, values, stop_run.seed, cost_s, fraction, overhead_s, planned, ask_s, wall_extra,
                        busy_s, now, now + busy_s)

    def finish(run: _Running) -> None:
        """Tell the optimizer a trial's result and record it."""
        nonlocal last_tell_s, used, reserved, compute, saved
        suggestion = run.suggestion
        if run.trial >= restored:
            t2 = time.perf_counter()
            optimizer.tell(suggestion, Observation(valid_acc=run.observed, fidelity=run.stop_fid, cost_s=run.cost_s,
                                                   status=run.status, values=run.values))
            last_tell_s = time.perf_counter() - t2
        wall_s = run.ask_s + run.wall_extra + last_tell_s if run.recorded is None else run.recorded["wall_s"]
        charged = budget.cost(run.cost_s, run.fraction, run.overhead_s)
        used += charged
        reserved -= run.planned
        compute += run.busy_s
        incumbent.update(run.index, run.stop_fid, run.observed)
        if incumbent.index not in final_cache:
            final = benchmark.query(incumbent.index, dataset, None, SEED_MEAN)
            final_cache[incumbent.index] = (final.valid_acc, final.test_acc)
        inc_valid, inc_test = final_cache[incumbent.index]
        trials.append(
            {
                "trial": run.trial,
                "worker": run.worker,
                "index": run.index,
                "arch_str": suggestion.cell.arch_str,
                "canonical_id": canon[run.index],
                "fidelity": run.stop_fid,
                "fidelity_asked": run.target,
                "continued_from": run.start_fid,
                "valid_acc": run.observed,
                "test_acc": run.observed_test,
                "data_seed": run.data_seed,
                "cost_s": run.cost_s,
                "budget_charged": charged,
                "sim_start_s": run.start_s,
                "sim_end_s": run.end_s,
                "sim_compute_s": compute,
                "wall_s": wall_s,
                "overhead_s": run.overhead_s,
                "status": run.status,
                "origin": suggestion.origin,
                "incumbent_index": incumbent.index,
                "incumbent_valid_acc": inc_valid,
                "incumbent_test_acc": inc_test,
                "regret_valid": None if inc_valid is None else optimum - inc_valid,
            }
        )
        if reader:
            trials[-1].update(reader.columns(run.index, run.values))
        if record is not None and len(trials) > restored:
            record(trials[-1])
        if progress:
            progress(len(trials), (now if wall_clock_budget else used) / budget.amount, inc_valid)
        if len(trials) % config.checkpoint_every == 0:
            folder.checkpoint(trials, saved)
            saved = len(trials)

    stopped = False  # the first trial that does not fit ends the asking: no skipping ahead
    while True:
        while free and not stopped:
            run = start(free[0])
            if run is None:
                stopped = True
                break
            heapq.heappop(free)
            asked += 1
            reserved += run.planned
            heapq.heappush(running, (run.end_s, run.worker, run))
        if not running:
            break
        now = running[0][0]
        while running and running[0][0] == now:
            _, worker, run = heapq.heappop(running)
            finish(run)
            heapq.heappush(free, worker)
    close = getattr(optimizer, "close", None)
    if close is not None:
        close()  # lets a library write its own output folder once (SMAC's run history)
    folder.save_trials(trials)
    return RunResult(folder=folder.path, rows=trials, budget_used=now if wall_clock_budget else used,
                     workers=config.workers, compute_s=compute,
                     expected_trials=expected, config=config.to_dict())


def expected_trials(budget: Budget, benchmark: Benchmark, dataset: str, fidelity: int) -> dict[str, Any]:
    """How many trials the budget is expected to allow, and how that was worked out.

    For a time budget: the budget over the median (over all cells, seed mean) cost of one
    evaluation at ``fidelity``, the highest fidelity searched; a full-fidelity budget counts
    full evaluations and an evaluation budget its evaluations. Libraries that size their
    start-up from a trial count get this figure (SMAC's initial design is 25% of it).
    """
    if budget.kind != "seconds":
        basis = "evaluations" if budget.kind == "evals" else "full-fidelity equivalents"
        return {"n": max(1, int(budget.amount)), "basis": f"the budget's {basis}"}
    lookup = getattr(benchmark, "lookup", None)
    costs = (lookup(np.arange(NUM_CELLS), dataset, "train_time_s", fidelity) if lookup is not None
             else np.array([benchmark.query(i, dataset, fidelity, SEED_MEAN).train_time_s or np.nan
                            for i in range(0, NUM_CELLS, 25)]))
    median = float(np.nanmedian(costs))
    return {"n": max(1, int(budget.amount // median)), "median_cost_s": round(median, 3),
            "basis": f"budget / median cost of one evaluation at fidelity {fidelity} ({median:.1f} s)"}


def check_workers(optimizer: Optimizer, workers: int) -> None:
    """Refuse W > 1 workers for an optimizer that cannot be asked while trials are pending."""
    if workers > 1 and not getattr(optimizer, "pending_trials", False):
        reason = getattr(optimizer, "serial_reason", "") or "it does not declare pending_trials = True"
        raise BadInputError(f"{optimizer.name} cannot run with {workers} workers (trials pending): {reason}")


def _check_replay(recorded: dict[str, Any], name: str, trial: int, index: int, target: int) -> None:
    """Refuse a resume whose optimizer asks for something else than the record says it asked."""
    if recorded["index"] != index or recorded["fidelity_asked"] != target:
        raise BadInputError(
            f"resume diverged at trial {trial}: {name} asked for cell {index} at {target}, the record has "
            f"cell {recorded['index']} at {recorded['fidelity_asked']}; the optimizer is not deterministic"
        )


def _watch_schedules(optimizer: Optimizer, suggestion: Suggestion, runs: Sequence[Any]) -> tuple[int, float]:
    """Report each schedule's run (shortest first) to a pruning optimizer; the position of the
    last run trained (a prune at the last changes nothing), and the wall time of the reports."""
    wall = 0.0
    for position, run in enumerate(runs):
        t0 = time.perf_counter()
        prune = optimizer.report(suggestion, run.fidelity, run.valid_acc)
        wall += time.perf_counter() - t0
        if prune and position < len(runs) - 1:
            return position, wall
    return len(runs) - 1, wall


def _watch_epochs(
    optimizer: Optimizer, benchmark: Benchmark, suggestion: Suggestion, dataset: str, axis: Sequence[int],
    start_fid: int, target: int, data_seed: Any,
) -> tuple[int | None, float]:
    """Report each epoch's validation accuracy to a pruning optimizer; where it stopped, and its wall time.

    Only epochs this trial trains (after ``start_fid``, up to ``target``) are reported; a
    prune at ``target`` itself changes nothing, the trial has finished.
    """
    wall = 0.0
    index = suggestion.cell.index
    for epoch in axis:
        if epoch <= start_fid or epoch > target:
            continue
        value = benchmark.query(index, dataset, epoch, data_seed).valid_acc
        t0 = time.perf_counter()
        prune = optimizer.report(suggestion, epoch, value)
        wall += time.perf_counter() - t0
        if prune and epoch < target:
            return epoch, wall
    return None, wall


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
    from benchmarks import open_benchmark, resolve_dataset

    benchmark = open_benchmark(config.store, root=root)
    dataset = resolve_dataset(config.dataset, benchmark.datasets)
    if dataset != config.dataset:
        config = RunConfig(**{**config.__dict__, "dataset": dataset})
    optimizer = make_optimizer(config.optimizer, config.options)
    check_fidelity_axis(optimizer, benchmark, dataset, config.search_fidelity, config.continue_promotions)
    check_objectives(optimizer, benchmark, dataset, config.objectives)
    check_workers(optimizer, config.workers)
    folder = RunFolder(out, config.to_dict())
    replay = folder.claim(resume=resume)
    if resume and is_complete(out):  # a finished run: nothing to replay, and its records stay as they are
        return RunResult.from_folder(out)
    fresh = not replay and not (Path(out) / "run.json").exists()
    if folder.optimizer_dir.exists():
        shutil.rmtree(folder.optimizer_dir)
    # the split behind every metric goes with the run (a store searched on a test split says so here)
    store: dict[str, Any] = {"name": benchmark.name, "checksum": benchmark.checksum, "splits": benchmark.splits(dataset)}
    folder.write_run_json({"status": "running", "store": store, "optimizer_settings": optimizer.settings(),
                           "multi_fidelity": optimizer.multi_fidelity})
    try:
        result = run_trials(config, optimizer, benchmark, folder, replay=replay if resume else None, progress=progress)
    except BadInputError:
        if fresh and not folder.recorded_trials():  # refused before any trial (e.g. in setup): no half-made run
            shutil.rmtree(out, ignore_errors=True)
        raise
    space = benchmark.fidelity_space(dataset)
    if space.kind == "schedule" and (optimizer.multi_fidelity or any(t["fidelity"] != space.max for t in result.rows)):
        store["notes"] = list(benchmark.manifest.source.get("notes", ()))  # e.g. how the 12-epoch time is estimated
    folder.write_run_json({"status": "complete", "store": store, "optimizer_settings": optimizer.settings(),
                           "multi_fidelity": optimizer.multi_fidelity, "notes": optimizer.notes(),
                           "n_trials": len(result.rows), "budget_used": result.budget_used,
                           "expected_trials": result.expected_trials, "workers": config.workers,
                           "wall_clock_s": max((t["sim_end_s"] for t in result.rows), default=0.0),
                           "compute_s": result.compute_s, "utilisation": result.utilisation})
    return result

"""The runner: the only loop and the only simulated clock.

Every optimizer is charged by the same rule (see :class:`harness.budget.Budget`), sees data
seeds drawn by the harness from its own generator, and is recorded in the same trial rows.
Resume replays the recorded trials through ask/tell (libraries' states cannot all be
pickled), checking that the optimizer asks for the same cells again; an optimizer that saved
its own state (Optuna's samplers, in their study) restores it instead, and the runner only
re-evaluates the trials it restored.
"""

from __future__ import annotations

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
from harness.records import RunFolder, run_lock, study_attrs
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace, RandomSeed

__all__ = ["RunConfig", "RunResult", "run_trials", "execute_run", "expected_trials", "search_axis", "Progress"]

#: Called as progress(trials, budget_fraction_used, incumbent_valid_acc).
Progress = Callable[[int, float, "float | None"], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; two runs with equal configs have identical trials.

    ``label`` names the optimizer in records and reports (a spec may run one optimizer with
    different options under two labels). ``objectives`` names what is searched (see
    ``adapters.OBJECTIVES``); more than the accuracy makes a multi-objective search. ``data_seeds`` is ``"random"`` (a draw per query from the run's own generator) or
    ``"mean"`` (seed-mean table values). ``continue_promotions`` lets a cell trained before
    to a lower fidelity continue (paying only the new epochs, on the same data seed);
    otherwise promotions retrain from scratch, as in the Hyperband/BOHB/DEHB papers.
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives))
        if self.data_seeds not in ("random", "mean"):
            raise BadInputError(f"data_seeds must be 'random' or 'mean', got {self.data_seeds!r}")
        if self.checkpoint_every < 1:
            raise BadInputError("checkpoint_every must be at least 1")
        if self.search_fidelity is not None and self.search_fidelity < 1:
            raise BadInputError(f"search_fidelity must be a positive fidelity, got {self.search_fidelity}")

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
        }
        if self.storage is not None:
            body["storage"] = self.storage
        return body


@dataclass
class RunResult:
    folder: Path
    trials: list[dict[str, Any]]
    budget_used: float
    expected_trials: dict[str, Any] | None = None


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


def check_fidelity_axis(optimizer: Optimizer, benchmark: Benchmark, dataset: str, search_fidelity: int | None = None):
    """The axis the optimizer searches, or a clear refusal for a multi-fidelity optimizer without one."""
    fidelity_space = search_axis(benchmark, dataset, search_fidelity)
    if optimizer.multi_fidelity and not fidelity_space.multi_fidelity:
        raise BadInputError(
            f"{optimizer.name} is multi-fidelity but store {benchmark.name!r} has no fidelity axis on "
            f"{dataset} (only {fidelity_space.kind} {list(fidelity_space.values)}); import curves (NATS-Bench) first"
        )
    return fidelity_space


def run_trials(
    config: RunConfig,
    optimizer: Optimizer,
    benchmark: Benchmark,
    folder: RunFolder,
    *,
    replay: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``optimizer`` on ``benchmark`` until the budget's next trial does not fit.

    Args:
        replay: on resume, the recorded trials of the interrupted run (None: a fresh run).
            The optimizer restores what it saved itself (``restore``); the rest are re-asked
            and re-told (checking the optimizer asks for the same cells). None are charged again.
    """
    dataset = config.dataset
    fidelity_space = check_fidelity_axis(optimizer, benchmark, dataset, config.search_fidelity)
    check_objectives(optimizer, benchmark, dataset, config.objectives)
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
                      objectives=config.objectives, study=study)
    )
    restore = getattr(optimizer, "restore", None)
    restored = restore(len(replay)) if replay is not None and restore is not None else 0
    record = getattr(optimizer, "record", None)
    seed_policy = SEED_MEAN if config.data_seeds == "mean" else RandomSeed(config.seed)
    optimum = benchmark.best(dataset).valid_acc
    canon = canonical_ids().tolist()
    on_axis = frozenset(fidelity_space.values)
    final_cache: dict[int, tuple[float | None, float | None]] = {}
    trained: dict[int, tuple[int, Any]] = {}  # index -> (fidelity, data seed) for continuation
    incumbent = _Incumbent()
    replay = list(replay or [])
    trials: list[dict[str, Any]] = []
    clock = used = 0.0
    saved = len(replay)  # replayed trials are already in the journal
    last_tell_s = 0.0

    def cost_to(index: int, fidelity: int, seed: Any) -> float:
        result = benchmark.query(index, dataset, fidelity, seed)
        if result.train_time_s is not None:
            return result.train_time_s
        total = benchmark.query(index, dataset, store_max, seed).train_time_s or 0.0
        return total * fidelity / store_max

    while True:
        if len(trials) < restored:  # the optimizer restored its state past this trial: no ask
            done = replay[len(trials)]
            suggestion = Suggestion(cell=Cell.from_index(done["index"]), fidelity=done["fidelity_asked"],
                                    origin=done["origin"])
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
        recorded = replay[len(trials)] if len(trials) < len(replay) else None
        if recorded is not None and len(trials) >= restored:
            _check_replay(recorded, optimizer.name, len(trials), index, target)

        # Data seed: continue on the same seed when continuing training, otherwise a fresh draw.
        previous = trained.get(index) if config.continue_promotions else None
        start_fid = previous[0] if previous and previous[0] < target else 0
        first = benchmark.query(index, dataset, target, previous[1] if start_fid else seed_policy)
        data_seed = SEED_MEAN if first.seed == "mean" else first.seed
        target_cost = first.train_time_s if first.train_time_s is not None else cost_to(index, target, data_seed)
        start_cost = cost_to(index, start_fid, data_seed) if start_fid else 0.0  # already paid for
        full_cost_s = target_cost - start_cost + suggestion.extra_cost_s
        # Overhead: this ask plus the previous tell, both known before the trial starts.
        overhead_s = ask_s + last_tell_s if recorded is None else recorded["overhead_s"]
        planned = budget.cost(full_cost_s, (target - start_fid) / max_fid, overhead_s)
        if not budget.fits(used, planned):
            break

        status, stop_fid, observed, observed_test = "ok", target, first.valid_acc, first.test_acc
        wall_extra = 0.0
        if len(trials) < restored and recorded["status"] == "pruned":
            status, stop_fid = "pruned", recorded["fidelity"]
            result = benchmark.query(index, dataset, stop_fid, data_seed)
            observed, observed_test = result.valid_acc, result.test_acc
        elif suggestion.intermediate:
            pruned_at, wall_extra = _watch_epochs(optimizer, benchmark, suggestion, dataset, fidelity_space.values,
                                                  start_fid, target, data_seed)
            if pruned_at is not None:
                status, stop_fid = "pruned", pruned_at
                result = benchmark.query(index, dataset, pruned_at, data_seed)
                observed, observed_test = result.valid_acc, result.test_acc
        cost_s = full_cost_s
        if stop_fid != target:
            cost_s = cost_to(index, stop_fid, data_seed) - start_cost + suggestion.extra_cost_s
        if observed is None:
            raise RuntimeError(f"cell {index} has no validation accuracy on {dataset} at fidelity {stop_fid}")

        values = reader.observe(index, first, observed, data_seed) if reader else ()
        if len(trials) >= restored:
            t2 = time.perf_counter()
            optimizer.tell(suggestion, Observation(valid_acc=observed, fidelity=stop_fid, cost_s=cost_s, status=status,
                                                   values=values))
            last_tell_s = time.perf_counter() - t2
        wall_s = ask_s + wall_extra + last_tell_s if recorded is None else recorded["wall_s"]
        charged = budget.cost(cost_s, (stop_fid - start_fid) / max_fid, overhead_s)
        used += charged
        if config.continue_promotions:
            trained[index] = (max(stop_fid, start_fid), data_seed)

        incumbent.update(index, stop_fid, observed)
        if incumbent.index not in final_cache:
            final = benchmark.query(incumbent.index, dataset, None, SEED_MEAN)
            final_cache[incumbent.index] = (final.valid_acc, final.test_acc)
        inc_valid, inc_test = final_cache[incumbent.index]
        sim_start = clock
        clock += cost_s + (overhead_s if budget.include_overhead else 0.0)
        trials.append(
            {
                "trial": len(trials),
                "index": index,
                "arch_str": cell.arch_str,
                "canonical_id": canon[index],
                "fidelity": stop_fid,
                "fidelity_asked": target,
                "continued_from": start_fid,
                "valid_acc": observed,
                "test_acc": observed_test,
                "data_seed": first.seed,
                "cost_s": cost_s,
                "budget_charged": charged,
                "sim_start_s": sim_start,
                "sim_end_s": clock,
                "wall_s": wall_s,
                "overhead_s": overhead_s,
                "status": status,
                "origin": suggestion.origin,
                "incumbent_index": incumbent.index,
                "incumbent_valid_acc": inc_valid,
                "incumbent_test_acc": inc_test,
                "regret_valid": None if inc_valid is None else optimum - inc_valid,
            }
        )
        if reader:
            trials[-1].update(reader.columns(index, values))
        if record is not None and len(trials) > restored:
            record(trials[-1])
        if progress:
            progress(len(trials), used / budget.amount, inc_valid)
        if len(trials) % config.checkpoint_every == 0:
            folder.checkpoint(trials, saved)
            saved = len(trials)
    close = getattr(optimizer, "close", None)
    if close is not None:
        close()  # lets a library write its own output folder once (SMAC's run history)
    folder.save_trials(trials)
    return RunResult(folder=folder.path, trials=trials, budget_used=used, expected_trials=expected)


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


def _check_replay(recorded: dict[str, Any], name: str, trial: int, index: int, target: int) -> None:
    """Refuse a resume whose optimizer asks for something else than the record says it asked."""
    if recorded["index"] != index or recorded["fidelity_asked"] != target:
        raise BadInputError(
            f"resume diverged at trial {trial}: {name} asked for cell {index} at {target}, the record has "
            f"cell {recorded['index']} at {recorded['fidelity_asked']}; the optimizer is not deterministic"
        )


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
    check_fidelity_axis(optimizer, benchmark, dataset, config.search_fidelity)
    check_objectives(optimizer, benchmark, dataset, config.objectives)
    folder = RunFolder(out, config.to_dict())
    replay = folder.claim(resume=resume)
    fresh = not replay and not (Path(out) / "run.json").exists()
    if folder.optimizer_dir.exists():
        shutil.rmtree(folder.optimizer_dir)
    # the split behind every metric goes with the run (a store searched on a test split says so here)
    store = {"name": benchmark.name, "checksum": benchmark.checksum, "splits": benchmark.splits(dataset)}
    folder.write_run_json({"status": "running", "store": store, "optimizer_settings": optimizer.settings(),
                           "multi_fidelity": optimizer.multi_fidelity})
    try:
        result = run_trials(config, optimizer, benchmark, folder, replay=replay if resume else None, progress=progress)
    except BadInputError:
        if fresh and not folder.recorded_trials():  # refused before any trial (e.g. in setup): no half-made run
            shutil.rmtree(out, ignore_errors=True)
        raise
    folder.write_run_json({"status": "complete", "store": store, "optimizer_settings": optimizer.settings(),
                           "multi_fidelity": optimizer.multi_fidelity, "notes": optimizer.notes(),
                           "n_trials": len(result.trials), "budget_used": result.budget_used,
                           "expected_trials": result.expected_trials})
    return result

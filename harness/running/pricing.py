"""What a trial costs, and where a pruning optimizer stops it: the runner's pricing part.

Pricing knows the table and the fidelity axis, never an optimizer: a pruning optimizer is
watched through a plain ``report(fidelity, valid_acc) -> prune?`` callable, so every rule
here is unit-tested on its own (``tests/test_pricing.py``) and shared by the simulated
runner and the real workers.

The rules:

- a trial's data seed is a fresh draw from the run's seed policy, except when it continues
  a cell trained before to a lower fidelity (``continue_promotions``): then it continues on
  that seed and pays only the new epochs;
- the cost is the table's train time to the fidelity trained; where a table lacks it at
  that fidelity, the highest fidelity's time scaled linearly;
- on a ``schedule`` axis (12- or 200-epoch schedules, each its own training run) a pruned
  search trains each schedule up to the target in turn, from scratch, and pays every one it
  ran;
- a pruned trial stops where the optimizer said so and pays up to there;
- a configuration the source never trained (no row: NAS-Bench-Graph's all-skip cells, the space's
  ``untrained``) is a failed trial, as HPOBench's NAS-Bench-101 treats an invalid spec: nothing
  trained, so 0 s (nothing under a time budget), but the evaluation the optimizer spent on it
  counts (one under ``evals``, the fidelity asked under ``full``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.protocols import Benchmark, task_space
from adapters.search_space import Config, InvalidConfigError, SearchSpace
from adapters.types import SEED_MEAN, FidelitySpace, QueryResult

__all__ = ["Price", "Outcome", "Pricing", "Report", "UNTRAINED", "UNTRAINED_COLUMNS", "watch_schedules", "watch_epochs"]

#: The ``index`` (and ``canonical_id``) a trial of a configuration without a row records: no row of the space.
UNTRAINED = -1
#: Extra trial columns of a run on a space with untrained configurations: why such a trial failed.
UNTRAINED_COLUMNS = ("reason",)

#: A pruning optimizer, as pricing sees it: told one fidelity's validation accuracy, says whether to stop.
Report = Callable[[int, float], bool]


@dataclass(slots=True)
class Price:
    """A trial priced before it starts, as if it runs to its target.

    ``runs`` are the schedules' runs a pruned search on a schedule axis trains in turn
    (shortest first, the target's last); empty otherwise. ``fraction`` is the part of one
    full-fidelity evaluation trained (what a ``full`` budget charges).
    """

    index: int
    target: int
    first: QueryResult | None  # None: an untrained configuration, which queries nothing
    data_seed: Any
    start_fid: int
    start_cost: float
    runs: tuple[QueryResult, ...]
    cost_s: float
    fraction: float
    extra_cost_s: float


@dataclass(slots=True)
class Outcome:
    """Where a trial stopped, what it observed there, and what it cost up to there."""

    status: str
    fidelity: int
    result: QueryResult | None  # the run observed (the target's query, or the schedule run it stopped after)
    valid_acc: float | None
    test_acc: float | None
    data_seed: Any
    cost_s: float
    fraction: float
    reason: str = ""  # why it failed, where the table says (an untrained configuration)

    @property
    def told_acc(self) -> float:
        """The accuracy an optimizer is told: a failed training (no accuracy: live, or a configuration the
        table has no row for) is the worst, 0%,
        told with its status for the libraries that record failures."""
        return 0.0 if self.valid_acc is None else self.valid_acc


def _seed_of(result: QueryResult) -> Any:
    return SEED_MEAN if result.seed == "mean" else result.seed


class Pricing:
    """Prices trials of one dataset on the axis an optimizer searches (``axis``, maybe cut below the store's).

    ``continue_promotions`` makes it remember each cell's highest fidelity trained and its data
    seed, so that a promotion pays only the new epochs.
    """

    def __init__(self, benchmark: Benchmark, dataset: str, axis: FidelitySpace, *, continue_promotions: bool = False):
        self.benchmark = benchmark
        self.dataset = dataset
        self.axis = axis
        self.schedules = axis.kind == "schedule"
        self.max_fid = axis.max  # "full" fractions are of the highest fidelity searched
        self.store_max = benchmark.fidelity_space(dataset).max
        self.continue_promotions = continue_promotions
        self._trained: dict[int, tuple[int, Any]] = {}  # index -> (fidelity, data seed)
        self._finals: dict[int, tuple[float | None, float | None]] = {}  # index -> final (valid, test)

    def cost_to(self, index: int, fidelity: int, seed: Any) -> float:
        """Train time from scratch to ``fidelity``: the table's, else the highest fidelity's scaled linearly."""
        result = self.benchmark.query(index, self.dataset, fidelity, seed)
        if result.train_time_s is not None:
            return result.train_time_s
        total = self.benchmark.query(index, self.dataset, self.store_max, seed).train_time_s or 0.0
        return total * fidelity / self.store_max

    def run_cost(self, run: QueryResult) -> float:
        """The train time of one schedule's run (a query result), from the table where it has one."""
        if run.train_time_s is not None:
            return run.train_time_s
        return self.cost_to(run.index, run.fidelity, _seed_of(run))

    def price(self, index: int, target: int, seed_policy: Any, extra_cost_s: float = 0.0,
              intermediate: bool = False) -> Price:
        """Price a trial of cell ``index`` to ``target``: its data seed, and its cost if it is not pruned.

        Queries draw from ``seed_policy`` in a fixed order (the target first, then any shorter
        schedules), so equal runs draw equal seeds.
        """
        previous = self._trained.get(index) if self.continue_promotions else None
        start_fid = previous[0] if previous and previous[0] < target else 0
        first = self.benchmark.query(index, self.dataset, target, previous[1] if start_fid else seed_policy)
        data_seed = _seed_of(first)
        target_cost = first.train_time_s if first.train_time_s is not None else self.cost_to(index, target, data_seed)
        start_cost = self.cost_to(index, start_fid, data_seed) if start_fid else 0.0  # already paid for
        cost_s = target_cost - start_cost + extra_cost_s
        fraction = (target - start_fid) / self.max_fid
        runs: tuple[QueryResult, ...] = ()
        if self.schedules and intermediate:
            shorter = [self.benchmark.query(index, self.dataset, s, seed_policy) for s in self.axis.values if s < target]
            runs = (*shorter, first)
            cost_s = sum(self.run_cost(run) for run in runs) + extra_cost_s
            fraction = sum(run.fidelity for run in runs) / self.max_fid
        return Price(index, target, first, data_seed, start_fid, start_cost, runs, cost_s, fraction, extra_cost_s)

    @functools.cached_property
    def space(self) -> SearchSpace:
        """The task's search space (looked up on first use: a test's bare table has none)."""
        return task_space(self.benchmark, self.dataset)

    @functools.cached_property
    def untrained_reason(self) -> str:
        """Why some configurations have no row (the task space's ``untrained``); empty where all have one."""
        return getattr(self.space, "untrained", "")

    def row(self, config: Config) -> int:
        """The row of a configuration; :data:`UNTRAINED` for one the space declares the source never trained
        (it becomes a failed trial, and the search goes on). Any other configuration without a row is an error."""
        try:
            return self.space.key(config)
        except InvalidConfigError:
            if not self.untrained_reason:
                raise
            return UNTRAINED

    def untrained(self, target: int) -> tuple[Price, Outcome]:
        """A configuration with no row: a failed trial that trained nothing (0 s) but spent one evaluation
        at the fidelity asked."""
        fraction = target / self.max_fid
        price = Price(UNTRAINED, target, None, None, 0, 0.0, (), 0.0, fraction, 0.0)
        return price, Outcome("failed", target, None, None, None, None, 0.0, fraction, self.untrained_reason)

    def completed(self, price: Price) -> Outcome:
        """The trial ran to its target."""
        first = price.first
        return Outcome("ok", price.target, first, first.valid_acc, first.test_acc, price.data_seed, price.cost_s,
                       price.fraction)

    def stopped_after_schedule(self, price: Price, position: int) -> Outcome:
        """A schedule-axis trial pruned after its run at ``position`` (the last: it was not pruned)."""
        if position >= len(price.runs) - 1:
            return self.completed(price)
        done = price.runs[: position + 1]
        run = done[-1]
        return Outcome("pruned", run.fidelity, run, run.valid_acc, run.test_acc, _seed_of(run),
                       sum(self.run_cost(r) for r in done) + price.extra_cost_s,
                       sum(r.fidelity for r in done) / self.max_fid)

    def stopped_at_epoch(self, price: Price, fidelity: int) -> Outcome:
        """An epoch-axis trial pruned at ``fidelity`` (the target itself: it was not pruned)."""
        if fidelity == price.target:
            return self.completed(price)
        result = self.benchmark.query(price.index, self.dataset, fidelity, price.data_seed)
        return Outcome("pruned", fidelity, price.first, result.valid_acc, result.test_acc, price.data_seed,
                       self.cost_to(price.index, fidelity, price.data_seed) - price.start_cost + price.extra_cost_s,
                       (fidelity - price.start_fid) / self.max_fid)

    def epochs(self, price: Price) -> Iterator[tuple[int, float | None]]:
        """The epochs this trial trains (after where it continues from, up to its target) and their accuracy."""
        for epoch in self.axis.values:
            if price.start_fid < epoch <= price.target:
                yield epoch, self.benchmark.query(price.index, self.dataset, epoch, price.data_seed).valid_acc

    def watch(self, price: Price, report: Report) -> tuple[int, float]:
        """Report the table's epochs to a pruning optimizer: the epoch it stopped at, and the reports' wall time."""
        return watch_epochs(report, self.epochs(price), price.target)

    def final_values(self, index: int, observed: float) -> tuple[float | None, float | None]:
        """The incumbent's seed-mean validation and test accuracy at the store's highest fidelity."""
        if index not in self._finals:
            final = self.benchmark.query(index, self.dataset, None, SEED_MEAN)
            self._finals[index] = (final.valid_acc, final.test_acc)
        return self._finals[index]

    def optimum(self) -> float | None:
        """The best seed-mean validation accuracy in the table (what regret is measured against)."""
        return self.benchmark.best(self.dataset).valid_acc

    def columns(self, outcome: Outcome) -> dict[str, Any]:
        """Trial columns beyond the table's own: why a trial failed, on a space with untrained configurations
        (:data:`UNTRAINED_COLUMNS`); none otherwise (a table measures nothing more)."""
        return {"reason": outcome.reason} if self.untrained_reason else {}

    def trained(self, price: Price, outcome: Outcome) -> None:
        """Remember how far the cell was trained, and on which seed, for a later promotion to continue
        (read only with ``continue_promotions``)."""
        self._trained[price.index] = (max(outcome.fidelity, price.start_fid), outcome.data_seed)


def watch_schedules(report: Report, runs: Sequence[QueryResult]) -> tuple[int, float]:
    """Report each schedule's run (shortest first) to a pruning optimizer; the position of the
    last run trained (a prune at the last changes nothing), and the wall time of the reports."""
    wall = 0.0
    for position, run in enumerate(runs):
        t0 = time.perf_counter()
        prune = report(run.fidelity, run.valid_acc)
        wall += time.perf_counter() - t0
        if prune and position < len(runs) - 1:
            return position, wall
    return len(runs) - 1, wall


def watch_epochs(report: Report, epochs: Iterator[tuple[int, float | None]], target: int) -> tuple[int, float]:
    """Report each epoch's validation accuracy to a pruning optimizer; the epoch it stopped at
    (``target`` when it ran through: a prune at the target changes nothing), and the reports' wall time."""
    wall = 0.0
    for epoch, value in epochs:
        t0 = time.perf_counter()
        prune = report(epoch, value)
        wall += time.perf_counter() - t0
        if prune and epoch < target:
            return epoch, wall
    return target, wall

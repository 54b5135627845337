"""Zero-cost search ("zc") and a zero-cost warm start for regularized evolution ("re-zc").

Both read the shipped proxy table (``benchmarks/data/zerocost_<dataset>.npz``), never the
benchmark's accuracies: ``zc`` ranks the candidate cells by the weighted proxy score,
evaluates the best unevaluated one for real, and refits the weights (``ProxyScorer``) on the
accuracies the run has paid for. Isomorphic duplicates of evaluated cells are skipped, since
they would cost budget for the same network.

The proxy table was computed offline, so by default the run is charged nothing for it. The
time it would cost (the table's measured seconds per cell for the proxies used, times the
candidates scored) is reported as ``proxy_cost_s`` in the settings; with
``charge_proxy_time=true`` ``zc`` charges it with its first trial (scoring every candidate
comes before the first evaluation).
"""

from __future__ import annotations

import random
import warnings

import numpy as np

from adapters.errors import RunCaveat
from adapters.optimizers._base import Between, OptimizerBase
from adapters.optimizers._evolution import RegularizedEvolution
from adapters.nb201_space import NB201
from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.search_space import SearchSpace
from adapters.types import BadInputError

__all__ = ["ZeroCostSearch", "ZeroCostWarmRE"]

def require_nb201(space: SearchSpace, who: str) -> None:
    """Refuse another search space: the proxy tables hold NB201 cells (by official index) only."""
    if space.name != NB201.name:
        raise BadInputError(f"{who}: zero-cost proxy tables exist for the NB201 cell only, not the {space.name} space")


def _scorer(dataset: str, proxies: str, ridge: float):
    """The table's ProxyScorer for ``proxies`` ("auto": ``benchmarks.zerocost.auto_proxies``, the proxies
    the table has for enough cells)."""
    from benchmarks.zerocost import ProxyScorer, auto_proxies, load_table

    table = load_table(dataset)  # no table for the dataset: BadInputError
    names = auto_proxies(table) if proxies == "auto" else [p.strip() for p in proxies.split(",") if p.strip()]
    unknown = sorted(set(names) - set(table.columns))
    if unknown:
        raise BadInputError(f"unknown proxies {unknown}; the table has {list(table.columns)}")
    try:
        return table, ProxyScorer.from_table(table, names, ridge=ridge)
    except ValueError as exc:
        raise BadInputError(str(exc)) from None


def table_dataset(option: str, problem: SearchProblem) -> str:
    """The zero-cost table to read: the run's own dataset unless the user names another."""
    return problem.dataset if option == "auto" else option


def auto_coverage_note(dataset: str, proxies: str, used: tuple[str, ...]) -> str | None:
    """When "auto" resolves to fewer proxies than the reference table has: a note saying which.

    The short form is warned as a RunCaveat (the CLI puts it on the progress line); the
    returned long form goes into the optimizer's notes.
    """
    from benchmarks.zerocost import REFERENCE_DATASET, coverage_gap, load_table

    if proxies != "auto":
        return None
    gap = coverage_gap(load_table(dataset))
    if not gap:
        return None
    warnings.warn(RunCaveat(f"proxies=auto: {', '.join(used)} only ({len(gap)} fewer than {REFERENCE_DATASET})"),
                  stacklevel=3)
    return (f"proxies=auto on {dataset} uses only {', '.join(used)}: its zero-cost table does not yet have "
            f"{', '.join(gap)} for enough cells (the {REFERENCE_DATASET} table has them for every cell)")


def _proxy_cost_s(table, names: tuple[str, ...], cells: int) -> float:
    """What computing ``names`` for ``cells`` cells would take at the table's measured speed."""
    from benchmarks.zerocost import timing_group

    seconds = table.meta.get("mean_seconds_per_cell", {})
    groups = {timing_group(n) for n in names}
    return cells * sum(seconds.get(g, 0.0) for g in groups)


class ZeroCostSearch(OptimizerBase):
    """Evaluate cells in order of the weighted zero-cost score, refitting the weights as results arrive."""

    name = "zc"
    #: The proxy tables hold NB201 cells only: the runner refuses any other space up front.
    spaces = (NB201.name,)
    pending_trials = True  # each ask takes the next unseen class of the current ranking
    defaults = {"dataset": "auto", "proxies": "auto", "refit_every": 1, "min_fit": 5, "ridge": 1.0,
                "charge_proxy_time": False}
    limits = {"refit_every": Between(1), "min_fit": Between(2), "ridge": Between(0)}

    def setup(self, problem: SearchProblem) -> None:
        require_nb201(problem.space, self.name)
        super().setup(problem)
        dataset = table_dataset(self.options["dataset"], problem)
        self._table, self._scorer = _scorer(dataset, self.options["proxies"], self.options["ridge"])
        self._coverage_note = auto_coverage_note(dataset, self.options["proxies"], self._scorer.names)
        self._rng = random.Random(problem.seed)
        self._seen_classes: set[int] = set()
        self._results: list[tuple[int, float]] = []
        self._fitted_at = 0
        # Seeded tie-breaking: equal scores (isomorphic cells, equal counts) go in a random order.
        self._jitter = np.random.default_rng(problem.seed).random(len(self._scorer.cells)) * 1e-9
        self._rescore()

    def _rescore(self) -> None:
        self._order = list(np.argsort(-(self._scorer.scores() + self._jitter), kind="stable"))
        self._next = 0

    def ask(self) -> Suggestion:
        space = self.problem.space
        cells = self._scorer.cells
        while self._next < len(self._order):
            index = int(cells[self._order[self._next]])
            self._next += 1
            canonical = space.canonical_key(index)
            if canonical not in self._seen_classes:
                first = not self._seen_classes
                self._seen_classes.add(canonical)
                extra = self.settings()["proxy_cost_s"] if first and self.options["charge_proxy_time"] else 0.0
                return Suggestion(space.config(index), origin="zero-cost rank", extra_cost_s=extra)
        # Every candidate class evaluated: fall back to random cells (only with a partial table).
        return Suggestion(space.sample(self._rng), origin="random (candidates exhausted)")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        self._results.append((self.problem.space.key(suggestion.config), observation.valid_acc))
        n = len(self._results)
        if n >= self.options["min_fit"] and n - self._fitted_at >= self.options["refit_every"]:
            indices, accuracy = zip(*self._results)
            self._scorer.fit(indices, accuracy)
            self._fitted_at = n
            self._rescore()

    def settings(self) -> dict:
        out = dict(self.options)
        if hasattr(self, "_scorer"):
            out["proxies_used"] = list(self._scorer.names)
            out["candidates"] = int(len(self._scorer.cells))
            out["proxy_cost_s"] = _proxy_cost_s(self._table, self._scorer.names, len(self._scorer.cells))
            out["weights"] = [round(float(w), 6) for w in self._scorer.weights]
        return out

    def notes(self) -> list[str]:
        coverage = [self._coverage_note] if getattr(self, "_coverage_note", None) else []
        if self.options["charge_proxy_time"]:
            return [*coverage, "zero-cost proxy time (proxy_cost_s) charged with the first trial"]
        return [*coverage, "zero-cost proxies precomputed offline: their compute time (proxy_cost_s) is not charged to the budget"]


def zero_cost_top_cells(k: int, seed: int, dataset: str, proxies: str) -> tuple[list[int], tuple[str, ...]]:
    """The k best cells by equal-weight zero-cost score, one per isomorphism class (a warm start).

    No accuracies exist before the first evaluation, so nothing is fitted; seeded jitter
    breaks ties between equal scores.
    """
    _, scorer = _scorer(dataset, proxies, 1.0)
    jitter = np.random.default_rng(seed).random(len(scorer.cells)) * 1e-9
    warm: list[int] = []
    classes: set[int] = set()
    for pos in np.argsort(-(scorer.scores() + jitter), kind="stable"):
        index = int(scorer.cells[pos])
        canonical = NB201.canonical_key(index)
        if canonical not in classes:
            classes.add(canonical)
            warm.append(index)
        if len(warm) == k:
            break
    return warm, tuple(scorer.names)


class ZeroCostWarmRE(RegularizedEvolution):
    """Regularized evolution whose initial population is the top cells by (equal-weight) zero-cost score.

    No accuracies exist before the first evaluation, so the warm start uses the data-free
    equal weighting of the proxies; distinct isomorphism classes only.
    """

    name = "re-zc"
    #: The proxy tables hold NB201 cells only: the runner refuses any other space up front.
    spaces = (NB201.name,)
    defaults = {**RegularizedEvolution.defaults, "dataset": "auto", "proxies": "auto"}

    def setup(self, problem: SearchProblem) -> None:
        require_nb201(problem.space, self.name)
        super().setup(problem)
        dataset = table_dataset(self.options["dataset"], problem)
        self._warm, self._names = zero_cost_top_cells(self.options["population_size"], problem.seed, dataset,
                                                      self.options["proxies"])
        self._coverage_note = auto_coverage_note(dataset, self.options["proxies"], self._names)

    def ask(self) -> Suggestion:
        if self._asked < len(self._warm):
            self._asked += 1
            return Suggestion(self.problem.space.config(self._warm[self._asked - 1]), origin="zero-cost warm start")
        return super().ask()

    def settings(self) -> dict:
        out = dict(self.options)
        if hasattr(self, "_names"):
            out["proxies_used"] = list(self._names)
        return out

    def notes(self) -> list[str]:
        coverage = [self._coverage_note] if getattr(self, "_coverage_note", None) else []
        return [*coverage, "initial population: top cells by equal-weight zero-cost score (proxy time not charged)"]

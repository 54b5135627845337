"""One task of a suite benchmark as arrays: [row, seed, metric], every metric named with its split and direction.

The layout follows NB201's store (and syne-tune's blackbox): one float array per task, rows
in the search space's key order, seeds as the source lists them, missing values NaN and never
imputed. Values keep the source's own float64 numbers, so a query returns exactly what the
source file holds. A query copies a small dict built the first time the row is asked for
(the 2 us budget of NB201's store excludes per-query numpy work, and opening a task must
not convert every row).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from adapters.search_space import FiniteSpace
from adapters.types import BadInputError, RandomSeed, SeedMean, SeedPolicy

__all__ = ["Metric", "SuiteTable", "EVALUATIONS", "TIME"]

#: Budget kinds: a count of evaluations (always possible) or simulated train time (only where the source has it).
EVALUATIONS, TIME = "evaluations", "time"


@dataclass(frozen=True)
class Metric:
    """One number a task reports.

    Attributes:
        name: the column name (``valid_acc``, ``val_loss``, ``latency_s``...).
        split: the data split it is measured on (``validation``, ``test``, ``none`` for costs).
        direction: ``max`` or ``min``: which way is better.
        meaning: what it is on this task, with its unit, as the source defines it.
        source_name: the source's own field name.
        percent: whether the values are percentages (regrets then in percentage points).
    """

    name: str
    split: str
    direction: Literal["max", "min"]
    meaning: str
    source_name: str
    percent: bool = False

    def __post_init__(self) -> None:
        if self.direction not in ("max", "min"):
            raise ValueError(f"metric {self.name}: direction must be 'max' or 'min'")


class SuiteTable:
    """One task's results.

    Args:
        benchmark: the benchmark's registry name.
        task: the task (dataset) name.
        space: the search space whose keys index the rows.
        metrics: the metrics, in the array's last-axis order; the first is the task's objective.
        values: float array [row, seed, metric] (seed axis of length 1 where the source has no seeds).
        seeds: the seed labels (run positions where the source does not name its seeds).
        time_metric: the metric that is train time in seconds, or None where the source has none.
        seed_note: what the seed axis means for this source.
    """

    def __init__(
        self,
        *,
        benchmark: str,
        task: str,
        space: FiniteSpace,
        metrics: tuple[Metric, ...],
        values: np.ndarray,
        seeds: tuple[int, ...],
        time_metric: str | None,
        seed_note: str,
    ) -> None:
        if values.shape != (space.size, len(seeds), len(metrics)):
            raise ValueError(f"{benchmark}/{task}: values shape {values.shape} != "
                             f"({space.size}, {len(seeds)}, {len(metrics)})")
        if time_metric is not None and time_metric not in [m.name for m in metrics]:
            raise ValueError(f"{benchmark}/{task}: time metric {time_metric!r} is not a metric")
        self.benchmark = benchmark
        self.task = task
        self.space = space
        self.metrics = metrics
        self.metric_names = tuple(m.name for m in metrics)
        self.values = values
        self.seeds = seeds
        self.seed_slot = {s: i for i, s in enumerate(seeds)}
        self.time_metric = time_metric
        self.seed_note = seed_note
        self.objective = metrics[0]
        self._records: dict[int, tuple[list[dict[str, float]], tuple[int, ...]]] = {}

    # --- facts ------------------------------------------------------------------------
    @property
    def budget_kinds(self) -> tuple[str, ...]:
        """The budget kinds a run on this task can take: no train time means evaluations only."""
        return (EVALUATIONS, TIME) if self.time_metric else (EVALUATIONS,)

    def check_budget(self, kind: str) -> None:
        """Refuse, in one line, a budget kind the data cannot charge."""
        if kind not in self.budget_kinds:
            raise BadInputError(f"{self.benchmark} ({self.task}) has no train time, so a {kind} budget cannot be "
                                f"charged; give an evaluation budget instead, e.g. 100evals")

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise BadInputError(f"{self.benchmark} has no metric {name!r}; metrics are {list(self.metric_names)}")

    # --- queries ----------------------------------------------------------------------
    def _record(self, key: int) -> tuple[list[dict[str, float]], tuple[int, ...]]:
        """Row ``key``'s values per slot (slot ``len(seeds)`` is the seed mean) and the seed slots whose
        objective has a value (a random draw picks among those), cached on first use."""
        runs = self.values[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(runs, axis=0) if len(self.seeds) > 1 else runs[0]
        names = self.metric_names
        slots = [dict(zip(names, values)) for values in (*runs.tolist(), mean.tolist())]
        entry = (slots, tuple(np.flatnonzero(~np.isnan(runs[:, 0])).tolist()))
        self._records[key] = entry
        return entry

    @cached_property
    def seed_mean(self) -> np.ndarray:
        """[row, metric]: the mean over the seeds that have a value (NaN where none has)."""
        if len(self.seeds) == 1:
            return self.values[:, 0, :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(self.values, axis=1)

    def query(self, key: int, seed: SeedPolicy) -> dict[str, float]:
        """The metrics of table row ``key`` for a seed label, ``SEED_MEAN`` or a :class:`RandomSeed` draw."""
        return self.draw(key, seed)[0]

    def draw(self, key: int, seed: SeedPolicy) -> tuple[dict[str, float], int | str]:
        """:meth:`query`'s metrics with the seed they are of: the label drawn or given, or ``"mean"``
        (a run records which of the source's runs each trial saw)."""
        entry = self._records.get(key) if type(key) is int else None
        if entry is None:
            entry = self._record(self.space.check_key(key))
        record, available = entry
        if type(seed) is RandomSeed:
            slot = seed.pick(available, f"row {key} on {self.benchmark}/{self.task}")
        elif type(seed) is SeedMean:
            return record[len(self.seeds)].copy(), "mean"
        else:
            slot = self.seed_slot.get(seed)  # type: ignore[arg-type]
            if slot is None:
                raise BadInputError(f"no seed {seed!r} on {self.benchmark}/{self.task}; seeds are {list(self.seeds)}")
        return record[slot].copy(), self.seeds[slot]  # a copy: callers may keep or change what they get

    def column(self, metric: str) -> np.ndarray:
        """The seed mean of one metric for every row (a view where there is one seed)."""
        return self.seed_mean[:, self.metric_names.index(self.metric(metric).name)]

    def best(self, metric: str | None = None) -> tuple[int, float]:
        """(row, value) of the best seed mean of a metric (default the objective): the task's true optimum."""
        m = self.metric(metric) if metric else self.objective
        column = self.column(m.name)
        row = int(np.nanargmax(column) if m.direction == "max" else np.nanargmin(column))
        return row, float(column[row])

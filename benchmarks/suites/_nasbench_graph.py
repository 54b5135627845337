"""NAS-Bench-Graph (PyPI ``nas-bench-graph`` 1.4.0, Apache-2.0) from the ``.bench`` files inside its wheel.

Each ``light/<dataset>.bench`` pickles ``{valid_hash: {'valid_perf', 'perf', 'latency',
'para'}}``: one value per architecture (the source gives no per-seed values and no train
time, so runs on it take evaluation budgets). ``perf`` is the test split. On proteins the
performance is ROC-AUC (OGB's metric for ogbn-proteins); elsewhere it is accuracy.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from adapters.spaces import NasBenchGraphSpace
from adapters.types import BadInputError
from benchmarks.suites._cache import cached_array
from benchmarks.suites._table import Metric, SuiteTable

__all__ = ["NBG_TASKS", "nasbench_graph_table", "raw_bench", "nbg_metrics"]

NBG_TASKS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins")
_FIELDS = ("valid_perf", "perf", "latency", "para")


def nbg_metrics(task: str) -> tuple[Metric, ...]:
    """The metrics of one dataset; the performance measure differs on proteins."""
    perf = "ROC-AUC (OGB's ogbn-proteins metric)" if task == "proteins" else "node classification accuracy (fraction)"
    return (
        Metric("valid_perf", "validation", "max", f"validation {perf}", "valid_perf"),
        Metric("test_perf", "test", "max", f"test {perf}", "perf"),
        Metric("latency_s", "none", "min", "inference latency (s) as the source measured it", "latency"),
        Metric("params_m", "none", "min", "parameters (millions)", "para"),
    )


def raw_path(task: str) -> Path:
    return Path(str(resources.files("nas_bench_graph") / "light" / f"{task}.bench"))


@cache
def raw_bench(task: str) -> dict[int, dict[str, float]]:
    """The source's own dict for one dataset (read with the package's loader)."""
    from nas_bench_graph.readbench import light_read

    return light_read(task)


def _tag(task: str) -> str:
    return f"nasbench-graph-{metadata.version('nas-bench-graph')}-{task}"


def _space(task: str, hashes: np.ndarray) -> NasBenchGraphSpace:
    from nas_bench_graph.architecture import gnn_list, gnn_list_proteins

    ops = gnn_list_proteins if task == "proteins" else gnn_list
    return NasBenchGraphSpace(hashes.tolist(), ops, name="nasbench-graph-proteins" if task == "proteins" else "nasbench-graph")


@cache
def _cached_space(task: str, root: Path | None) -> NasBenchGraphSpace:
    hashes = cached_array(f"{_tag(task)}-hashes", lambda: np.asarray(sorted(raw_bench(task)), dtype=np.int64), root=root)
    return _space(task, hashes)


def nasbench_graph_table(task: str, root: Path | None = None) -> SuiteTable:
    if task not in NBG_TASKS:
        raise BadInputError(f"nasbench-graph has no task {task!r}; tasks are {', '.join(NBG_TASKS)}")
    space = _cached_space(task, root)
    metrics = nbg_metrics(task)

    def build() -> np.ndarray:
        raw = raw_bench(task)
        values = np.array([[raw[int(space.native_key(row))][f] for f in _FIELDS] for row in range(space.size)],
                          dtype=np.float64)
        return values[:, None, :]

    values = cached_array(_tag(task), build, root=root)
    return SuiteTable(
        benchmark="nasbench-graph", task=task, space=space, metrics=metrics, values=values, seeds=(0,),
        time_metric=None,
        seed_note="one value per architecture: the source gives no per-seed values (label 0 is that value)",
    )

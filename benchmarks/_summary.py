"""A store's summary as text: what ``hpo2nas data summary`` and ``make run`` print first."""

from __future__ import annotations

import numpy as np

from benchmarks._tabular import TabularBenchmark

__all__ = ["store_summary"]


def store_summary(bench: TabularBenchmark) -> str:
    """Per dataset: the fidelity axis, the seed-mean best/median/worst of each accuracy with its split,
    and the train-time range, so a reader sees what a store holds before searching it."""
    lines = [f"store {bench.name!r} ({bench.manifest.source.get('name')}), checksum {bench.checksum[:12]}"]
    cells = np.arange(bench.space.size)
    for dataset in bench.datasets:
        fid = bench.fidelity_space(dataset)
        splits = bench.splits(dataset)
        axis = list(fid.values) if len(fid.values) < 4 else f"{fid.min}..{fid.max}"
        lines.append(f"\n{dataset}: fidelity {fid.kind} {axis}")
        for metric in ("valid_acc", "test_acc"):
            if metric not in splits:
                lines.append(f"  {metric}: not in this source")
                continue
            values = bench.lookup(cells, dataset, metric)
            best = bench.best(dataset, metric)
            lines.append(
                f"  {metric} [{splits[metric]}], seed mean: best {getattr(best, metric):.3f} "
                f"(index {best.index}), median {np.nanmedian(values):.3f}, worst {np.nanmin(values):.3f}"
            )
        times = bench.lookup(cells, dataset, "train_time_s")
        lines.append(
            f"  train_time_s [{splits['train_time_s']}]: min/median/max "
            f"{np.nanmin(times):.0f} / {np.nanmedian(times):.0f} / {np.nanmax(times):.0f}"
        )
    return "\n".join(lines)

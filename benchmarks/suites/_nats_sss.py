"""NATS-Bench's size space from a fetched store (``hpo2nas data fetch nats-sss``) as :class:`SuiteTable` objects.

The store is the ``nats`` importer's usual layout ([cell, seed, fidelity, metric] plus
per-cell costs), with 32,768 rows in NATS-Bench's size-space index order. A table here is one
dataset at one fidelity (default the highest: the 90-epoch schedule's end or its epoch 90),
with the store's splits; costs (params, FLOPs, latency) are metrics that do not vary by seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adapters.spaces import NatsSizeSpace
from adapters.types import BadInputError
from benchmarks._datasets import resolve_dataset
from benchmarks._store import CELL_INFO, METRICS, data_root, read_manifest
from benchmarks.suites._table import Metric, SuiteTable

__all__ = ["nats_sss_table"]

_DIRECTIONS = {"valid_acc": "max", "test_acc": "max", "train_time_s": "min", "params_m": "min", "flops_m": "min",
               "latency_s": "min"}
_COSTS = {"params_m": "parameters (millions)", "flops_m": "FLOPs (millions)", "latency_s": "latency (s)"}


def nats_sss_table(dataset: str, *, store: str = "nats-sss", root: Path | None = None,
                   fidelity: int | None = None) -> SuiteTable:
    """One dataset of a fetched size-space store, at one fidelity value (default the highest)."""
    manifest = read_manifest(Path(root or data_root()) / store)
    if manifest.source.get("space") != "nats-sss":
        raise BadInputError(f"store {store!r} does not hold NATS-Bench's size space (it holds "
                            f"{manifest.source.get('name', 'NB201 cells')})")
    dataset = resolve_dataset(dataset, tuple(manifest.datasets))
    entry = manifest.datasets[dataset]
    values = tuple(entry["fidelity"]["values"])
    if fidelity is not None and fidelity not in values:
        raise BadInputError(f"fidelity {fidelity!r} is not in {store}'s axis ({entry['fidelity']['kind']}: {list(values)})")
    f = values.index(fidelity) if fidelity is not None else len(values) - 1
    folder = manifest.path / dataset
    objectives = np.load(folder / "objectives.npy", mmap_mode="r")[:, :, f, :]
    info = np.load(folder / "cell_info.npy")
    splits = entry["splits"]
    present = [m for m in METRICS if m in splits]
    costs = [c for c in CELL_INFO if not np.isnan(info[:, CELL_INFO.index(c)]).all()]
    n_seeds = objectives.shape[1]
    columns = [np.asarray(objectives[:, :, METRICS.index(m)], dtype=np.float64) for m in present]
    columns += [np.repeat(info[:, CELL_INFO.index(c), None].astype(np.float64), n_seeds, axis=1) for c in costs]
    metrics = tuple(Metric(m, splits[m], _DIRECTIONS[m], f"{splits[m]} at {entry['fidelity']['kind']} {values[f]}", m,
                           percent=True)  # NATS-Bench's accuracies are percentages, as NB201's
                    for m in present)
    metrics += tuple(Metric(c, "none", _DIRECTIONS[c], _COSTS[c], c) for c in costs)
    return SuiteTable(
        benchmark="nats-sss", task=dataset, space=NatsSizeSpace(), metrics=metrics,
        values=np.stack(columns, axis=2), seeds=tuple(entry["seeds"]),
        time_metric="train_time_s" if "train_time_s" in present else None, seed_note=entry.get("seed_note", ""),
    )

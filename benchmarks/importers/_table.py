"""Bring your own table: NB201 results in a CSV or Parquet file, one dataset per import.

A table cannot say which split its numbers were measured on, so the options must: ``columns``
maps each metric to a column, ``splits`` names the split of every accuracy, and ``fidelity``
says whether an ``epoch`` column holds epochs of the 200-epoch schedule or schedule lengths
(12/200). Rows are long format: one per (cell, seed, epoch), where the ``seed`` and ``epoch``
columns are optional. To import several datasets, import one table per dataset into
separate stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from adapters import InvalidCellError, parse_cell
from benchmarks._datasets import DATASETS, resolve_dataset
from benchmarks._store import CELL_INFO, METRICS
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import (
    ACCURACIES,
    EPOCHS,
    SCHEDULES,
    check_options,
    empty_cell_info,
    empty_objectives,
    epoch_space,
    fidelity_kind,
    finish_dataset,
    schedule_space,
    tick,
)
from adapters.types import BadInputError

__all__ = ["TableImporter"]

_SUFFIXES = (".csv", ".parquet", ".pq")
_ARCH_COLUMNS = ("arch", "arch_str", "index")
_EPOCH, _SEED = "epoch", "seed"
_OPTIONS = ("dataset", "columns", "splits", "fidelity", "arch_column")


def _options(options: Mapping[str, object]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(dataset, metric -> column, metric -> split) from the options, or a clear refusal."""
    check_options("table", options, _OPTIONS)
    if "dataset" not in options:
        raise BadInputError(f"the table importer needs dataset= (one of {', '.join(DATASETS)}): one dataset per table")
    dataset = resolve_dataset(str(options["dataset"]), DATASETS)
    columns = options.get("columns")
    if not isinstance(columns, Mapping) or not columns:
        raise BadInputError("the table importer needs columns= mapping metrics to columns, e.g. {'valid_acc': 'val'}")
    unknown = sorted(set(columns) - set(METRICS) - set(CELL_INFO))
    if unknown:
        known = ", ".join(METRICS + CELL_INFO)
        raise BadInputError(f"columns= names unknown metric(s) {', '.join(map(str, unknown))}; metrics are {known}")
    splits = options.get("splits") or {}
    if not isinstance(splits, Mapping):
        raise BadInputError("splits= must map metrics to split descriptions, e.g. {'valid_acc': 'x-valid'}")
    stray = sorted(set(splits) - (set(columns) & set(METRICS)))
    if stray:
        raise BadInputError(f"splits= given for {', '.join(map(str, stray))}, which columns= does not map to a column")
    missing = [m for m in ACCURACIES if m in columns and not str(splits.get(m) or "").strip()]
    if missing:
        raise BadInputError(f"splits= must say which split {', '.join(missing)} was measured on (e.g. 'x-valid')")
    resolved = {m: str(splits[m]) for m in splits}
    if "train_time_s" in columns and "train_time_s" not in resolved:
        resolved["train_time_s"] = f"train time (s) from column {columns['train_time_s']!r}, as the table gives it"
    return dataset, {str(m): str(c) for m, c in columns.items()}, resolved


def _read_frame(path: Path, arch_columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise BadInputError(f"no such file: {path}")
    if path.suffix.lower() not in _SUFFIXES:
        raise BadInputError(f"{path}: a table must be CSV or Parquet ({', '.join(_SUFFIXES)})")
    try:
        if path.suffix.lower() == ".csv":
            # as text: a 6-digit NB201 key like 012340 must not turn into the index 12340
            return pd.read_csv(path, dtype={c: str for c in arch_columns})
        return pd.read_parquet(path)
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise BadInputError(f"cannot read {path}: {type(exc).__name__}: {first_line}") from None


def _integers(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) | (values != np.round(values)))
    if bad.size:
        value = frame[column].iloc[bad[0]]
        raise BadInputError(f"column {column!r} must hold whole numbers; row {bad[0]} has {value!r}")
    return values.astype(np.int64)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    try:
        return pd.to_numeric(frame[column]).to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise BadInputError(f"column {column!r} must be numeric: {exc}") from None


def _cells(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Official index per row; each distinct value is parsed once (a table may have millions of rows)."""
    raw = frame[column]
    if raw.isna().any():
        raise BadInputError(f"column {column!r} has empty cells, e.g. row {int(np.flatnonzero(raw.isna())[0])}")
    codes, uniques = pd.factorize(raw.astype(str))
    try:
        lookup = np.array([parse_cell(value).index for value in uniques], dtype=np.int64)
    except InvalidCellError as exc:
        raise BadInputError(f"column {column!r}: {exc}") from None
    return lookup[codes]


def _fidelity(frame: pd.DataFrame, kind: str | None) -> tuple[np.ndarray, tuple[int, ...], str]:
    """(fidelity value per row, the axis, its kind); no epoch column means the end of the 200-epoch schedule."""
    if _EPOCH not in frame.columns:
        kind = kind or "epoch"
        return np.full(len(frame), EPOCHS, dtype=np.int64), (EPOCHS,), kind
    if kind is None:
        raise BadInputError(
            "the table has an 'epoch' column: pass fidelity='epoch' (epochs 1..200 of the 200-epoch schedule) "
            "or fidelity='schedule' (schedule lengths 12/200)"
        )
    epochs = _integers(frame, _EPOCH)
    allowed = set(range(1, EPOCHS + 1)) if kind == "epoch" else set(SCHEDULES)
    outside = sorted(set(np.unique(epochs).tolist()) - allowed)
    if outside:
        what = "epochs 1..200" if kind == "epoch" else "schedule lengths 12 or 200"
        raise BadInputError(f"fidelity={kind!r} takes {what}; the epoch column has {outside[:5]}")
    return epochs, tuple(np.unique(epochs).tolist()), kind


def _scatter(
    cells: np.ndarray, seeds: np.ndarray, fids: np.ndarray, n_seeds: int, n_fids: int, columns: dict[int, np.ndarray]
) -> np.ndarray:
    """Dense objectives from long-format rows, refusing two rows for one (cell, seed, fidelity)."""
    flat = (cells * n_seeds + seeds) * n_fids + fids
    unique, counts = np.unique(flat, return_counts=True)
    if (counts > 1).any():
        rows = np.flatnonzero(flat == unique[np.argmax(counts > 1)])
        raise BadInputError(
            f"rows {rows[0]} and {rows[1]} are both for cell {cells[rows[0]]}, the same seed and epoch; "
            "give each (cell, seed, epoch) one row"
        )
    objectives = empty_objectives(n_seeds, n_fids)
    view = objectives.reshape(-1, len(METRICS))
    for metric, values in columns.items():
        view[flat, metric] = values
    return objectives


def _cell_info(frame: pd.DataFrame, cells: np.ndarray, columns: dict[str, str]) -> np.ndarray:
    """Per-cell facts: every row of a cell must agree (they depend on neither seed nor epoch)."""
    info = empty_cell_info()
    for name, column in columns.items():
        values = pd.Series(_numbers(frame, column)).groupby(cells)
        conflicting = values.nunique()
        if (conflicting > 1).any():
            raise BadInputError(f"column {column!r} ({name}) has different values for cell {int(conflicting.idxmax())}")
        first = values.first()
        info[first.index.to_numpy(), CELL_INFO.index(name)] = first.to_numpy()
    return info


class TableImporter:
    """Format ``table``: a CSV or Parquet file described by options.

    Options:
        dataset: the NB201 dataset the table is about (``cifar10-valid``, ``cifar10``,
            ``cifar100``, ``ImageNet16-120``); one per import.
        columns: metric -> column, for any of ``valid_acc``, ``test_acc``, ``train_time_s``
            and the per-cell ``params_m``, ``flops_m``, ``latency_s``.
        splits: metric -> the split it was measured on; required for each mapped accuracy.
        fidelity: ``"epoch"`` or ``"schedule"``; required when there is an ``epoch`` column.
        arch_column: the cell column (default: the first of ``arch``, ``arch_str``, ``index``),
            holding any form :func:`adapters.parse_cell` reads.
    """

    name = "table"

    def detect(self, path: Path) -> bool:
        return Path(path).is_file() and Path(path).suffix.lower() in _SUFFIXES

    def read(self, path: Path | None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        dataset, columns, splits = _options(options)
        kind = fidelity_kind(options["fidelity"]) if options.get("fidelity") is not None else None
        if path is None:
            raise BadInputError("the table importer needs a CSV or Parquet file")
        path = Path(path)
        tick(progress, 0, 3, "reading table", every=1)
        chosen = options.get("arch_column")
        candidates = (str(chosen),) if chosen else _ARCH_COLUMNS
        frame = _read_frame(path, candidates)
        have = ", ".join(map(str, frame.columns))
        arch_column = next((c for c in candidates if c in frame.columns), None)
        if arch_column is None:
            names = " or ".join(candidates)
            raise BadInputError(f"{path.name} has no arch column ({names}; arch_column= names another): it has {have}")
        absent = [c for c in columns.values() if c not in frame.columns]
        if absent:
            raise BadInputError(f"{path.name} has no column {', '.join(map(repr, absent))}; its columns are {have}")
        if frame.empty:
            raise BadInputError(f"{path.name} has no rows")
        tick(progress, 1, 3, "parsing cells", every=1)
        cells = _cells(frame, arch_column)
        fids, axis, kind = _fidelity(frame, kind)
        seed_labels = _integers(frame, _SEED) if _SEED in frame.columns else np.zeros(len(frame), dtype=np.int64)
        seeds = np.unique(seed_labels)
        tick(progress, 2, 3, "building arrays", every=1)
        objectives = _scatter(
            cells,
            np.searchsorted(seeds, seed_labels),
            np.searchsorted(np.array(axis), fids),
            len(seeds),
            len(axis),
            {METRICS.index(m): _numbers(frame, c) for m, c in columns.items() if m in METRICS},
        )
        info = _cell_info(frame, cells, {m: c for m, c in columns.items() if m in CELL_INFO})
        arrays = finish_dataset(
            dataset,
            objectives,
            info,
            seeds.tolist(),
            epoch_space(axis) if kind == "epoch" else schedule_space(axis),
            splits,
            "" if _SEED in frame.columns else "the table has no seed column: one value per cell and fidelity, "
            "labelled 0 (the table does not say whether it is one run or a seed mean)",
        )
        tick(progress, 3, 3, "done", every=1)
        return ImportResult(
            source={
                "name": f"table {path.name}",
                "format": self.name,
                "path": str(path),
                "license": "unknown: a user's own table",
                "arch_column": arch_column,
                "columns": columns,
            },
            datasets=[arrays],
        )

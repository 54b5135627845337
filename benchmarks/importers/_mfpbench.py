"""mf-prior-bench's NB201 tables: ``nb201-tabular-data.zip`` or the folder it unzips to.

The archive holds ``nb201_{dataset}_{12,200}.parquet`` for the four NB201 datasets, written
by mf-prior-bench's ``try_parse_nb201.py``: one row per (``config_id`` = official index,
``epoch`` 1..12 or 1..200) with NATS-Bench's ``get_more_info(..., is_random=False)`` values,
so **seed means**, under renamed columns ``train_/test_{loss,accuracy,per_time,all_time}``.
What its ``test_*`` columns measure depends on the dataset (the script renames whichever eval
curve a run has to ``test``), and this importer names it truthfully:

- ``cifar10-valid``: ``test_*`` is **x-valid** (the script renamed ``valid`` to ``test``);
  this store's test accuracy for it is the ``cifar10`` table's ori-test (NB201 convention);
- ``cifar10``: ``test_*`` is ori-test;
- ``cifar100`` and ``ImageNet16-120``: ``test_*`` is NB201's ``valtest``, i.e. **ori-test**
  (x-valid and x-test together), so these have no split to search on.

mf-prior-bench dropped cell 9075 from ImageNet16-120's 200-epoch table (its curve is
incomplete in NB201); it stays NaN here. The zip is read in place, never unpacked.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from adapters import NUM_CELLS
from benchmarks._datasets import DATASETS
from benchmarks._store import METRICS
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import (
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

__all__ = ["MfpbenchImporter"]

_TABLE = re.compile(r"^nb201_(cifar10-valid|cifar10|cifar100|ImageNet16-120)_(12|200)\.parquet$")
_COLUMNS = ("config_id", "epoch", "test_accuracy", "train_all_time")
_REQUIRED = tuple(f"{part}_{key}" for part in ("train", "test") for key in ("loss", "accuracy", "per_time", "all_time"))
#: dataset -> metric -> (table whose test_accuracy it is, split description)
_ACCURACY: dict[str, dict[str, tuple[str, str]]] = {
    "cifar10-valid": {
        "valid_acc": ("cifar10-valid", "x-valid (cifar10-valid: the held-out half of CIFAR-10 train; "
                      "mf-prior-bench's 'test_accuracy' column of this table)"),
        "test_acc": ("cifar10", "ori-test of the 'cifar10' run (trained on train+valid), NB201 convention "
                     "(the cifar10 table's 'test_accuracy')"),
    },
    "cifar10": {"test_acc": ("cifar10", "ori-test (trained on train+valid)")},
    "cifar100": {"test_acc": ("cifar100", "ori-test (x-valid and x-test together; NB201's 'valtest', "
                              "mf-prior-bench's 'test_accuracy')")},
    "ImageNet16-120": {"test_acc": ("ImageNet16-120", "ori-test (x-valid and x-test together; NB201's 'valtest', "
                                    "mf-prior-bench's 'test_accuracy')")},
}
_TIME = {
    "epoch": "cumulative train time (s) to epoch e of the 200-epoch schedule, seed mean (mf-prior-bench's train_all_time)",
    "schedule": "train time (s) of the whole 12- or 200-epoch schedule, seed mean (mf-prior-bench's train_all_time)",
}
_SEED_NOTE = (
    "seed means only: mf-prior-bench's tables average NATS-Bench's training seeds (is_random=False); "
    "the seed label 0 stands for that mean, not for one run"
)


def _tables(path: Path) -> dict[tuple[str, int], object]:
    """(dataset, schedule) -> a readable parquet source, for the zip or the unzipped folder."""
    found: dict[tuple[str, int], object] = {}
    if path.is_dir():
        entries = [(p.name, p) for p in path.iterdir()]
    else:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BadInputError(f"cannot read {path}: not a readable zip archive ({exc})") from None
        entries = [(PurePosixPath(info.filename).name, (archive, info)) for info in archive.infolist()]
    for name, where in entries:
        match = _TABLE.match(name)
        if match:
            key = (match.group(1), int(match.group(2)))
            if key in found:
                raise BadInputError(f"{path} holds {name} twice")
            found[key] = where
    missing = [f"nb201_{d}_{s}.parquet" for d in DATASETS for s in SCHEDULES if (d, s) not in found]
    if missing:
        raise BadInputError(f"{path} is not mf-prior-bench's NB201 archive: it lacks {', '.join(missing)}")
    return found


def _read(where: object, label: str) -> pa.Table:
    try:
        if isinstance(where, Path):
            source: object = where
        else:
            archive, info = where  # type: ignore[misc]
            source = io.BytesIO(archive.read(info))
        schema = pq.read_schema(source)
        absent = [c for c in (*_COLUMNS, *_REQUIRED) if c not in schema.names]
        if absent:
            raise BadInputError(f"{label}: not an mf-prior-bench NB201 table (no column {', '.join(absent)})")
        if isinstance(source, io.BytesIO):
            source.seek(0)
        return pq.read_table(source, columns=list(_COLUMNS))
    except BadInputError:
        raise
    except (pa.ArrowException, OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise BadInputError(f"cannot read {label}: not a readable parquet table ({type(exc).__name__}: {exc})") from None


def _columns(table: pa.Table, label: str, schedule: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cells = table.column("config_id").to_numpy(zero_copy_only=False)
    epochs = table.column("epoch").to_numpy(zero_copy_only=False)
    acc = table.column("test_accuracy").to_numpy(zero_copy_only=False).astype(np.float64)
    time = table.column("train_all_time").to_numpy(zero_copy_only=False).astype(np.float64)
    if len(cells) == 0:
        raise BadInputError(f"{label}: the table is empty")
    if cells.min() < 0 or cells.max() >= NUM_CELLS:
        raise BadInputError(f"{label}: config_id outside 0..{NUM_CELLS - 1}")
    if epochs.min() < 1 or epochs.max() > schedule:
        raise BadInputError(f"{label}: epoch outside 1..{schedule}")
    return cells.astype(np.int64), epochs.astype(np.int64), acc, time


class MfpbenchImporter:
    """Format ``mfpbench``: mf-prior-bench's NB201 parquet tables (zip or folder).

    Option ``fidelity``: ``"epoch"`` (default; epochs 1..200 of the 200-epoch schedule) or
    ``"schedule"`` (the ends of the 12- and 200-epoch schedules).
    """

    name = "mfpbench"

    def detect(self, path: Path) -> bool:
        path = Path(path)
        if path.is_dir():
            return any(_TABLE.match(p.name) for p in path.iterdir())
        return path.name == "nb201-tabular-data.zip"

    def read(self, path: Path | None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        check_options(self.name, options, ("fidelity",))
        kind = fidelity_kind(options.get("fidelity", "epoch"))
        if path is None or not Path(path).exists():
            raise BadInputError(f"no such file or folder: {path}")
        path = Path(path)
        tables = _tables(path)
        schedules = (EPOCHS,) if kind == "epoch" else SCHEDULES
        n_fid = EPOCHS if kind == "epoch" else len(SCHEDULES)
        # (dataset, what) -> [cell, fidelity] filled from one table per schedule
        acc = {d: np.full((NUM_CELLS, n_fid), np.nan) for d in DATASETS}
        time = {d: np.full((NUM_CELLS, n_fid), np.nan) for d in DATASETS}
        jobs = [(d, s) for d in DATASETS for s in schedules]
        tick(progress, 0, len(jobs), "tables")
        for done, (dataset, schedule) in enumerate(jobs, start=1):
            label = f"{path.name}:nb201_{dataset}_{schedule}.parquet"
            cells, epochs, values, seconds = _columns(_read(tables[(dataset, schedule)], label), label, schedule)
            if kind == "epoch":
                acc[dataset][cells, epochs - 1] = values
                time[dataset][cells, epochs - 1] = seconds
            else:
                last = epochs == schedule
                slot = SCHEDULES.index(schedule)
                acc[dataset][cells[last], slot] = values[last]
                time[dataset][cells[last], slot] = seconds[last]
            tick(progress, done, len(jobs), "tables", every=1)
        fidelity = epoch_space() if kind == "epoch" else schedule_space()
        datasets = []
        for dataset in DATASETS:
            objectives = empty_objectives(1, n_fid)
            splits = {"train_time_s": _TIME[kind]}
            for metric, (table, split) in _ACCURACY[dataset].items():
                objectives[:, 0, :, METRICS.index(metric)] = acc[table]
                splits[metric] = split
            objectives[:, 0, :, METRICS.index("train_time_s")] = time[dataset]
            datasets.append(finish_dataset(dataset, objectives, empty_cell_info(), (0,), fidelity, splits, _SEED_NOTE))
        return ImportResult(
            source={
                "name": "mf-prior-bench NB201 tables (nb201-tabular v1)",
                "format": self.name,
                "path": str(path),
                "license": "not stated for the data (mf-prior-bench: Apache-2.0; NB201 values: MIT)",
                "url": "https://github.com/automl/mf-prior-bench",
            },
            datasets=datasets,
        )

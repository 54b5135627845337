"""syne-tune's blackbox repository ``nasbench201/`` folder (serialized by ``blackbox_tabular.serialize``).

The folder holds ``objectives_evaluations.npy``, float32 shaped (task, config, seed,
fidelity, objective); ``fidelities_values.npy`` (epochs 1..200; any increasing grid within them is read); ``hyperparameters.parquet``
(``hp_x0..hp_x5``: the arch string's six ops in NB201 edge order, row i = official index i);
and ``metadata.json`` (``objectives_names``, ``task_names``). syne-tune's conversion script
(``nasbench201_import.py``) builds them from NATS-Bench's 200-epoch runs, and two of its
choices decide how this importer names things:

- its ``metric_valid_error`` is ``1 - ori-test accuracy``: a **test** split. It is imported as
  ``test_acc`` on ori-test, under that name. ``valid_acc`` stays empty unless the caller opts in
  (option ``search_on_test``), and then holds the same ori-test values with a split that says
  the search uses the test split, so every query record and report says so;
- it fills a missing seed with the mean of the cell's other seeds; such values cannot be told
  apart from real runs, which the seed note says.

Its ``metric_elapsed_time`` (the train time here) sums per-epoch train time and ori-test
evaluation time. The 788 MB objectives file is memory-mapped and read in slices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from adapters import NUM_CELLS, Cell, InvalidCellError
from benchmarks._store import CELL_INFO, METRICS
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import EPOCHS, check_options, empty_cell_info, epoch_space, finish_dataset, tick
from adapters.types import BadInputError

__all__ = ["SynetuneImporter"]

_FILES = ("objectives_evaluations.npy", "fidelities_values.npy", "hyperparameters.parquet", "metadata.json")
_TASKS = ("cifar10", "cifar100", "ImageNet16-120")
_SEEDS = (777, 888, 999)
_HPS = tuple(f"hp_x{i}" for i in range(6))
_ERROR, _ELAPSED = "metric_valid_error", "metric_elapsed_time"
_INFO = {"params_m": "metric_params", "flops_m": "metric_flops", "latency_s": "metric_latency"}
_CHUNK = 1024  # cells per slice of the memory-mapped objectives (about 17 MB)
_TEST_SPLIT = {
    "cifar10": "ori-test of the 'cifar10' run (trained on train+valid); syne-tune's 'metric_valid_error' "
    "is computed from ori-test",
    "cifar100": "ori-test (x-valid and x-test together); syne-tune's 'metric_valid_error' is computed from ori-test",
    "ImageNet16-120": "ori-test (x-valid and x-test together); syne-tune's 'metric_valid_error' is computed "
    "from ori-test",
}
_SEARCH_ON_TEST = "ori-test: THE TEST SPLIT, searched on by explicit opt-in (search_on_test); the same values as test_acc"
_TIME = ("cumulative time (s) to epoch e of the 200-epoch schedule: per-epoch train time plus the ori-test "
         "evaluation time (syne-tune's metric_elapsed_time)")
_SEED_NOTE = ("NATS-Bench training seeds; syne-tune filled a seed a cell lacks with the mean of its other seeds "
              "(nasbench201_import.py), so such values cannot be told apart from real runs")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes"):
        return True
    if str(value).lower() in ("0", "false", "no"):
        return False
    raise BadInputError(f"search_on_test must be true or false, got {value!r}")


def _metadata(folder: Path) -> tuple[list[str], list[str]]:
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        objectives, tasks = list(meta["objectives_names"]), list(meta["task_names"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"{folder}/metadata.json: not syne-tune blackbox metadata ({type(exc).__name__}: {exc})") from None
    needed = [_ERROR, _ELAPSED, *_INFO.values()]
    if any(name not in objectives for name in needed) or not tasks or not set(tasks) <= set(_TASKS):
        raise BadInputError(f"{folder}/metadata.json: not the nasbench201 blackbox (objectives {objectives}, tasks {tasks})")
    return objectives, tasks


def _check_rows(folder: Path) -> None:
    """Row i of hyperparameters.parquet must be the cell with official index i."""
    try:
        frame = pd.read_parquet(folder / "hyperparameters.parquet", columns=list(_HPS))
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise BadInputError(f"cannot read {folder}/hyperparameters.parquet ({type(exc).__name__}: {exc})") from None
    if len(frame) != NUM_CELLS:
        raise BadInputError(f"{folder}/hyperparameters.parquet has {len(frame)} rows; the space has {NUM_CELLS}")
    for index, ops in enumerate(frame.itertuples(index=False)):
        arch = f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"
        try:
            official = Cell.from_arch_str(arch).index
        except InvalidCellError as exc:
            raise BadInputError(f"hyperparameters.parquet row {index}: {exc}") from None
        if official != index:
            raise BadInputError(f"hyperparameters.parquet row {index} is cell {official}; rows must follow the official index")


def _objectives(folder: Path, n_tasks: int, n_epochs: int, n_objectives: int) -> None:
    path = folder / "objectives_evaluations.npy"
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError) as exc:
        raise BadInputError(f"cannot read {path}: not a readable .npy array ({exc})") from None
    expected = (n_tasks, NUM_CELLS, len(_SEEDS), n_epochs, n_objectives)
    if array.dtype != np.float32 or array.shape != expected:
        raise BadInputError(f"{path}: {array.dtype} {array.shape}, expected float32 {expected}")


class SynetuneImporter:
    """Format ``synetune``: syne-tune's ``nasbench201`` blackbox folder.

    Option ``search_on_test`` (default false): also put the ori-test accuracy in ``valid_acc``,
    so optimizers can search on it; its split then says the search uses the test split.
    """

    name = "synetune"

    def detect(self, path: Path) -> bool:
        path = Path(path)
        return path.is_dir() and all((path / f).is_file() for f in ("objectives_evaluations.npy", "metadata.json"))

    def read(self, path: Path | None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        check_options(self.name, options, ("search_on_test",))
        search_on_test = _flag(options.get("search_on_test", False))
        if path is None or not Path(path).is_dir():
            raise BadInputError(f"the synetune importer needs the nasbench201 folder, got {path}")
        folder = Path(path)
        absent = [f for f in _FILES if not (folder / f).is_file()]
        if absent:
            raise BadInputError(f"{folder} is not syne-tune's nasbench201 folder: it lacks {', '.join(absent)}")
        names, tasks = _metadata(folder)
        try:
            fidelities = np.load(folder / "fidelities_values.npy")
        except (OSError, ValueError, EOFError) as exc:
            raise BadInputError(f"cannot read {folder}/fidelities_values.npy ({exc})") from None
        epochs = fidelities.tolist() if fidelities.ndim == 1 else None
        if not epochs or epochs != sorted(set(epochs)) or not all(isinstance(e, int) and 1 <= e <= EPOCHS for e in epochs):
            raise BadInputError(f"{folder}/fidelities_values.npy is not increasing epochs within 1..{EPOCHS}")
        _check_rows(folder)
        _objectives(folder, len(tasks), len(epochs), len(names))
        error, elapsed = names.index(_ERROR), names.index(_ELAPSED)
        info = [names.index(_INFO[name]) for name in CELL_INFO]
        total = len(tasks) * NUM_CELLS
        tick(progress, 0, total, "cells")
        datasets = []
        for t, task in enumerate(tasks):
            objectives = np.full((NUM_CELLS, len(_SEEDS), len(epochs), len(METRICS)), np.nan, dtype=np.float32)
            cell_info = empty_cell_info()
            for start in range(0, NUM_CELLS, _CHUNK):
                # a fresh map per slice: its pages leave the resident set when the slice is done
                block = np.load(folder / "objectives_evaluations.npy", mmap_mode="r")[t, start:start + _CHUNK]
                accuracy = 100.0 * (1.0 - block[..., error])
                objectives[start:start + _CHUNK, :, :, METRICS.index("test_acc")] = accuracy
                if search_on_test:
                    objectives[start:start + _CHUNK, :, :, METRICS.index("valid_acc")] = accuracy
                objectives[start:start + _CHUNK, :, :, METRICS.index("train_time_s")] = block[..., elapsed]
                cell_info[start:start + _CHUNK] = block[:, 0, 0, info]
                del block
                tick(progress, t * NUM_CELLS + min(start + _CHUNK, NUM_CELLS), total, "cells", every=1)
            splits = {"test_acc": _TEST_SPLIT[task], "train_time_s": _TIME}
            if search_on_test:
                splits["valid_acc"] = _SEARCH_ON_TEST
            datasets.append(finish_dataset(task, objectives, cell_info, _SEEDS, epoch_space(epochs), splits, _SEED_NOTE))
        return ImportResult(
            source={
                "name": "syne-tune blackbox repository, nasbench201",
                "format": self.name,
                "path": str(folder),
                "license": "not stated for the data (syne-tune: Apache-2.0; NB201 values: MIT)",
                "url": "https://huggingface.co/datasets/synetune/blackbox-repository",
                "search_on_test": search_on_test,
            },
            datasets=datasets,
        )

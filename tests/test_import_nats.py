"""The ``nats`` importer on NATS-Bench topology files written by nats_bench's own writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _importer_sources import (  # noqa: F401  (isolated_data: autouse fixture)
    NATS_CELLS,
    NATS_ODD_SEED,
    NATS_OLD_STYLE,
    NATS_TWO_SEEDS,
    isolated_data,
    nats_acc,
    nats_arch_results,
    nats_costs,
    nats_epoch_time,
    nats_meta_archs,
    nats_record,
    write_nats_folder,
    write_nats_single,
)
from nats_bench.api_utils import pickle_save

from benchmarks import METRICS, import_store, open_benchmark
from benchmarks._store import DatasetArrays
from benchmarks.importers import IMPORTERS
from benchmarks.importers._nats import _curve
from adapters.types import BadInputError

VALID, TEST, TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
NATS = IMPORTERS["nats"]
EPOCHS = np.arange(1, 201)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nats_folder(tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-simple")


@pytest.fixture(scope="module")
def epoch(folder: Path) -> dict[str, DatasetArrays]:
    return {a.dataset: a for a in NATS.read(folder).datasets}


@pytest.fixture(scope="module")
def schedule(folder: Path) -> dict[str, DatasetArrays]:
    return {a.dataset: a for a in NATS.read(folder, fidelity="schedule").datasets}


def _slot(arrays: DatasetArrays, seed: int) -> int:
    return arrays.seeds.index(seed)


def _acc_curve(index: int, run: str, setname: str, seed: int) -> np.ndarray:
    return np.array([nats_acc(index, "200", run, setname, seed, e - 1) for e in EPOCHS])


def test_epoch_is_the_default_with_curves_of_the_200_epoch_schedule(epoch: dict[str, DatasetArrays]) -> None:
    """Without options the axis is epochs 1..200 of hp=200, over NATS-Bench's seeds, on all four datasets."""
    assert list(epoch) == ["cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"]
    for arrays in epoch.values():
        assert arrays.fidelity.kind == "epoch" and arrays.fidelity.values == tuple(EPOCHS)
        assert arrays.seeds == (777, 888, 999)


def test_cifar10_valid_searches_x_valid_and_reports_the_cifar10_run_test(epoch: dict[str, DatasetArrays]) -> None:
    """cifar10-valid: valid_acc is its x-valid curve, test_acc the same seed's 'cifar10' run on ori-test (NB201 convention)."""
    arrays = epoch["cifar10-valid"]
    for seed in (777, 888, 999):
        row = arrays.objectives[6111, _slot(arrays, seed)]
        np.testing.assert_allclose(row[:, VALID], _acc_curve(6111, "cifar10-valid", "x-valid", seed), rtol=1e-6)
        np.testing.assert_allclose(row[:, TEST], _acc_curve(6111, "cifar10", "ori-test", seed), rtol=1e-6)
    assert "x-valid" in arrays.splits["valid_acc"] and "'cifar10' run" in arrays.splits["test_acc"]


def test_train_time_is_cumulative_to_each_epoch(epoch: dict[str, DatasetArrays]) -> None:
    """train_time_s at epoch e is the sum of the first e per-epoch times of the dataset's own run."""
    for dataset in ("cifar10-valid", "ImageNet16-120"):
        arrays = epoch[dataset]
        expected = nats_epoch_time(6111, dataset) * EPOCHS
        np.testing.assert_allclose(arrays.objectives[6111, 0, :, TIME], expected, rtol=1e-6)
        assert "cumulative" in arrays.splits["train_time_s"]


def test_cifar100_and_imagenet_use_x_valid_and_x_test(epoch: dict[str, DatasetArrays]) -> None:
    """cifar100 and ImageNet16-120 take valid_acc from x-valid and test_acc from x-test, never ori-test."""
    for dataset in ("cifar100", "ImageNet16-120"):
        arrays = epoch[dataset]
        row = arrays.objectives[9930, _slot(arrays, 888)]
        np.testing.assert_allclose(row[:, VALID], _acc_curve(9930, dataset, "x-valid", 888), rtol=1e-6)
        np.testing.assert_allclose(row[:, TEST], _acc_curve(9930, dataset, "x-test", 888), rtol=1e-6)
        assert arrays.splits["test_acc"].startswith("x-test")


def test_cifar10_has_test_accuracy_and_no_validation(epoch: dict[str, DatasetArrays]) -> None:
    """The 'cifar10' run (train+valid) has only ori-test: its valid_acc is NaN and has no split."""
    arrays = epoch["cifar10"]
    assert np.isnan(arrays.objectives[..., VALID]).all() and "valid_acc" not in arrays.splits
    np.testing.assert_allclose(arrays.objectives[0, 0, :, TEST], _acc_curve(0, "cifar10", "ori-test", 777), rtol=1e-6)


def test_missing_seed_stays_nan(epoch: dict[str, DatasetArrays]) -> None:
    """A cell trained with two seeds has NaN in the third seed's slot and values in the others."""
    arrays = epoch["cifar100"]
    assert np.isnan(arrays.objectives[NATS_TWO_SEEDS, _slot(arrays, 999)]).all()
    assert np.isfinite(arrays.objectives[NATS_TWO_SEEDS, _slot(arrays, 777)]).all()


def test_splits_recorded_only_after_the_last_epoch_stay_nan_before(epoch: dict[str, DatasetArrays]) -> None:
    """Runs that record x-valid/x-test only after epoch 200 have NaN at epochs 1..199, never a filled value."""
    arrays = epoch["cifar100"]
    row = arrays.objectives[NATS_OLD_STYLE, 0]
    assert np.isnan(row[:-1, VALID]).all() and np.isnan(row[:-1, TEST]).all()
    assert row[-1, VALID] == pytest.approx(nats_acc(NATS_OLD_STYLE, "200", "cifar100", "x-valid", 777, 199), rel=1e-6)


def test_cells_absent_from_the_folder_stay_nan(epoch: dict[str, DatasetArrays]) -> None:
    """Only the cells with files have values; the other 15,621 are NaN, objectives and cell_info alike."""
    arrays = epoch["cifar10-valid"]
    has = np.flatnonzero(~np.isnan(arrays.objectives).all(axis=(1, 2, 3)))
    assert tuple(has) == NATS_CELLS
    assert tuple(np.flatnonzero(~np.isnan(arrays.cell_info).all(axis=1))) == NATS_CELLS


def test_cell_info_comes_from_compute_costs(epoch: dict[str, DatasetArrays]) -> None:
    """params_m, flops_m and latency_s are ArchResults.get_compute_costs' params, flops and latency."""
    costs = nats_costs(6111)
    expected = [costs["params"], costs["flops"], costs["latency"]]
    np.testing.assert_allclose(epoch["ImageNet16-120"].cell_info[6111], expected, rtol=1e-6)


@pytest.mark.parametrize("old_style", [False, True])
def test_curve_reading_agrees_with_nats_bench_accessors(old_style: bool) -> None:
    """The one-pass curve equals get_eval(...)['accuracy'] / get_train(...)['all_time'] at every epoch, NaN where they fail."""
    index = NATS_OLD_STYLE if old_style else 6111
    result = nats_arch_results(index, "200").query("cifar100", 777)
    for setname in ("x-valid", "x-test", "ori-test", "train"):
        curve = _curve(result, setname)
        for e in range(200):
            try:
                info = result.get_train(e) if setname == "train" else result.get_eval(setname, e)
            except KeyError:
                assert np.isnan(curve[e])
                continue
            assert curve[e] == pytest.approx(info["all_time" if setname == "train" else "accuracy"], rel=1e-12)


def test_schedule_fidelity_holds_the_end_of_each_schedule(schedule: dict[str, DatasetArrays]) -> None:
    """fidelity='schedule' gives values (12, 200): each schedule's last epoch, from the hp=12 and hp=200 runs."""
    arrays = schedule["cifar10-valid"]
    assert arrays.fidelity.kind == "schedule" and arrays.fidelity.values == (12, 200)
    row = arrays.objectives[6111, _slot(arrays, 888)]
    assert row[0, VALID] == pytest.approx(nats_acc(6111, "12", "cifar10-valid", "x-valid", 888, 11), rel=1e-6)
    assert row[1, VALID] == pytest.approx(nats_acc(6111, "200", "cifar10-valid", "x-valid", 888, 199), rel=1e-6)
    assert row[0, TIME] == pytest.approx(12 * nats_epoch_time(6111, "cifar10-valid"), rel=1e-6)
    assert row[1, TIME] == pytest.approx(200 * nats_epoch_time(6111, "cifar10-valid"), rel=1e-6)
    assert "whole 12- or 200-epoch schedule" in arrays.splits["train_time_s"]


def test_schedule_seed_axis_grows_for_a_seed_outside_777_888_999(schedule: dict[str, DatasetArrays]) -> None:
    """A run with another seed (here hp=12 with seed 111) gets its own sorted seed slot instead of being dropped."""
    arrays = schedule["cifar100"]
    assert arrays.seeds == (111, 777, 888, 999)
    row = arrays.objectives[NATS_ODD_SEED, _slot(arrays, 111)]
    assert row[0, VALID] == pytest.approx(nats_acc(NATS_ODD_SEED, "12", "cifar100", "x-valid", 111, 11), rel=1e-6)
    assert np.isnan(row[1]).all() and np.isnan(arrays.objectives[NATS_ODD_SEED, _slot(arrays, 777), 0]).all()


def test_single_file_gives_the_same_arrays_and_warns_about_memory(
    tmp_path: Path, schedule: dict[str, DatasetArrays], monkeypatch
) -> None:
    """The single .pickle.pbz2 (loaded whole, after a memory warning when it is large) yields the same arrays as
    the folder."""
    import warnings

    from benchmarks.importers import _nats

    file = write_nats_single(tmp_path, NATS_CELLS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a small file is read without a memory warning
        NATS.read(file, fidelity="schedule")
    monkeypatch.setattr(_nats, "_WARN_BYTES", file.stat().st_size - 1)  # as large as the official file
    with pytest.warns(UserWarning, match="into memory"):
        result = NATS.read(file, fidelity="schedule")
    assert NATS.detect(file)
    for arrays in result.datasets:
        np.testing.assert_array_equal(arrays.objectives, schedule[arrays.dataset].objectives)
        np.testing.assert_array_equal(arrays.cell_info, schedule[arrays.dataset].cell_info)
        assert arrays.seeds == schedule[arrays.dataset].seeds


def test_meta_arch_out_of_official_order_is_refused(tmp_path: Path) -> None:
    """meta_archs whose position disagrees with our official index order is refused, naming the position."""
    archs = list(nats_meta_archs())
    archs[0], archs[1] = archs[1], archs[0]
    folder = write_nats_folder(tmp_path / "swapped", cells=(6111,), archs=archs)
    with pytest.raises(BadInputError, match=r"meta_archs\[0\].*official index 1"):
        NATS.read(folder)


def test_unknown_op_in_meta_is_refused(tmp_path: Path) -> None:
    """An arch string with an op outside NB201's five is refused with the op named."""
    archs = list(nats_meta_archs())
    archs[5] = "|conv_5x5~0|+" + archs[5].split("+", 1)[1]
    folder = write_nats_folder(tmp_path / "odd-op", cells=(6111,), archs=archs)
    with pytest.raises(BadInputError, match="unknown op 'conv_5x5'"):
        NATS.read(folder)


def test_record_of_another_cell_is_refused(tmp_path: Path) -> None:
    """A cell file whose record is for a different arch than its file index is refused."""
    folder = write_nats_folder(tmp_path / "misplaced", cells=())
    pickle_save(nats_record(0), str(folder / "000001.pickle"))
    with pytest.raises(BadInputError, match="000001.pickle.pbz2: the record is for arch 0"):
        NATS.read(folder)


def test_meta_file_alone_is_refused(folder: Path) -> None:
    """Giving the -simple folder's meta file instead of the folder says to import the folder."""
    import warnings

    with warnings.catch_warnings(), pytest.raises(BadInputError, match="meta file of a -simple folder"):
        warnings.simplefilter("error")  # one line: no memory warning before the refusal (issue 21)
        NATS.read(folder / "meta.pickle.pbz2")


def test_folder_without_cell_files_is_refused(tmp_path: Path) -> None:
    """A meta file with no per-cell files is refused rather than imported as an all-NaN store."""
    with pytest.raises(BadInputError, match="no per-cell files"):
        NATS.read(write_nats_folder(tmp_path / "empty", cells=()))


@pytest.mark.parametrize("options", [{"fidelity": "epochs"}, {"fidelity": "schedule", "hp": "12"}])
def test_bad_options_are_refused(folder: Path, options: dict) -> None:
    """An unknown fidelity kind or an unknown option is refused before any file is read."""
    with pytest.raises(BadInputError):
        NATS.read(folder, **options)


def test_progress_reports_every_cell_read(folder: Path) -> None:
    """progress(done, total, desc) starts at 0 and ends with all cell files read."""
    calls: list[tuple[int, int, str]] = []
    NATS.read(folder, fidelity="schedule", progress=lambda *args: calls.append(args))
    assert calls[0][:2] == (0, len(NATS_CELLS)) and calls[-1][:2] == (len(NATS_CELLS), len(NATS_CELLS))


def test_store_query_reports_values_with_their_splits(folder: Path, tmp_path: Path) -> None:
    """A schedule store answers queries per seed with the NB201 valid/test pairing and the split texts."""
    import_store(folder, fmt="nats", name="nats", root=tmp_path, fidelity="schedule")
    bench = open_benchmark("nats", root=tmp_path)
    result = bench.query(6111, "cifar10-valid", fidelity=200, seed=999)
    assert result.valid_acc == pytest.approx(nats_acc(6111, "200", "cifar10-valid", "x-valid", 999, 199), rel=1e-6)
    assert result.test_acc == pytest.approx(nats_acc(6111, "200", "cifar10", "ori-test", 999, 199), rel=1e-6)
    assert result.params_m == pytest.approx(nats_costs(6111)["params"], rel=1e-6)
    assert bench.fidelity_space("cifar10-valid").kind == "schedule"
    low = bench.query(6111, "cifar10-valid", fidelity=12, seed=999).valid_acc
    assert low < result.valid_acc

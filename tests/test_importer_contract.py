"""The contract every registered importer keeps, run against a tiny source in its own format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _importer_sources import SOURCES, Source, isolated_data  # noqa: F401  (autouse fixture)

import benchmarks._store
from adapters import NUM_CELLS
from benchmarks import (
    CELL_INFO,
    DATASETS,
    METRICS,
    DatasetArrays,
    import_store,
    open_benchmark,
    verify_store,
)
from benchmarks.importers import IMPORTERS, Importer, detect_importer
from adapters.types import SEED_MEAN, BadInputError

NAMES = sorted(IMPORTERS)


@pytest.fixture(params=NAMES)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Importer, Source]:
    return IMPORTERS[request.param], SOURCES[request.param](tmp_path / "source")


def test_every_importer_has_a_fixture_source() -> None:
    """Every registered format has a fixture source, so none escapes these contract tests."""
    assert set(SOURCES) == set(IMPORTERS)


def test_read_gives_full_float32_arrays_with_nan_for_missing(case: tuple[Importer, Source]) -> None:
    """read() gives one DatasetArrays per known dataset, full-size float32, finite or NaN, NaN outside the source's cells."""
    importer, source = case
    result = importer.read(source.path, **source.options)
    assert result.source["format"] == importer.name and result.source["license"]
    names = [arrays.dataset for arrays in result.datasets]
    assert names and len(set(names)) == len(names) and set(names) <= set(DATASETS)
    for arrays in result.datasets:
        assert isinstance(arrays, DatasetArrays)
        objectives, info = arrays.objectives, arrays.cell_info
        assert objectives.dtype == np.float32 and info.dtype == np.float32
        assert objectives.shape == (NUM_CELLS, len(arrays.seeds), len(arrays.fidelity.values), len(METRICS))
        assert info.shape == (NUM_CELLS, len(CELL_INFO))
        assert not np.isinf(objectives).any() and not np.isinf(info).any()
        assert len(set(arrays.seeds)) == len(arrays.seeds)
        if source.cells is not None:
            outside = np.ones(NUM_CELLS, dtype=bool)
            outside[list(source.cells)] = False
            assert np.isnan(objectives[outside]).all() and np.isnan(info[outside]).all()
            assert all(np.isfinite(objectives[cell]).any() for cell in source.cells)


def test_fidelity_axis_is_one_kind(case: tuple[Importer, Source]) -> None:
    """The fidelity axis is increasing and either epochs 1..200 or schedule lengths 12/200, never a mix."""
    importer, source = case
    for arrays in importer.read(source.path, **source.options).datasets:
        values = arrays.fidelity.values
        assert list(values) == sorted(set(values))
        allowed = set(range(1, 201)) if arrays.fidelity.kind == "epoch" else {12, 200}
        assert arrays.fidelity.kind in ("epoch", "schedule") and set(values) <= allowed
        assert arrays.fidelity.meaning


def test_every_present_metric_names_its_split(case: tuple[Importer, Source]) -> None:
    """Each metric with any value has a non-empty split, and no split is claimed for an all-NaN metric."""
    importer, source = case
    for arrays in importer.read(source.path, **source.options).datasets:
        means = arrays.seed_means if arrays.seed_means is not None else np.full(arrays.objectives.shape[:1] + arrays.objectives.shape[2:], np.nan)
        present = {m for i, m in enumerate(METRICS)
                   if np.isfinite(arrays.objectives[..., i]).any() or np.isfinite(means[..., i]).any()}
        assert set(arrays.splits) == present
        assert all(text.strip() for text in arrays.splits.values())


@pytest.mark.parametrize("name", NAMES)
def test_detect_accepts_own_source_and_rejects_others(name: str, tmp_path: Path) -> None:
    """detect() recognises its own fixture source and no other format's; detection picks it."""
    sources = {other: factory(tmp_path / other) for other, factory in SOURCES.items()}
    for other, source in sources.items():
        assert IMPORTERS[name].detect(source.path) == (other == name), other
    assert detect_importer(sources[name].path).name == name


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_file_raises_bad_input(case: tuple[Importer, Source], damage: str) -> None:
    """A truncated or garbage source file raises BadInputError, never another exception."""
    importer, source = case
    data = source.corrupt.read_bytes()
    source.corrupt.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x00garbage\xff" * 64)
    with pytest.raises(BadInputError):
        importer.read(source.path, **source.options)


def test_import_store_round_trip(case: tuple[Importer, Source], tmp_path: Path) -> None:
    """import_store writes exactly one verified store whose queries carry the recorded splits."""
    importer, source = case
    root = tmp_path / "stores"
    import_store(source.path, fmt=importer.name, name="s", root=root, **source.options)
    assert [p.name for p in root.iterdir()] == ["s"]
    assert verify_store(root / "s") == []
    bench = open_benchmark("s", root=root)
    dataset = bench.datasets[0]
    cell = source.cells[0] if source.cells else 0
    result = bench.query(cell, dataset, seed=SEED_MEAN)
    assert result.split == bench.splits(dataset)
    assert any(v is not None for v in (result.valid_acc, result.test_acc, result.train_time_s))


def test_failed_read_leaves_nothing_under_root(case: tuple[Importer, Source], tmp_path: Path) -> None:
    """An importer failing mid-read (after its first progress report) leaves no store and no temp folder."""
    importer, source = case
    root = tmp_path / "stores"
    calls: list[str] = []

    def progress(done: int, total: int, desc: str) -> None:
        calls.append(desc)
        if len(calls) > 1:
            raise RuntimeError("injected failure mid-read")

    with pytest.raises(RuntimeError, match="injected"):
        import_store(source.path, fmt=importer.name, name="s", root=root, progress=progress, **source.options)
    assert not root.exists() or list(root.iterdir()) == []


def test_failed_write_leaves_nothing_under_root(
    case: tuple[Importer, Source], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write failing after the datasets' files are written leaves no store and no temp folder."""
    importer, source = case
    root = tmp_path / "stores"

    def fail(path: Path, data: bytes) -> None:
        assert any(path.parent.glob("*/objectives.npy")), "datasets should be written before the manifest"
        raise OSError("injected: disk full")

    monkeypatch.setattr(benchmarks._store, "atomic_write_bytes", fail)  # the manifest, written last
    with pytest.raises(OSError, match="injected"):
        import_store(source.path, fmt=importer.name, name="s", root=root, **source.options)
    assert list(root.iterdir()) == []

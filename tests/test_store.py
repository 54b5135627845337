"""Stores: manifests, checksums, atomic replacement and corruption detection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import (
    CELL_INFO, METRICS, SCHEMA_VERSION, DatasetArrays, open_benchmark, read_manifest, verify_store, write_store,
)
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace


def _arrays(value: float, n_fid: int = 1) -> DatasetArrays:
    objectives = np.full((15625, 1, n_fid, len(METRICS)), np.nan, dtype=np.float32)
    objectives[:, 0, :, 0] = value
    return DatasetArrays(
        dataset="cifar10-valid",
        objectives=objectives,
        cell_info=np.zeros((15625, len(CELL_INFO)), dtype=np.float32),
        seeds=(777,),
        fidelity=FidelitySpace("epoch", tuple(range(200 - n_fid + 1, 201))),
        splits={"valid_acc": "x-valid", "train_time_s": "t"},
    )


def test_manifest_records_provenance(tmp_path):
    """The manifest holds schema version, SHA-256 per file, source/license, splits and fidelity meaning."""
    path = write_store("tiny", {"name": "unit", "license": "MIT"}, [_arrays(50.0)], root=tmp_path)
    body = json.loads((path / "manifest.json").read_text())
    assert body["schema_version"] == SCHEMA_VERSION and body["source"]["license"] == "MIT"
    entry = body["datasets"]["cifar10-valid"]
    assert set(entry["files"]) == {"objectives.npy", "cell_info.npy"}
    assert all(len(h) == 64 for h in entry["files"].values())
    assert entry["fidelity"]["kind"] == "epoch" and "200-epoch" in entry["fidelity"]["meaning"]
    assert verify_store(path) == []


def test_verify_detects_corruption(tmp_path):
    """A flipped byte in an array file is reported by verify."""
    path = write_store("tiny", {"name": "unit"}, [_arrays(50.0)], root=tmp_path)
    target = path / "cifar10-valid" / "objectives.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    assert any("SHA-256 mismatch" in p for p in verify_store(path))


def test_tampered_manifest_rejected(tmp_path):
    """A manifest edited by hand fails its own checksum with a clear error."""
    path = write_store("tiny", {"name": "unit"}, [_arrays(50.0)], root=tmp_path)
    body = json.loads((path / "manifest.json").read_text())
    body["source"]["name"] = "edited"
    (path / "manifest.json").write_text(json.dumps(body))
    with pytest.raises(BadInputError, match="checksum mismatch"):
        read_manifest(path)


def test_existing_store_needs_force_and_replace_is_whole(tmp_path):
    """Re-importing needs force; a forced replace swaps the whole store and leaves no temp folders."""
    write_store("tiny", {"name": "v1"}, [_arrays(50.0)], root=tmp_path)
    with pytest.raises(BadInputError, match="already exists"):
        write_store("tiny", {"name": "v2"}, [_arrays(60.0)], root=tmp_path)
    write_store("tiny", {"name": "v2"}, [_arrays(60.0)], root=tmp_path, force=True)
    bench = open_benchmark("tiny", root=tmp_path)
    assert bench.query(0, "cifar10-valid", seed=SEED_MEAN).valid_acc == 60.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    """An error mid-write removes the partial store; the old one stays intact."""
    write_store("tiny", {"name": "v1"}, [_arrays(50.0)], root=tmp_path)
    import benchmarks._store as store

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "atomic_write_bytes", boom)  # the manifest, written last
    with pytest.raises(OSError):
        write_store("tiny", {"name": "v2"}, [_arrays(60.0)], root=tmp_path, force=True)
    with pytest.raises(OSError):
        write_store("fresh", {"name": "v2"}, [_arrays(60.0)], root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]
    assert open_benchmark("tiny", root=tmp_path).query(0, "cifar10-valid", seed=SEED_MEAN).valid_acc == 50.0


def test_bad_store_names_and_missing_stores(tmp_path):
    """Invalid names and unknown stores are clear errors."""
    with pytest.raises(BadInputError, match="invalid store name"):
        write_store("../x", {}, [_arrays(1.0)], root=tmp_path)
    with pytest.raises(BadInputError, match="no store named 'nope'"):
        open_benchmark("nope", root=tmp_path)


def test_fidelity_axis_queries(tmp_path):
    """Epoch fidelities index the axis; the default is the highest."""
    arrays = _arrays(0.0, n_fid=3)
    arrays.objectives[:, 0, :, 0] = [10.0, 20.0, 30.0]
    write_store("curves", {"name": "unit"}, [arrays], root=tmp_path)
    bench = open_benchmark("curves", root=tmp_path)
    assert bench.fidelity_space("cifar10-valid").multi_fidelity
    assert bench.query(0, "cifar10-valid", fidelity=198, seed=777).valid_acc == 10.0
    assert bench.query(0, "cifar10-valid", seed=777).valid_acc == 30.0

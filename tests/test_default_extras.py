"""The shipped extras file (test accuracy, 12-epoch schedule) and the default store built from it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters import NUM_CELLS
from benchmarks import open_benchmark, open_store, read_manifest
from benchmarks._extras import DATASETS, EXTRAS_ARRAYS, default_build, extras_path, extras_sha256, load_extras
from conftest import SHARED_NB201, shared_table

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("nb201_hp12_accuracy.csv", "nb201_hp200_test_accuracy.csv")


def test_shipped_file_shapes_and_optima():
    """float32 [dataset, cell] arrays; the 200-epoch test optima of the facts file; hp=12 below hp=200."""
    extras = load_extras()
    for name in EXTRAS_ARRAYS:
        array = getattr(extras, name)
        assert array.shape == (len(DATASETS), NUM_CELLS) and array.dtype == np.float32
        assert not np.isnan(array).any() and 0 <= array.min() and array.max() <= 100
    best = [(int(row.argmax()), round(float(row.max()), 3)) for row in extras.hp200_test]
    assert best == [(6111, 94.373), (9930, 73.513), (857, 47.311)]
    assert ((extras.hp12_test < extras.hp200_test).mean(axis=1) > 0.9).all()


def test_shipped_file_records_provenance_licenses_and_checksums():
    """Every array names its split and source columns; every input its origin, license and SHA-256."""
    provenance = load_extras().provenance
    assert provenance["datasets"] == list(DATASETS)
    assert set(provenance["arrays"]) == set(EXTRAS_ARRAYS)
    assert provenance["arrays"]["hp12_valid"]["columns"] == ["cifar10-val", "cifar100-val", "imagenet-val"]
    assert provenance["arrays"]["hp200_test"]["file"] == "nb201_hp200_test_accuracy.csv"
    assert set(provenance["inputs"]) == set(INPUTS)
    for entry in provenance["inputs"].values():
        assert entry["license"].startswith("MIT") and entry["url"].startswith("https://github.com/")
        assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0
    with np.load(extras_path(), allow_pickle=False) as data:  # no pickled objects in the shipped file
        assert set(data.files) == {*EXTRAS_ARRAYS, "provenance"}


def test_default_manifest_states_sources_and_the_time_approximation(default_bench):
    """The default store's manifest names its build, the extras' inputs with checksums, and the 12/200 time rule."""
    source = default_bench.manifest.source
    assert source["build"] == default_build() and extras_sha256() in source["build"]
    assert {e["sha256"] for e in source["extras"].values()} == {
        e["sha256"] for e in load_extras().provenance["inputs"].values()
    }
    assert any("12/200" in note for note in source["notes"])
    entry = json.loads((default_bench.manifest.path / "manifest.json").read_text())["datasets"]["cifar10-valid"]
    assert entry["mean_only_fidelities"] == [12] and "seed_means.npy" in entry["files"]


def test_stale_default_store_is_rebuilt(tmp_path):
    """A default store built by an older importer (another build) is rebuilt on open, with the new data."""
    root = tmp_path / "data"
    manifest = open_store(root=root)
    path = manifest.path / "manifest.json"
    body = json.loads(path.read_text())
    body["source"].pop("build")  # what an older hpo2nas wrote: no build, test accuracy and 12 epochs missing
    body.pop("checksum")
    from benchmarks._store import _manifest_checksum

    body["checksum"] = _manifest_checksum(body)
    path.write_text(json.dumps(body))
    assert "build" not in read_manifest(manifest.path).source
    rebuilt = open_benchmark(root=root)
    assert rebuilt.manifest.source["build"] == default_build()
    assert rebuilt.fidelity_space("cifar100").values == (12, 200)


# --- rebuilt from the reference tables in ../shared/data/nb201 --------------------------------
def test_inputs_match_the_recorded_checksums():
    """The reference tables are the ones the shipped file was built from (SHA-256 recorded inside it)."""
    recorded = load_extras().provenance["inputs"]
    for name in INPUTS:
        assert hashlib.sha256(shared_table(name).read_bytes()).hexdigest() == recorded[name]["sha256"]


def test_script_rebuilds_the_same_arrays(tmp_path):
    """scripts/build_nb201_extras.py recreates the shipped arrays exactly from the reference tables."""
    for name in INPUTS:
        shared_table(name)
    out = tmp_path / "extras.npz"
    subprocess.run([sys.executable, "scripts/build_nb201_extras.py", "--source", str(SHARED_NB201), "--out", str(out)],
                   cwd=REPO, check=True, capture_output=True, text=True)
    fresh, shipped = load_extras(out), load_extras()
    for name in EXTRAS_ARRAYS:
        np.testing.assert_array_equal(getattr(fresh, name), getattr(shipped, name))
    assert fresh.provenance == shipped.provenance


def test_columns_map_to_the_right_split(default_bench):
    """Per dataset, the store's 12-epoch x-valid/test and 200-epoch test equal the reference tables' columns."""
    hp12 = pd.read_csv(shared_table("nb201_hp12_accuracy.csv"))
    hp200 = pd.read_csv(shared_table("nb201_hp200_test_accuracy.csv"))
    every = np.arange(NUM_CELLS)
    columns = {"cifar10-valid": ("cifar10-val", "cifar10-test", "cifar10_test"),
               "cifar100": ("cifar100-val", "cifar100-test", "cifar100_test"),
               "ImageNet16-120": ("imagenet-val", "imagenet-test", "imagenet16_120_test")}
    for dataset, (valid12, test12, test200) in columns.items():
        for metric, fidelity, column, frame in (("valid_acc", 12, valid12, hp12), ("test_acc", 12, test12, hp12),
                                                ("test_acc", 200, test200, hp200)):
            np.testing.assert_allclose(default_bench.lookup(every, dataset, metric, fidelity), frame[column], rtol=1e-6)


def test_multi_fidelity_run_records_the_time_approximation(default_bench, tmp_path):
    """A run that uses the 12-epoch schedule carries the store's note on how its time is estimated."""
    from harness.running.budget import Budget
    from harness.running.runner import RunConfig, execute_run

    config = RunConfig(optimizer="dehb", dataset="cifar10-valid", budget=Budget.parse("12evals"), seed=0)
    result = execute_run(config, tmp_path / "run")
    assert 12 in {t["fidelity"] for t in result.rows}
    notes = json.loads((result.folder / "run.json").read_text())["store"]["notes"]
    assert any("12/200" in note for note in notes)

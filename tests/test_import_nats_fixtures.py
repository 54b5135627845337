"""The ``nats`` importer and the ``nats-sss`` / ``nats-tss`` fetch on NATS-Bench's own fixture archives (3 cells each)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from nats_bench.api_utils import ArchResults, pickle_load

from adapters.spaces import NatsSizeSpace
from adapters.types import BadInputError
from benchmarks import METRICS, open_benchmark, read_manifest
from benchmarks.fetch import SOURCES, RemoteFile, fetch_source
from benchmarks.importers import IMPORTERS

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nats_fixtures"
TSS, SSS = "NATS-tss-v1_0-3ffb9-simple", "NATS-sss-v1_0-50262-simple"
CELLS = (0, 11, 284)
VALID, TEST, TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
NATS = IMPORTERS["nats"]


def fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_dir():
        pytest.skip(f"NATS-Bench fixture {path} is absent (it ships only beside development checkouts and CI)")
    return path


def records(name: str, index: int) -> dict[str, ArchResults]:
    """One cell's schedules as nats_bench's own ArchResults."""
    state = pickle_load(str(fixture(name) / f"{index:06d}.pickle.pbz2"))
    return {hp: ArchResults.create_from_state_dict(s) for hp, s in state.items()}


def test_size_space_is_the_archives_index_order() -> None:
    """Every one of the 32,768 meta_archs entries is the size space's string of that row."""
    archs = pickle_load(str(fixture(SSS) / "meta.pickle.pbz2"))["meta_archs"]
    space = NatsSizeSpace()
    assert len(archs) == space.size
    assert all(space.arch_str(row) == arch and space.from_native(arch) == row for row, arch in enumerate(archs))


@pytest.mark.parametrize("name,schedules", [(TSS, ("12", "200")), (SSS, ("01", "12", "90"))])
def test_schedule_import_equals_nats_benchs_own_accessors(name: str, schedules: tuple[str, ...]) -> None:
    """End of every schedule, every seed, every dataset: the value get_eval / get_train give; other cells NaN."""
    result = NATS.read(fixture(name), fidelity="schedule")
    assert result.source["space"] == ("nats-tss" if name == TSS else "nats-sss")
    by_name = {d.dataset: d for d in result.datasets}
    for index in CELLS:
        for f, (hp, arch) in enumerate(sorted(records(name, index).items(), key=lambda kv: int(kv[0]))):
            assert by_name["cifar10-valid"].fidelity.values[f] == int(hp)
            for dataset, valid_set in [("cifar10-valid", "x-valid"), ("cifar100", "x-valid"), ("ImageNet16-120", "x-valid")]:
                arrays = by_name[dataset]
                for seed in arch.dataset_seed[dataset]:
                    run = arch.query(dataset, seed)
                    slot = arrays.seeds.index(seed)
                    assert arrays.objectives[index, slot, f, VALID] == pytest.approx(run.get_eval(valid_set)["accuracy"], rel=1e-6)
                    assert arrays.objectives[index, slot, f, TIME] == pytest.approx(run.get_train()["all_time"], rel=1e-6)
            costs = arch.get_compute_costs("cifar100")
            assert by_name["cifar100"].cell_info[index].tolist() == pytest.approx(
                [costs["params"], costs["flops"], costs["latency"]], rel=1e-6)
    others = np.setdiff1d(np.arange(len(by_name["cifar100"].objectives)), CELLS)
    assert np.isnan(by_name["cifar100"].objectives[others]).all()


def test_size_space_epoch_import_has_the_90_epoch_curves() -> None:
    """--fidelity epoch on the size space: epochs 1..90 of the 90-epoch schedule, per seed, as get_eval(iepoch) gives."""
    result = NATS.read(fixture(SSS), fidelity="epoch")
    arrays = {d.dataset: d for d in result.datasets}["cifar10-valid"]
    assert arrays.fidelity.values == tuple(range(1, 91)) and "90-epoch" in arrays.fidelity.meaning
    assert arrays.objectives.shape[:3] == (NatsSizeSpace.size, len(arrays.seeds), 90)
    arch = records(SSS, 284)["90"]
    for seed in arch.dataset_seed["cifar10-valid"]:
        run = arch.query("cifar10-valid", seed)
        curve = arrays.objectives[284, arrays.seeds.index(seed), :, VALID]
        for epoch in (0, 11, 89):
            assert curve[epoch] == pytest.approx(run.get_eval("x-valid", epoch)["accuracy"], rel=1e-6)


def test_misplaced_size_space_record_is_refused(tmp_path: Path) -> None:
    """A record filed under another index is refused, naming both (the same check as the topology space)."""
    folder = shutil.copytree(fixture(SSS), tmp_path / SSS)
    os.rename(folder / "000011.pickle.pbz2", folder / "000012.pickle.pbz2")
    with pytest.raises(BadInputError, match="record is for arch 11 .* place and meta_archs say 12"):
        NATS.read(folder, fidelity="schedule")


def tar_of(folder: Path, out: Path) -> Path:
    tar_path = out / f"{folder.name}.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(folder, arcname=folder.name)
    return tar_path


@pytest.mark.parametrize("name,source", [(TSS, "nats-tss"), (SSS, "nats-sss")])
def test_fetch_from_file_imports_the_real_fixture_archive(tmp_path: Path, name: str, source: str) -> None:
    """The fetch source reads the -simple tar in place, records its SHA-256 and the space; NB201 queries refuse sss."""
    tar_path = tar_of(fixture(name), tmp_path)
    data = tar_path.read_bytes()
    entry = replace(SOURCES[source], files=(RemoteFile(tar_path.name, "", len(data), hashlib.sha256(data).hexdigest()),))
    root = tmp_path / "data"
    store = fetch_source(entry, from_file=tar_path, root=root, options={"fidelity": "schedule"})
    manifest = read_manifest(store)
    assert manifest.source["space"] == source
    assert manifest.source["fetch"]["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    if source == "nats-tss":
        bench = open_benchmark(source, root=root)
        run = records(TSS, 11)["200"].query("cifar10-valid", 777)
        assert bench.query(11, "cifar10-valid", 200, 777).valid_acc == pytest.approx(run.get_eval("x-valid")["accuracy"], rel=1e-6)
    else:
        with pytest.raises(BadInputError, match="not NB201 cells"):
            open_benchmark(source, root=root)
        check_size_space_table(root)


def check_size_space_table(root: Path) -> None:
    """The fetched size-space store reads as a SuiteTable: NATS-Bench's values per seed, draws only among real runs."""
    from adapters.types import SEED_MEAN, RandomSeed
    from benchmarks.suites import nats_sss_table

    table = nats_sss_table("cifar10-valid", root=root)
    assert table.space.size == 32768 and table.objective.name == "valid_acc"
    for hp, fidelity in (("90", None), ("12", 12), ("01", 1)):
        table = nats_sss_table("cifar10-valid", root=root, fidelity=fidelity)
        arch = records(SSS, 284)[hp]
        seeds = arch.dataset_seed["cifar10-valid"]
        for seed in seeds:
            got = table.query(284, seed)
            assert got["valid_acc"] == pytest.approx(arch.query("cifar10-valid", seed).get_eval("x-valid")["accuracy"], rel=1e-6)
            assert got["params_m"] == pytest.approx(arch.get_compute_costs("cifar10-valid")["params"], rel=1e-6)
        draws = {table.query(284, RandomSeed(k))["valid_acc"] for k in range(30)}
        assert draws == {table.query(284, s)["valid_acc"] for s in seeds}
    assert np.isnan(table.query(5, SEED_MEAN)["valid_acc"])
    with pytest.raises(BadInputError, match="no results"):
        table.query(5, RandomSeed(0))
    with pytest.raises(BadInputError, match="fidelity 200"):
        nats_sss_table("cifar10-valid", root=root, fidelity=200)


def test_nats_sss_fetch_on_the_cli_checks_structure(tmp_path: Path) -> None:
    """The CLI takes the unpinned sss archive by hand, imports it, and lists it with its checksum note."""
    tar_path = tar_of(fixture(SSS), tmp_path)
    env = {**os.environ, "HPO2NAS_DATA": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "harness", "data", "fetch", "nats-sss", "--from-file", str(tar_path),
                           "--fidelity", "schedule"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(tmp_path / "data" / "nats-sss")
    assert manifest.datasets["cifar10-valid"]["fidelity"]["values"] == [1, 12, 90]
    broken = tmp_path / "broken.tar"
    broken.write_bytes(tar_path.read_bytes()[:5000])
    bad = subprocess.run([sys.executable, "-m", "harness", "data", "fetch", "nats-sss", "--name", "b", "--from-file",
                          str(broken)], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert not (tmp_path / "data" / "b").exists()

"""``hpo2nas data fetch`` against a real loopback HTTP server serving each source's exact layout.

The fixtures are written here (never downloaded). The registry's real pins cannot match a
fixture, so the tests that need a verified download use the registry entry with the
fixture's pins (:func:`pinned`, the Python API); the CLI, which only ever reads the real
registry, is run as a user runs it, where it must refuse the fixtures of pinned sources and
accept the unpinned mf-prior-bench archive after its structure check.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _http_server import Served, file_server
from _importer_sources import (  # noqa: F401  (isolated_data: autouse fixture)
    MFP_CELLS,
    isolated_data,
    mfp_acc,
    mfp_all_time,
    nats_acc,
    syne_error,
    write_mfpbench_zip,
    write_nats_tar,
    write_synetune_folder,
)

from adapters.types import BadInputError
from benchmarks import open_benchmark, read_manifest, verify_store
from benchmarks.fetch import SOURCES, FetchSource, Interrupted, RemoteFile, fetch_source
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run

NATS_TAR = "NATS-tss-v1_0-3ffb9-simple.tar"
MFP_ZIP = "nb201-tabular-data.zip"
SYNE_FILES = ("objectives_evaluations.npy", "fidelities_values.npy", "hyperparameters.parquet", "metadata.json")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pinned(name: str, files: dict[str, bytes]) -> FetchSource:
    """The registry's entry with the fixture's sizes and SHA-256 where the real one pins them."""
    real = SOURCES[name]
    return replace(real, files=tuple(
        RemoteFile(f.name, f.url, len(files[f.name]), _sha(files[f.name])) if f.pinned else f for f in real.files
    ))


@pytest.fixture(scope="module")
def nats_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_nats_tar(tmp_path_factory.mktemp("nats")).read_bytes()


@pytest.fixture(scope="module")
def mfp_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_mfpbench_zip(tmp_path_factory.mktemp("mfp")).read_bytes()


@pytest.fixture(scope="module")
def syne_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = write_synetune_folder(tmp_path_factory.mktemp("syne") / "nasbench201")
    return {name: (folder / name).read_bytes() for name in SYNE_FILES}


@pytest.fixture
def server() -> Served:
    with file_server() as served:
        yield served


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def everything(root: Path) -> list[str]:
    """Every file and folder under the data root, relative to it."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def assert_only_store(root: Path, name: str) -> None:
    """The store and nothing else: no downloads, parts or temporary folders are left."""
    assert sorted(p.name for p in root.iterdir()) == [name]


def hpo2nas(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(root)}
    return subprocess.run([sys.executable, "-m", "harness", "data", "fetch", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def assert_failed_cleanly(out: subprocess.CompletedProcess, root: Path, *words: str) -> str:
    """Exit 2, one line on stderr naming ``words``, and nothing at all under the data root."""
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpo2nas: error:"), out.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert everything(root) == []
    return lines[0]


# --- the list -----------------------------------------------------------------------------
def test_list_shows_size_license_url_and_contents_of_every_source(root: Path) -> None:
    """--list --json: one object per source with its size, license, URL, splits, fidelities and seeds."""
    out = hpo2nas(root, "--list", "--json")
    assert out.returncode == 0, out.stderr
    entries = {e["name"]: e for e in map(json.loads, out.stdout.splitlines())}
    assert set(entries) == set(SOURCES)
    for entry in entries.values():
        assert all(entry[k] for k in ("size", "license", "url", "splits", "fidelities", "seeds"))
    assert entries["nats-tss"]["size"].startswith("1,145,989,120 bytes") and "third party" in entries["nats-tss"]["checksums"]
    assert "ori-test" in entries["synetune-nb201"]["splits"] and "seed means" in entries["mfpbench-nb201"]["seeds"]


# --- good fetches, one per source ---------------------------------------------------------
def test_nats_tss_fetch_imports_the_tar_and_records_its_checksum(server: Served, root: Path, nats_bytes: bytes) -> None:
    """A verified NATS-tss tar becomes a store with per-seed curves; the download is deleted."""
    server.files[f"/{NATS_TAR}"] = nats_bytes
    store = fetch_source(pinned("nats-tss", {NATS_TAR: nats_bytes}), url=server.url(f"/{NATS_TAR}"), root=root)
    assert_only_store(root, "nats-tss")
    assert verify_store(store) == []
    fetched = read_manifest(store).source["fetch"]
    assert fetched["files"] == [{"name": NATS_TAR, "sha256": _sha(nats_bytes), "pinned": True,
                                 "check": "pinned size and SHA-256"}]
    result = open_benchmark("nats-tss", root=root).query(6111, "cifar10-valid", 200, 777)
    assert result.valid_acc == pytest.approx(nats_acc(6111, "200", "cifar10-valid", "x-valid", 777, 199), rel=1e-6)
    assert result.test_acc == pytest.approx(nats_acc(6111, "200", "cifar10", "ori-test", 777, 199), rel=1e-6)


def test_mfpbench_fetch_on_the_cli_checks_structure_and_records_the_sha_seen(server: Served, root: Path,
                                                                              mfp_bytes: bytes) -> None:
    """The unpinned mf-prior-bench zip: imported through the CLI with truthful splits and its SHA-256 recorded."""
    server.files[f"/mirror/{MFP_ZIP}"] = mfp_bytes
    out = hpo2nas(root, "mfpbench-nb201", "--url", server.url(f"/mirror/{MFP_ZIP}"), "--name", "mfp")
    assert out.returncode == 0, out.stderr
    assert_only_store(root, "mfp")
    fetched = read_manifest(root / "mfp").source["fetch"]
    assert fetched["files"][0]["sha256"] == _sha(mfp_bytes) and fetched["files"][0]["pinned"] is False
    bench = open_benchmark("mfp", root=root)
    cell = MFP_CELLS[0]
    valid = bench.query(cell, "cifar10-valid", 200, 0)
    assert valid.valid_acc == pytest.approx(mfp_acc(cell, "cifar10-valid", 200, 200))
    assert valid.test_acc == pytest.approx(mfp_acc(cell, "cifar10", 200, 200))
    assert valid.train_time_s == pytest.approx(mfp_all_time(cell, "cifar10-valid", 200))
    assert valid.split["valid_acc"].startswith("x-valid") and "'cifar10' run" in valid.split["test_acc"]
    c100 = bench.query(cell, "cifar100", 50, 0)
    assert c100.valid_acc is None and c100.test_acc == pytest.approx(mfp_acc(cell, "cifar100", 200, 50))
    assert c100.split["test_acc"].startswith("ori-test (x-valid and x-test together")


def test_synetune_fetch_imports_its_valid_error_as_ori_test(server: Served, root: Path,
                                                           syne_files: dict[str, bytes]) -> None:
    """syne-tune's 'valid error' is ori-test: test_acc under that name, no valid_acc without the opt-in."""
    for name, data in syne_files.items():
        server.files[f"/nasbench201/{name}"] = data
    source = pinned("synetune-nb201", syne_files)
    store = fetch_source(source, url=server.url("/nasbench201/"), root=root)
    assert_only_store(root, "synetune-nb201")
    files = {f["name"]: f for f in read_manifest(store).source["fetch"]["files"]}
    assert files["objectives_evaluations.npy"]["pinned"] and not files["metadata.json"]["pinned"]
    assert all(files[n]["sha256"] == _sha(d) for n, d in syne_files.items())
    result = open_benchmark("synetune-nb201", root=root).query(6111, "cifar100", 200, 888)
    expected = 100 * (1 - float(np.float32(syne_error(1, np.array(6111), 1, 200))))
    assert result.valid_acc is None and result.test_acc == pytest.approx(expected, abs=1e-3)
    assert result.split["test_acc"].startswith("ori-test") and "valid_acc" not in result.split


def test_synetune_search_on_test_is_an_opt_in_that_every_record_names(server: Served, root: Path,
                                                                       syne_files: dict[str, bytes]) -> None:
    """With search_on_test, valid_acc holds the ori-test values and its split says the search uses the test split."""
    for name, data in syne_files.items():
        server.files[f"/nasbench201/{name}"] = data
    fetch_source(pinned("synetune-nb201", syne_files), url=server.url("/nasbench201"), root=root,
                 options={"search_on_test": True}, name="syne-test")
    result = open_benchmark("syne-test", root=root).query(10, "cifar10", 100, 777)
    assert result.valid_acc == result.test_acc is not None
    assert result.split["valid_acc"].startswith("ori-test: THE TEST SPLIT")
    config = RunConfig(optimizer="random", dataset="cifar10", budget=Budget.parse("5evals"), seed=0, store="syne-test")
    execute_run(config, root.parent / "run", root=root)
    recorded = json.loads((root.parent / "run" / "run.json").read_text())["store"]["splits"]
    assert recorded["valid_acc"].startswith("ori-test: THE TEST SPLIT")


# --- interrupted and failed downloads -----------------------------------------------------
def test_interrupted_download_keeps_its_part_and_the_next_run_resumes_with_range(
    server: Served, root: Path, nats_bytes: bytes
) -> None:
    """The server drops the connection half-way; the part is kept, and the rerun asks for the rest only."""
    path = f"/{NATS_TAR}"
    server.files[path], server.behaviour[path] = nats_bytes, "drop-once"
    source = pinned("nats-tss", {NATS_TAR: nats_bytes})
    with pytest.raises(Interrupted, match="run the same command again to resume"):
        fetch_source(source, url=server.url(path), root=root)
    half = len(nats_bytes) // 2
    assert everything(root) == [".downloads", ".downloads/nats-tss", f".downloads/nats-tss/{NATS_TAR}.part",
                                f".downloads/nats-tss/{NATS_TAR}.part.json"]
    assert (root / ".downloads/nats-tss" / f"{NATS_TAR}.part").stat().st_size == half
    fetch_source(source, url=server.url(path), root=root)
    assert server.requests == [(path, None), (path, f"bytes={half}-")]
    assert_only_store(root, "nats-tss")


def test_wrong_checksum_names_both_values_and_keeps_nothing(server: Served, root: Path, nats_bytes: bytes) -> None:
    """Right size, wrong SHA-256: BadInputError with the expected and the actual value; nothing kept."""
    server.files[f"/{NATS_TAR}"] = nats_bytes
    wrong = replace(SOURCES["nats-tss"], files=(RemoteFile(NATS_TAR, "", len(nats_bytes), "0" * 64),))
    with pytest.raises(BadInputError, match=f"expected {'0' * 64}, got {_sha(nats_bytes)}"):
        fetch_source(wrong, url=server.url(f"/{NATS_TAR}"), root=root)
    assert everything(root) == []


def test_cli_enforces_the_real_pins(server: Served, root: Path, nats_bytes: bytes) -> None:
    """The CLI checks the registry's real size and SHA-256: a fixture is refused, exit 2, nothing kept."""
    server.files[f"/{NATS_TAR}"] = nats_bytes
    line = assert_failed_cleanly(hpo2nas(root, "nats-tss", "--url", server.url(f"/{NATS_TAR}")), root, "size mismatch")
    assert f"expected 1,145,989,120 bytes, the server offers {len(nats_bytes):,}" in line


def test_truncated_pinned_file_is_a_size_mismatch(server: Served, root: Path, syne_files: dict[str, bytes]) -> None:
    """A host serving a short copy of a pinned file: a size mismatch naming both sizes, nothing kept."""
    short = dict(syne_files)
    short["objectives_evaluations.npy"] = syne_files["objectives_evaluations.npy"][:-4096]
    for name, data in short.items():
        server.files[f"/nasbench201/{name}"] = data
    with pytest.raises(BadInputError, match="size mismatch"):
        fetch_source(pinned("synetune-nb201", syne_files), url=server.url("/nasbench201"), root=root)
    assert everything(root) == []


def test_truncated_unpinned_archive_fails_its_structure_check(server: Served, root: Path, mfp_bytes: bytes) -> None:
    """A truncated mf-prior-bench zip (no checksum to compare) fails the structure check: exit 2, nothing kept."""
    server.files[f"/{MFP_ZIP}"] = mfp_bytes[: len(mfp_bytes) // 2]
    assert_failed_cleanly(hpo2nas(root, "mfpbench-nb201", "--url", server.url(f"/{MFP_ZIP}")), root, MFP_ZIP)


def test_404_is_one_line_and_exit_2(server: Served, root: Path) -> None:
    """A missing file: exit 2 with the HTTP status, nothing kept."""
    assert_failed_cleanly(hpo2nas(root, "mfpbench-nb201", "--url", server.url("/gone.zip")), root, "HTTP 404")


def test_offline_names_the_from_file_way(root: Path) -> None:
    """An unreachable server (a loopback port nobody listens on): one line that says how to fetch offline."""
    import socket

    with socket.socket() as probe:  # a free port, closed again: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = assert_failed_cleanly(hpo2nas(root, "mfpbench-nb201", "--url", f"http://127.0.0.1:{port}/x.zip"), root,
                                 "cannot reach")
    assert "--from-file" in line and "hpo2nas data fetch --list" in line


def test_stalled_server_times_out_and_keeps_the_part_to_resume(server: Served, root: Path, mfp_bytes: bytes) -> None:
    """A server that stops sending: exit 2 after --timeout, one line; only the resumable part stays."""
    server.files[f"/{MFP_ZIP}"], server.behaviour[f"/{MFP_ZIP}"] = mfp_bytes, "stall"
    out = hpo2nas(root, "mfpbench-nb201", "--url", server.url(f"/{MFP_ZIP}"), "--timeout", "0.5")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "stalled for 0.5 s" in out.stderr and "resume" in out.stderr
    assert everything(root) == [".downloads", ".downloads/mfpbench-nb201", f".downloads/mfpbench-nb201/{MFP_ZIP}.part",
                                f".downloads/mfpbench-nb201/{MFP_ZIP}.part.json"]
    assert (root / f".downloads/mfpbench-nb201/{MFP_ZIP}.part").stat().st_size == 100


def test_a_web_page_instead_of_the_file_names_from_file(server: Served, root: Path) -> None:
    """Google Drive answering with a page: exit 2, one line that tells the user about --from-file."""
    server.behaviour[f"/{NATS_TAR}"] = "html"
    assert_failed_cleanly(hpo2nas(root, "nats-tss", "--url", server.url(f"/{NATS_TAR}")), root,
                          "returned a web page", "--from-file")


# --- files downloaded by hand ---------------------------------------------------------------
def test_from_file_gets_the_same_checks_and_is_never_touched(tmp_path: Path, root: Path, nats_bytes: bytes) -> None:
    """--from-file: the CLI refuses a file off the real pins; the API imports one on its pins; the file stays."""
    local = tmp_path / "by-hand" / NATS_TAR
    local.parent.mkdir()
    local.write_bytes(nats_bytes)
    assert_failed_cleanly(hpo2nas(root, "nats-tss", "--from-file", str(local)), root, "size mismatch")
    fetch_source(pinned("nats-tss", {NATS_TAR: nats_bytes}), from_file=local, root=root, options={"fidelity": "schedule"})
    assert_only_store(root, "nats-tss")
    assert local.read_bytes() == nats_bytes
    assert open_benchmark("nats-tss", root=root).fidelity_space("cifar10-valid").values == (12, 200)


def test_from_file_on_the_cli_imports_an_unpinned_archive(tmp_path: Path, root: Path, mfp_bytes: bytes) -> None:
    """--from-file with the mf-prior-bench zip: imported after its structure check, schedule fidelity on request."""
    local = tmp_path / MFP_ZIP
    local.write_bytes(mfp_bytes)
    out = hpo2nas(root, "mfpbench-nb201", "--from-file", str(local), "--fidelity", "schedule")
    assert out.returncode == 0, out.stderr
    assert_only_store(root, "mfpbench-nb201")
    bench = open_benchmark("mfpbench-nb201", root=root)
    assert bench.query(MFP_CELLS[1], "cifar10-valid", 12, 0).valid_acc == pytest.approx(
        mfp_acc(MFP_CELLS[1], "cifar10-valid", 12, 12))
    assert read_manifest(root / "mfpbench-nb201").source["fetch"]["fetched_from"] == "local file (--from-file)"


def test_from_file_takes_a_folder_for_a_source_of_several_files(tmp_path: Path, root: Path,
                                                                 syne_files: dict[str, bytes]) -> None:
    """synetune-nb201 --from-file: the folder of its files, each checked; a missing one is named."""
    folder = tmp_path / "nasbench201"
    folder.mkdir()
    for name, data in syne_files.items():
        (folder / name).write_bytes(data)
    source = pinned("synetune-nb201", syne_files)
    (folder / "metadata.json").rename(tmp_path / "aside.json")
    with pytest.raises(BadInputError, match="metadata.json is missing"):
        fetch_source(source, from_file=folder, root=root)
    assert everything(root) == []
    (tmp_path / "aside.json").rename(folder / "metadata.json")
    fetch_source(source, from_file=folder, root=root)
    assert_only_store(root, "synetune-nb201")
    assert sorted(p.name for p in folder.iterdir()) == sorted(syne_files)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("nats-tss", "--search-on-test"), ("does not take search_on_test",)),
        (("mfpbench-nb201", "--name", ".bad"), ("invalid store name",)),
        (("synetune-nb201", "--url", "http://127.0.0.1:9/x", "--from-file", "/tmp"), ("not both",)),
        ((), ("name a source",)),
    ],
)
def test_bad_arguments_fail_before_any_download(root: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    """Wrong options, names or combinations: exit 2 and one line before a byte moves."""
    assert_failed_cleanly(hpo2nas(root, *args), root, *words)

"""The shipped zero-cost tables: coverage, provenance, verify, and the resumable job's round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adapters import NUM_CELLS
from benchmarks.zerocost import NET_SHAPES, PROXIES, flop_counts, param_counts
from benchmarks.zerocost._table import cell_order, load_table, pack_table, run_job, verify_zerocost

DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_table_covers_counts_and_has_provenance(dataset):
    table = load_table(dataset)
    assert set(table.columns) == set(PROXIES)
    assert np.array_equal(table.values("params"), param_counts(NET_SHAPES[dataset].num_classes))
    assert np.array_equal(table.values("flops"), flop_counts(dataset))
    meta = table.meta
    assert meta["cells_per_proxy"] == {p: int(table.has(p).sum()) for p in PROXIES}
    assert {"seed", "batch_size", "batch", "made_with", "packed"} <= set(meta)
    assert all({"torch", "device", "python"} <= set(s) for s in meta["made_with"])


@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_table_has_every_proxy_on_the_seeded_sample(dataset):
    """The minimum every table ships: the first 3,000 cells of the seeded order carry all ten proxies, so
    ``proxies=auto`` (what ``zc`` and ``re-zc`` use) is the full set on every dataset."""
    from benchmarks.zerocost._weighting import SAMPLE_CELLS, auto_proxies

    table = load_table(dataset)
    sample = cell_order()[:SAMPLE_CELLS]
    assert all(table.has(p)[sample].all() for p in PROXIES)
    assert set(auto_proxies(table)) == set(PROXIES)


def test_verify_recomputes_a_sample_exactly():
    """Three shipped cells recomputed here match (same torch, same device kind)."""
    table = load_table("cifar10-valid")
    cheap = [p for p in ("synflow", "nwot", "params", "flops") if table.has(p).any()]
    result = verify_zerocost(3, seed=0, proxies=cheap)
    assert result.ok, result.failures
    assert len(result.cells) == 3


def test_job_resumes_and_packs(tmp_path):
    """Rows append per cell; a torn last line is dropped and redone; pack keeps provenance."""
    checkpoint = tmp_path / "c.jsonl"
    assert run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=4, limit=2) == 2
    with checkpoint.open("a") as fh:
        fh.write('{"index": 1, "val')  # killed mid-write
    assert run_job("ImageNet16-120", ["synflow", "nwot"], checkpoint, batch_size=4, limit=1) == 1
    out = pack_table("ImageNet16-120", [checkpoint], out=tmp_path / "t.npz")
    table = load_table("ImageNet16-120", out)
    first = cell_order()[:2]
    assert table.has("synflow")[first].all() and table.has("nwot")[first[0]] and not table.has("nwot")[first[1]]
    assert table.meta["cells_per_proxy"]["synflow"] == 2 and table.batch_size == 4
    with pytest.raises(ValueError, match=r"made with \('ImageNet16-120', 0, 4, .*not \('ImageNet16-120', 0, 8,"):
        run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=8, limit=1)
    rows = [json.loads(line) for line in checkpoint.read_text().splitlines()[:2]]
    assert [r["index"] for r in rows] == list(first)
    assert len(table.values("params")) == NUM_CELLS


def test_first_completes_the_seeded_sample_on_resume(tmp_path):
    """``first=N`` is the first N cells of the seeded order: a resumed job finishes exactly those
    (``limit`` alone would go on past them)."""
    checkpoint = tmp_path / "c.jsonl"
    assert run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=4, first=3, limit=1) == 1
    assert run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=4, first=3) == 2
    assert run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=4, first=3) == 0
    indices = [json.loads(line)["index"] for line in checkpoint.read_text().splitlines()]
    assert indices == cell_order()[:3].tolist()


def test_pack_merges_onto_the_existing_table_unless_replace(tmp_path):
    """A fresh machine's checkpoint holds only its own cells; packing it must keep the earlier ones."""
    first, second, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "t.npz"
    run_job("ImageNet16-120", ["synflow"], first, batch_size=4, limit=2)
    pack_table("ImageNet16-120", [first], out=out)
    run_job("ImageNet16-120", ["synflow"], second, batch_size=4, cells=cell_order()[2:5])
    merged = load_table("ImageNet16-120", pack_table("ImageNet16-120", [second], out=out))
    assert np.flatnonzero(merged.has("synflow")).tolist() == sorted(cell_order()[:5].tolist())
    rows = [json.loads(line) for path in (first, second) for line in path.read_text().splitlines()]
    timed = {r["index"]: r["seconds"]["synflow"] for r in rows}
    assert np.flatnonzero(~np.isnan(merged.seconds["synflow"])).tolist() == sorted(timed)
    mean = merged.meta["mean_seconds_per_cell"]["synflow"]
    assert mean == pytest.approx(np.mean(list(timed.values())), rel=1e-6)
    again = load_table("ImageNet16-120", pack_table("ImageNet16-120", [second], out=out))  # idempotent
    assert again.meta["mean_seconds_per_cell"]["synflow"] == pytest.approx(mean, rel=1e-6)
    with pytest.raises(ValueError, match="would lose cells"):
        pack_table("ImageNet16-120", [second], out=out, replace=True)
    assert load_table("ImageNet16-120", out).meta["cells_per_proxy"]["synflow"] == 5  # untouched
    replaced = load_table("ImageNet16-120", pack_table("ImageNet16-120", [second], out=out, replace=True, force=True))
    assert replaced.meta["cells_per_proxy"]["synflow"] == 3
    run_job("ImageNet16-120", ["synflow"], tmp_path / "c.jsonl", batch_size=8, limit=1)
    with pytest.raises(ValueError, match="mix seeds/batch settings"):
        pack_table("ImageNet16-120", [tmp_path / "c.jsonl"], out=out)


def test_shards_split_the_cells_without_overlap(tmp_path):
    """Two shard processes started together on one checkpoint do each cell of the limit once."""
    checkpoint = tmp_path / "c.jsonl"
    command = [sys.executable, "-m", "harness", "zerocost", "compute", "--dataset", "ImageNet16-120",
               "--proxies", "synflow", "--checkpoint", str(checkpoint), "--limit", "5"]
    shards = [subprocess.Popen([*command, "--shard", f"{k}/2"], stdout=subprocess.DEVNULL) for k in range(2)]
    assert [shard.wait(timeout=300) for shard in shards] == [0, 0]
    indices = [json.loads(line)["index"] for line in checkpoint.read_text().splitlines()]
    # Each shard takes its positions of the order, skips the cells the shipped table already has,
    # and does its share of the limit (3 + 2).
    shipped = load_table("ImageNet16-120").has("synflow")
    expected = [int(i) for k, share in ((0, 3), (1, 2)) for i in [j for j in cell_order()[k::2] if not shipped[j]][:share]]
    assert sorted(indices) == sorted(expected)
    with pytest.raises(ValueError, match="shard"):
        run_job("ImageNet16-120", ["synflow"], checkpoint, shard=(2, 2))


def test_pack_refuses_infinite_values_until_a_later_row_fixes_them(tmp_path):
    checkpoint = tmp_path / "c.jsonl"
    settings = {"dataset": "ImageNet16-120", "seed": 0, "batch_size": 32, "batch_kind": "patches", "device": "cpu"}
    row = {"index": 7, "values": {"nwot": float("-inf")}, "seconds": {}, "settings": settings}
    checkpoint.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"nwot is infinite for cells \[7\]"):
        pack_table("ImageNet16-120", [checkpoint], out=tmp_path / "t.npz")
    assert not (tmp_path / "t.npz").exists()
    with checkpoint.open("a") as fh:
        fh.write(json.dumps({**row, "values": {"nwot": -1e8}}) + "\n")
    table = load_table("ImageNet16-120", pack_table("ImageNet16-120", [checkpoint], out=tmp_path / "t.npz"))
    assert table.values("nwot")[7] == -1e8


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compute", "--proxies", "params", "--checkpoint", "{tmp}/c.jsonl"], "not torch proxies"),
        (["compute", "--proxies", "synflow", "--checkpoint", "{tmp}/c.jsonl", "--shard", "1of2"], "expected K/N"),
        (["pack", "--dataset", "ImageNet16-120", "{tmp}/missing.jsonl"], "no checkpoint"),
        (["pack", "--replace", "--dataset", "cifar10-valid"], "would lose cells"),
        (["weighting", "--proxies", "synflow,nope"], "unknown proxies"),
        (["stability", "--cells", "99999"], "--cells must be at most 15,625"),
        # A negative --limit once sliced from the end of the list and started on (almost) every cell.
        (["compute", "--proxies", "synflow", "--checkpoint", "{tmp}/c.jsonl", "--limit", "-3"], "--limit must be 1"),
        (["compute", "--proxies", "synflow", "--checkpoint", "{tmp}/c.jsonl", "--first", "0"], "--first must be 1"),
        (["compute", "--proxies", "synflow", "--checkpoint", "{tmp}/c.jsonl", "--seed", "-1"], "--seed must be 0"),
        (["compute", "--proxies", "synflow", "--checkpoint", "{tmp}/c.jsonl", "--device", "cuda:9"], "CUDA device"),
        (["weighting", "--fit", "-5"], "--fit must be 2"),
        (["report", "--dataset", "mnist"], "no zero-cost table for dataset 'mnist'"),
        (["verify", "--sample", "nope"], "Invalid value for '--sample'"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(argv, message, tmp_path, capsys):
    from benchmarks.zerocost._table import table_path
    from harness.cli import main

    before = {d: table_path(d).read_bytes() for d in DATASETS}
    with pytest.raises(SystemExit) as exit_info:
        main(["zerocost", *(a.replace("{tmp}", str(tmp_path)) for a in argv)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("hpo2nas: error: ") and message in err and err.count("\n") == 1
    assert {d: table_path(d).read_bytes() for d in DATASETS} == before
    assert list(tmp_path.iterdir()) == []


def test_job_skips_cells_the_shipped_table_has(tmp_path):
    """A fresh checkpoint does not redo what ships: synflow covers every cifar10-valid cell."""
    assert run_job("cifar10-valid", ["synflow"], tmp_path / "c.jsonl", limit=2) == 0
    assert run_job("cifar10-valid", ["synflow"], tmp_path / "c.jsonl", batch_size=4, limit=1) == 1  # other settings


def test_cpu_kernels_are_pinned_to_the_tables_isa():
    """pin_cpu_isa() (the test suite's conftest calls it first) pins torch's kernels (AVX-512 ones round differently)."""
    from benchmarks.zerocost import CPU_ISA, cpu_isa

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if " avx2" not in flags:
        pytest.skip("this CPU has no AVX2 kernels to pin")
    assert cpu_isa() == CPU_ISA == load_table("cifar10-valid").meta.get("cpu_isa", CPU_ISA)


def test_importing_changes_no_process_state():
    """Importing the packages (the CLI, the zero-cost package, every optimizer) sets no torch ISA variable."""
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
    code = ("import os, benchmarks.zerocost, adapters.optimizers, harness.cli; "
            "print(os.environ.get('ATEN_CPU_CAPABILITY'), os.environ.get('ONEDNN_MAX_CPU_ISA'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["None", "None"]


def test_zerocost_command_pins_the_kernels_itself():
    """`hpo2nas zerocost verify` pins the kernels explicitly at its start, and then is exact."""
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if " avx2" not in flags:
        pytest.skip("this CPU has no AVX2 kernels to pin")
    done = subprocess.run([sys.executable, "-m", "harness", "zerocost", "verify", "--sample", "1"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_verify_refuses_other_cpu_kernels():
    """Other kernels would report 'mismatches' that are only rounding; verify says so instead."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}
    done = subprocess.run([sys.executable, "-m", "harness", "zerocost", "verify", "--sample", "1"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "runs DEFAULT (oneDNN SSE41) CPU kernels, the table was computed with AVX2" in done.stderr


def test_exceptions_command_rebuilds_the_shipped_list_byte_for_byte(tmp_path, capsys):
    """`zerocost exceptions --out F` recomputes benchmarks/data/model_size_exceptions.json exactly, and writes
    only where it is told (not into the installed package)."""
    from importlib import resources

    from harness.cli import main

    shipped = Path(str(resources.files("benchmarks").joinpath("data/model_size_exceptions.json")))
    before = shipped.stat().st_mtime_ns
    with pytest.raises(SystemExit) as done:
        main(["zerocost", "exceptions", "--out", str(tmp_path / "exceptions.json")])
    assert done.value.code == 0 and "150 cells" in capsys.readouterr().out
    assert (tmp_path / "exceptions.json").read_bytes() == shipped.read_bytes()
    assert shipped.stat().st_mtime_ns == before


def test_pack_command_writes_where_told(tmp_path, capsys):
    """`zerocost pack --out F` writes F (merging onto F, not onto the shipped table) and leaves the shipped one."""
    from benchmarks.zerocost import table_path
    from harness.cli import main

    shipped = table_path("ImageNet16-120")
    before = shipped.read_bytes()
    checkpoint = tmp_path / "c.jsonl"
    run_job("ImageNet16-120", ["synflow"], checkpoint, batch_size=4, limit=1)
    with pytest.raises(SystemExit) as done:
        main(["zerocost", "pack", "--dataset", "ImageNet16-120", str(checkpoint), "--out", str(tmp_path / "t.npz")])
    assert done.value.code == 0 and str(tmp_path / "t.npz") in capsys.readouterr().out
    assert load_table("ImageNet16-120", tmp_path / "t.npz").meta["cells_per_proxy"]["synflow"] == 1
    assert shipped.read_bytes() == before

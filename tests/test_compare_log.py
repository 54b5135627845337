"""compare under nohup, Slurm or a log file: a plain line per finished run, and a clean stop on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

SPEC = """
name = "logged"
datasets = ["cifar10-valid"]
output = "out"
[profiles.quick]
seeds = [0, 1, 2, 3, 4, 5]
budget = "{budget}"
[optimizers.random]
[optimizers.re]
population_size = 5
"""
HPO2NAS = Path(sys.executable).with_name("hpo2nas")


def _compare(tmp_path: Path, budget: str) -> tuple[subprocess.Popen, Path]:
    (tmp_path / "spec.toml").write_text(SPEC.format(budget=budget))
    err = tmp_path / "stderr.log"
    with open(err, "w") as fh, open(tmp_path / "stdout.log", "w") as out:  # files: no terminal anywhere
        proc = subprocess.Popen([str(HPO2NAS), "compare", "spec.toml"], cwd=tmp_path, stdout=out, stderr=fh,
                                stdin=subprocess.DEVNULL)
    return proc, err


def _counts(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"^logged \[quick\] runs: (\d+)/12 \(\d+ s\)$", text, flags=re.M)]


def test_without_a_terminal_each_finished_run_prints_one_line(tmp_path):
    proc, err = _compare(tmp_path, "20000s")
    assert proc.wait(timeout=240) == 0, err.read_text()
    assert _counts(err.read_text()) == list(range(13))
    assert "12 runs" in (tmp_path / "stdout.log").read_text()


def test_sigterm_stops_cleanly_without_leaked_semaphores(tmp_path):
    """Killed (kill, scancel, timeout) mid-run: exit 130, the cluster closed, nothing leaked or half-written."""
    proc, err = _compare(tmp_path, "2000000s")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not _counts(err.read_text())[1:]:
        time.sleep(0.2)
    assert _counts(err.read_text())[1:], err.read_text()  # at least one run finished
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    time.sleep(1.0)  # the resource tracker reports leaks as it exits, after the main process
    text = err.read_text()
    assert "leaked" not in text and "Traceback" not in text, text
    runs = tmp_path / "out" / "quick" / "runs"
    finished = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert len(finished) == max(_counts(text)) and all((p / "trials.parquet").is_file() for p in finished)
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]  # no staging folder left

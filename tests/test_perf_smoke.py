"""Every perf/ script still runs: each in its ``--smoke`` mode (the smallest size, figures to a temporary folder).

Nothing else runs the perf scripts, so without this a script that breaks (as ``bench_runner.py
--quick`` did on a clean clone, issue 23) rots unseen. The figures of a smoke run mean nothing;
only that the script ran through and printed its table is checked, and that it wrote nothing
into ``results/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERF = ROOT / "perf"
#: Modules that other perf scripts import, not scripts of their own (synthetic_nats runs inside bench_full_data).
HELPERS = {"_results.py", "synthetic_nats.py"}
SCRIPTS = sorted(p.name for p in PERF.glob("*.py") if p.name not in HELPERS)


def test_every_perf_script_is_smoke_tested():
    """A new perf script joins this suite by having a --smoke mode; the list is read from the folder."""
    assert "bench_runner.py" in SCRIPTS and len(SCRIPTS) >= 9
    for name in SCRIPTS:
        assert "--smoke" in (PERF / name).read_text() or "add_smoke(" in (PERF / name).read_text(), name


@pytest.mark.parametrize("script", SCRIPTS)
def test_perf_script_smoke(script, data_root, tmp_path):
    """``perf/SCRIPT --smoke`` exits 0 and prints its Markdown table, leaving results/ as it was."""
    before = _results_listing()
    env = {**os.environ, "HPO2NAS_DATA": str(data_root), "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(PERF / script), "--smoke"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{script} --smoke failed:\n{proc.stderr[-3000:]}"
    assert "|---" in proc.stdout, proc.stdout[-2000:]
    assert _results_listing() == before, "a smoke run wrote into results/"


def _results_listing() -> dict[str, int]:
    folder = ROOT / "results"
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}

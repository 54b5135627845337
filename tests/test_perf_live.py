"""perf/bench_live.py's smoke mode runs and reports every variant side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_live_smoke_reports_plain_and_harness_side_by_side(tmp_path: Path) -> None:
    """The smoke run prints the table and writes throughput, start-up and peak memory for each variant."""
    out = tmp_path / "perf.json"
    done = subprocess.run([sys.executable, str(ROOT / "perf" / "bench_live.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "harness / plain throughput" in done.stdout
    report = json.loads(out.read_text())
    assert set(report["variants"]) == {"plain", "harness", "harness+aug"}
    for figures in report["variants"].values():
        assert figures["images_per_s"] > 0 and figures["start_up_s"] > 0 and figures["peak_memory_mb"] > 0
    assert report["gpu"] is False and report["device"].startswith("cpu")
    assert report["harness_over_plain"] == report["variants"]["harness"]["images_per_s"] / report["variants"]["plain"]["images_per_s"]
    assert report["command"].startswith("python perf/bench_live.py --smoke")

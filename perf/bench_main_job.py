"""Wall time and peak memory of the main job (``make run``'s compare), Dask workers included.

Usage: ``.venv/bin/python perf/bench_main_job.py [--profile quick] [--smoke]`` (``--smoke``: a
3-trial spec of random search instead, figures to a temporary folder). It runs
``hpo2nas compare experiments/nb201_cifar10.toml`` into a temporary folder as a subprocess
and samples the resident memory of its whole process tree (client, scheduler, nannies,
workers) every 0.2 s. Prints a Markdown table and writes ``results/perf_main_job.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from _results import add_smoke, results_path, smoke_spec, write_results


def _tree_rss(root: psutil.Process) -> tuple[int, int]:
    """(sum of RSS over the tree, largest single RSS), in bytes."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    sizes = []
    for proc in procs:
        try:
            sizes.append(proc.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    return sum(sizes), max(sizes, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--spec", default="experiments/nb201_cifar10.toml")
    add_smoke(parser)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="hpo2nas-main-job-"))
    if args.smoke:
        args.spec, args.profile = str(smoke_spec(out)), "quick"
        out = out / "compare"
    cmd = [sys.executable, "-m", "harness", "compare", args.spec, "--profile", args.profile, "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root = psutil.Process(proc.pid)
    peak_total = peak_single = 0
    while proc.poll() is None:
        total, single = _tree_rss(root)
        peak_total, peak_single = max(peak_total, total), max(peak_single, single)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read() if proc.stdout else ""
    record = {
        "profile": args.profile, "wall_s": wall, "peak_tree_rss_mib": peak_total / 2**20,
        "peak_process_rss_mib": peak_single / 2**20, "exit_code": proc.returncode, "cores": os.cpu_count(),
        "load_avg_end": os.getloadavg()[0], "summary": stdout.strip().splitlines()[-2:],
    }
    write_results(results_path("perf_main_job.json", args.smoke), record)
    print("| measurement | value |\n|---|---|")
    print(f"| wall time, compare --profile {args.profile} (report included) | {wall:.0f} s |")
    print(f"| peak resident memory, whole process tree | {peak_total / 2**20:.0f} MiB |")
    print(f"| peak resident memory, largest process | {peak_single / 2**20:.0f} MiB |")
    print(f"\nexit code {proc.returncode}; {os.cpu_count()} cores; output in {out}")
    if proc.returncode:
        raise SystemExit(f"compare failed with exit code {proc.returncode}")


if __name__ == "__main__":
    main()

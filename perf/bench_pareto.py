"""Pareto-front and hypervolume benchmark, measured side by side with Optuna's own functions in one run.

Usage: ``.venv/bin/python perf/bench_pareto.py [--smoke]``. Writes ``results/perf_pareto.json`` and prints
a Markdown table (``--smoke``: one timing of each on a 50-trial run, figures to a temporary folder).
Goals: the exact front of all 15,625 cells <= 50 ms; the hypervolume of a 1,000-trial two-objective
run <= 1 s (every prefix, as the report's curve needs, and the final set).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _results import add_smoke, results_path, write_results  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time of ``repeat`` calls (seconds): the least disturbed by other jobs on the machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_smoke(parser)
    args = parser.parse_args()
    repeat, trials = (1, 50) if args.smoke else (5, 1000)
    from optuna._hypervolume import compute_hypervolume
    from optuna.study._multi_objective import _is_pareto_front

    from adapters import NUM_CELLS, OBJECTIVES
    from benchmarks import exact_front, hypervolume, hypervolume_history, open_benchmark, pareto_mask

    bench = open_benchmark()
    rows = []
    for names in (("valid_acc", "params"), ("valid_acc", "train_time"), ("valid_acc", "params", "latency")):
        maximize = [OBJECTIVES[n].maximize for n in names]
        values = np.column_stack([bench.lookup(np.arange(NUM_CELLS), "cifar10-valid", OBJECTIVES[n].metric) for n in names])
        costs = np.where(maximize, -values, values)
        ours = best_of(lambda: pareto_mask(values, maximize), repeat)
        peer = best_of(lambda: _is_pareto_front(costs, assume_unique_lexsorted=False), repeat)
        whole = best_of(lambda: exact_front(bench, "cifar10-valid", names), repeat)
        assert (pareto_mask(values, maximize) == _is_pareto_front(costs, assume_unique_lexsorted=False)).all()
        rows.append({"measurement": f"exact front, {NUM_CELLS:,} cells, {' + '.join(names)}",
                     "hpo2nas_ms": ours * 1e3, "optuna_ms": peer * 1e3, "exact_front_call_ms": whole * 1e3})

    rng = np.random.default_rng(0)
    run = rng.random((trials, 2)) ** 0.5  # a spread of points, many on or near the front late in the run
    reference = np.ones(2)
    ours_all = best_of(lambda: hypervolume_history(run, reference), min(repeat, 3))
    peer_all = best_of(lambda: [compute_hypervolume(run[: i + 1][_is_pareto_front(run[: i + 1], False)], reference)
                                for i in range(len(run))], repeat=1)
    ours_final = best_of(lambda: hypervolume(run, reference), repeat)
    peer_final = best_of(lambda: compute_hypervolume(run[_is_pareto_front(run, False)], reference), repeat)
    assert abs(hypervolume(run, reference) - compute_hypervolume(run[_is_pareto_front(run, False)], reference)) < 1e-12
    rows.append({"measurement": f"hypervolume after every trial of a {trials:,}-trial 2-objective run (the report's curve)",
                 "hpo2nas_ms": ours_all * 1e3, "optuna_ms": peer_all * 1e3})
    rows.append({"measurement": f"hypervolume of the final {trials:,} points, 2 objectives",
                 "hpo2nas_ms": ours_final * 1e3, "optuna_ms": peer_final * 1e3})

    load = os.getloadavg()[0]
    write_results(results_path("perf_pareto.json", args.smoke), {"load_average": load, "rows": rows})
    print(f"load average {load:.1f}\n")
    print("| measurement | hpo2nas | Optuna (same run) |\n|---|---|---|")
    for row in rows:
        extra = f" (whole `exact_front` call: {row['exact_front_call_ms']:.1f} ms)" if "exact_front_call_ms" in row else ""
        print(f"| {row['measurement']} | {row['hpo2nas_ms']:.2f} ms{extra} | {row['optuna_ms']:.2f} ms |")


if __name__ == "__main__":
    main()

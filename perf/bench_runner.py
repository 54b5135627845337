"""Runner benchmark: the harness's own per-trial overhead, end-to-end trials/s, and each
library optimizer's ask+tell time at 50 and 200 trials, measured side by side in one run.

Usage: ``.venv/bin/python perf/bench_runner.py [--quick | --smoke] [--skip smac-bb,...]``.
Writes ``results/perf_runner.json`` and prints a Markdown table. ``--smoke`` measures nothing
worth keeping: a few hundred null/random/RE trials and one library optimizer (optuna-tpe). Goals: harness overhead
(everything but ask/tell) <= 20 us per trial; RE and random search >= 20,000 trials/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _results import add_smoke, results_path, write_results  # noqa: E402


class NullOptimizer:
    """Asks cells in a fixed stride and learns nothing: what remains is the harness's own cost."""

    name = "null"
    multi_fidelity = False
    defaults: dict = {}

    def __init__(self) -> None:
        from adapters import Cell

        self._cells = Cell.all()
        self._i = 0

    def setup(self, problem) -> None:
        self._i = 0

    def ask(self):
        from adapters.protocols import Suggestion

        self._i = (self._i + 7919) % len(self._cells)
        return Suggestion(cell=self._cells[self._i], origin="stride")

    def tell(self, suggestion, observation) -> None:
        pass

    def report(self, suggestion, fidelity, valid_acc) -> bool:
        return False

    def settings(self) -> dict:
        return {}

    def notes(self) -> list:
        return []


def _run(bench, name: str, trials: int, seed: int, tmp: Path):
    """(CPU seconds, wall seconds, trials) of one run; CPU time is robust to a busy machine."""
    from adapters.optimizers import make_optimizer
    from harness.running.budget import Budget
    from harness.running.run_folder import RunFolder
    from harness.running.runner import RunConfig, run_trials

    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse(f"{trials}evals"), seed=seed,
                       checkpoint_every=max(100, trials // 10))
    folder = RunFolder(tmp / f"{name}-{trials}-{seed}", config.to_dict())
    optimizer = NullOptimizer() if name == "null" else make_optimizer(name)
    cpu, wall = time.process_time(), time.perf_counter()
    result = run_trials(config, optimizer, bench, folder)
    return time.process_time() - cpu, time.perf_counter() - wall, result.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--skip", default="", help="comma-separated optimizers to leave out")
    add_smoke(parser)
    args = parser.parse_args()
    os.environ.setdefault("HPO2NAS_DATA", tempfile.mkdtemp(prefix="hpo2nas-perf-"))
    from adapters.optimizers import OPTIMIZERS
    from benchmarks import open_benchmark

    bench = open_benchmark(seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="hpo2nas-perf-runs-"))
    rows, record = [], {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                    "load_avg": os.getloadavg()[0]}}
    n_fast = 300 if args.smoke else 20_000 if args.quick else 100_000
    reps = 1 if args.quick or args.smoke else 3
    _run(bench, "null", n_fast, 0, tmp)  # warm the per-cell query caches
    null = [_run(bench, "null", n_fast, seed, tmp) for seed in range(reps)]
    overhead = statistics.median(cpu / len(t) * 1e6 for cpu, _, t in null)
    record["harness_overhead_us"] = overhead
    rows.append(("harness overhead per trial (CPU; a null optimizer: everything but ask/tell, "
                 "records and checkpoints included)", f"{overhead:.1f} us", "<= 20 us"))
    for name in ("random", "re"):
        runs = [_run(bench, name, n_fast, seed, tmp) for seed in range(reps)]
        cpu_rate = statistics.median(len(t) / cpu for cpu, _, t in runs)
        wall_rate = statistics.median(len(t) / wall for _, wall, t in runs)
        askt = statistics.median(statistics.mean(x["wall_s"] for x in t) * 1e6 for _, _, t in runs)
        record[name] = {"trials_per_cpu_s": cpu_rate, "trials_per_wall_s": wall_rate, "ask_tell_us": askt}
        rows.append((f"{name}: end-to-end trials/s ({n_fast:,} trials; per CPU second / per wall second)",
                     f"{cpu_rate:,.0f} / {wall_rate:,.0f}", ">= 20,000"))
        rows.append((f"{name}: optimizer ask+tell per trial", f"{askt:.1f} us", ""))
    skip = set(filter(None, args.skip.split(",")))
    for name in OPTIMIZERS:
        if name in ("random", "re") or name in skip or OPTIMIZERS[name].multi_fidelity or \
                args.smoke and name != "optuna-tpe":
            continue
        _, _, trials = _run(bench, name, 200, 0, tmp)
        walls = [t["wall_s"] for t in trials]
        at50 = statistics.mean(walls[40:60]) * 1e3
        at200 = statistics.mean(walls[180:200]) * 1e3
        record[name] = {"ask_tell_ms_at_50": at50, "ask_tell_ms_at_200": at200}
        rows.append((f"{name}: ask+tell per trial at 50 / 200 trials", f"{at50:.2f} / {at200:.2f} ms", ""))
        print(f"measured {name}", file=sys.stderr)
    write_results(results_path("perf_runner.json", args.smoke), record)
    print(f"\nMachine: {os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}\n")
    print("| measurement | value | goal |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()

"""Optuna storage benchmark: what writing the live study costs per trial, beside in-memory.

A 200-trial TPE run (default store, cifar10-valid) runs through the real runner twice per
repeat, alternating: once keeping its study in ``optuna.journal`` (what every Optuna run does),
once in memory only (the adapter gets no ``SearchProblem.study``); SQLite is measured too for
reference. The difference of the wall times over 200 trials is the storage's cost per trial
(the journal's append is fsynced, so it is disk time as much as CPU time).

Usage: ``.venv/bin/python perf/bench_optuna_storage.py [--trials 200] [--repeats 5] [--smoke]``
(``--smoke``: 3 trials, one repeat, figures to a temporary folder).
Writes ``results/perf_optuna_storage.json`` and prints a Markdown table. Goal: the journal
adds <= 1 ms per trial.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _results import add_smoke, results_path, write_results  # noqa: E402


def _run(trials: int, seed: int, folder: Path, storage: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; ``storage`` is "memory", "journal" or "sqlite"."""
    from adapters.optimizers import make_optimizer
    from benchmarks import open_benchmark
    from harness.running.budget import Budget
    from harness.running.run_folder import RunFolder
    from harness.running.runner import RunConfig, run_trials

    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'studies.db'}" if storage == "sqlite" else None
    config = RunConfig(optimizer="optuna-tpe", dataset="cifar10-valid", budget=Budget.parse(f"{trials}evals"),
                       seed=seed, storage=url, checkpoint_every=trials)
    optimizer = make_optimizer("optuna-tpe")
    if storage == "memory":
        setup = optimizer.setup
        optimizer.setup = lambda problem: setup(dataclasses.replace(problem, study=None))
    bench = open_benchmark()
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_trials(config, optimizer, bench, RunFolder(folder, config.to_dict()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(result.rows) == trials
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:
        args.trials, args.repeats = 3, 1
    kinds = ("memory", "journal", "sqlite")
    walls: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpus: dict[str, list[float]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        _run(3 if args.smoke else 20, 99, Path(tmp) / "warm", "journal")  # imports and the store's first load
        for repeat in range(args.repeats):
            for kind in kinds if repeat % 2 == 0 else reversed(kinds):
                wall, cpu = _run(args.trials, repeat, Path(tmp) / f"{kind}-{repeat}", kind)
                walls[kind].append(wall)
                cpus[kind].append(cpu)

    def per_trial(times: dict[str, list[float]]) -> dict[str, list[float]]:
        return {kind: [t / args.trials * 1e3 for t in times[kind]] for kind in kinds}

    def extra(ms: dict[str, list[float]]) -> dict[str, list[float]]:
        """Paired by repeat (same seed, same trials): each storage's cost over in-memory."""
        return {kind: [s - m for s, m in zip(ms[kind], ms["memory"], strict=True)] for kind in kinds[1:]}

    wall_ms, cpu_ms = per_trial(walls), per_trial(cpus)
    result = {
        "trials": args.trials, "repeats": args.repeats, "machine": platform.processor() or platform.machine(),
        "load_average": os.getloadavg()[0], "cpus": os.cpu_count(),
        "wall_ms_per_trial": {kind: statistics.median(v) for kind, v in wall_ms.items()},
        "cpu_ms_per_trial": {kind: statistics.median(v) for kind, v in cpu_ms.items()},
        "extra_wall_ms_per_trial": {kind: statistics.median(v) for kind, v in extra(wall_ms).items()},
        "extra_cpu_ms_per_trial": {kind: statistics.median(v) for kind, v in extra(cpu_ms).items()},
    }
    write_results(results_path("perf_optuna_storage.json", args.smoke), result)
    print(f"| storage ({args.trials}-trial TPE run, median of {args.repeats}) | wall ms per trial | extra wall | "
          "CPU ms per trial | extra CPU |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        added = ("-", "-") if kind == "memory" else (f"{result['extra_wall_ms_per_trial'][kind]:+.2f}",
                                                     f"{result['extra_cpu_ms_per_trial'][kind]:+.2f}")
        print(f"| {kind} | {result['wall_ms_per_trial'][kind]:.2f} | {added[0]} | "
              f"{result['cpu_ms_per_trial'][kind]:.2f} | {added[1]} |")


if __name__ == "__main__":
    main()

"""Parallel benchmark: the simulator's per-trial overhead and end-to-end trials/s at W = 1, 4, 16,
and TPE's trials/s with 1, 2 and 4 real workers on PostgreSQL, SQLite and a journal file.

Usage: ``.venv/bin/python perf/bench_parallel.py [--quick | --smoke] [--no-real]``. Writes
``results/perf_parallel.json`` and prints a Markdown table (``--smoke``: a few hundred trials per W,
and one real worker on a journal file only, figures to a temporary folder). Goals: overhead <= 20 us per trial
for W = 16 (a null optimizer, as perf/bench_runner.py measures W = 1); RS and RE >= 20,000
trials/s at any W. Real-worker throughput counts trials between the first trial's start and
the last one's end in the study (process start-up excluded), all storages in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "perf"))
sys.path.insert(0, str(ROOT / "tests"))

from _results import add_smoke, results_path, write_results  # noqa: E402
from bench_runner import timed_run  # noqa: E402  (the same null optimizer and run as the W = 1 figure)


def _real(url: str, processes: int, trials: int, name: str) -> float:
    """TPE trials per second of wall time with ``processes`` workers on one study."""
    import optuna

    from harness.running.budget import Budget
    from harness.running.real_workers import StudySettings, create_study, run_processes
    from harness.running.run_config import RunConfig

    run = RunConfig(optimizer="optuna-tpe", dataset="cifar10-valid", budget=Budget.parse(f"{trials}evals"), seed=0)
    create_study(url, name, StudySettings(run=run))
    codes = run_processes(url, name, processes)
    assert not any(codes), codes
    study = optuna.load_study(study_name=name, storage=url if "://" in url else
                              optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url)))
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return len(done) / span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer trials and repetitions (a smoke run)")
    parser.add_argument("--no-real", action="store_true", help="skip the real-worker storages")
    add_smoke(parser)
    args = parser.parse_args()
    os.environ.setdefault("HPO2NAS_DATA", tempfile.mkdtemp(prefix="hpo2nas-perf-"))
    from benchmarks import open_benchmark

    bench = open_benchmark(seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="hpo2nas-perf-par-"))
    record: dict = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                "load_avg": os.getloadavg()[0]}}
    rows = []
    n = 300 if args.smoke else 20_000 if args.quick else 100_000
    reps = 1 if args.quick or args.smoke else 5
    timed_run(bench, "null", n, 0, tmp)  # warm the per-cell query caches
    # Repetitions interleave the W values (1, 4, 16, 1, 4, 16, ...), so a drift of the machine
    # during the run (another job, the page cache) falls on every W alike: the figures are side by side.
    measured: dict[tuple[str, int], list[tuple[float, float, list]]] = {}
    for seed in range(reps):
        for workers in (1, 4, 16):
            for name in ("null", "random", "re"):
                measured.setdefault((name, workers), []).append(timed_run(bench, name, n, seed, tmp, workers))
    for workers in (1, 4, 16):
        overhead = statistics.median(cpu / len(done) * 1e6 for cpu, _, done in measured["null", workers])
        record[f"overhead_us_w{workers}"] = overhead
        rows.append((f"simulator overhead per trial, W = {workers} (CPU, null optimizer)", f"{overhead:.1f} us",
                     "<= 20 us"))
        for name in ("random", "re"):
            runs = measured[name, workers]
            rate = statistics.median(len(done) / cpu for cpu, _, done in runs)
            wall_rate = statistics.median(len(done) / wall for _, wall, done in runs)
            record[f"{name}_w{workers}"] = {"trials_per_cpu_s": rate, "trials_per_wall_s": wall_rate}
            rows.append((f"{name}, W = {workers}: end-to-end trials/s (per CPU s / per wall s)",
                         f"{rate:,.0f} / {wall_rate:,.0f}", ">= 20,000"))
    if args.smoke and not args.no_real:
        rate = _real(str(tmp / "studies.journal"), 1, 4, "tpe-1")
        record["tpe_real_journal file_1"] = rate
        rows.append(("optuna-tpe, 1 real worker, journal file: trials/s (4 trials)", f"{rate:.1f}", ""))
    elif not args.no_real:
        from _postgres import postgres_bin, throwaway_postgres

        trials = 60 if args.quick else 200
        bindir = postgres_bin()
        with throwaway_postgres(bindir) as pg_url:
            storages = {"PostgreSQL": pg_url, "SQLite": f"sqlite:///{tmp / 'studies.db'}",
                        "journal file": str(tmp / "studies.journal")}
            for label, url in storages.items():
                for processes in (1, 2, 4):
                    rate = _real(url, processes, trials, f"tpe-{processes}")
                    record[f"tpe_real_{label}_{processes}"] = rate
                    rows.append((f"optuna-tpe, {processes} real worker(s), {label}: trials/s ({trials} trials)",
                                 f"{rate:.1f}", ""))
                    print(f"measured {label} x{processes}", file=sys.stderr)
    write_results(results_path("perf_parallel.json", args.smoke), record)
    print(f"\nMachine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| measurement | value | goal |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()

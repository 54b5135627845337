"""``hpo2nas live``: live-training tools beside a search (``hpo2nas run --benchmark live`` is the search).

``live agree`` asks whether the table told the truth: it trains cells chosen across the table's
accuracy range on the user's data and rank-correlates their accuracy with the table's
(:func:`benchmarks.live.agree`). The command only parses, loads and prints; on a CPU the
reduced setting is stated in the first line of its output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harness.cli.options import bounded

__all__ = ["live_app"]

live_app = typer.Typer(help="Live training: table versus reality (`live agree`).", no_args_is_help=True)


@live_app.command("agree")
def agree_cmd(
    cells: int = bounded(..., "--cells", "cells", "How many cells to train, one per quantile of the table's accuracy."),
    epochs: int = bounded(12, "--epochs", "epochs", "The schedule to train (12: NB201's short schedule)."),
    dataset: str = typer.Option("cifar10-valid", "--dataset",
                                help="What to train on: cifar10-valid, cifar10, cifar100, ImageNet16-120, imagefolder "
                                     "or synthetic (made in memory, for tests and demos)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="The folder holding --dataset."),
    table_dataset: Optional[str] = typer.Option(None, "--table-dataset",
                                                help="The table's dataset to compare with (default: --dataset)."),
    store: str = typer.Option("default", "--store", help="The table (an NB201 store)."),
    train_set: list[str] = typer.Option([], "--train-set", help="A training setting key=value (repeatable)."),
    full: bool = typer.Option(False, "--full", help="On a CPU too, train on every image (no reduction)."),
    seed: int = bounded(0, "--seed", "seed", "Picks the cells within their strata."),
    out: Path = typer.Option(Path("results/live-agree"), "--out", help="Checkpoints and agree.json go here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train N cells across the table's accuracy range; Spearman of live vs table accuracy and the mean difference."""
    from adapters.files import atomic_write_json
    from benchmarks import open_benchmark
    from benchmarks.live import TrainSettings, agree, load_named, parse_overrides
    from harness.running.folders import writable_folder

    overrides = parse_overrides(train_set)
    overrides.pop("epochs", None)  # --epochs is the schedule
    settings = TrainSettings.from_dict(overrides)
    table = open_benchmark(store)
    data = load_named(dataset, data_dir)
    folder = writable_folder(out, "--out")
    result = agree(cells, epochs, data, table=table, workdir=folder, table_dataset=table_dataset, settings=settings,
                   reduce_on_cpu=not full, seed=seed)
    atomic_write_json(folder / "agree.json", result.to_dict())
    if as_json:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
        return
    typer.echo(result.setting)
    typer.echo(f"table: {result.table}; device: {result.device}; {result.seconds:.1f} s of training")
    typer.echo(f"{'cell':>6} {'table':>7} {'live':>7}  status")
    for cell, table_acc, live_acc, status in zip(result.cells, result.table_acc, result.live_acc, result.statuses):
        live = "n/a" if live_acc is None else f"{live_acc:.2f}"
        typer.echo(f"{cell:>6} {table_acc:>7.2f} {live:>7}  {status}")
    typer.echo(f"Spearman {result.spearman:.3f} (live vs table), mean difference {result.mean_difference:+.2f} points "
               f"(live minus table) over {sum(a is not None for a in result.live_acc)} cells")
    typer.echo(f"written {folder / 'agree.json'}")

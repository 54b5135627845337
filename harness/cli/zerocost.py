"""``hpo2nas zerocost``: build, pack, verify and analyse the zero-cost tables.

Thin typer commands over library functions (``benchmarks.zerocost``: ``run_job``,
``pack_table``, ``verify_zerocost`` and ``benchmarks.zerocost.analysis``), with the same
dataset names, bounds and one-line errors as every other command. The group's callback pins
torch's CPU kernels to the tables' (``pin_cpu_isa``) before any command's first torch operation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from adapters.types import BadInputError
from harness.cli.options import bounded, bounded_list

__all__ = ["zerocost_app"]

zerocost_app = typer.Typer(
    help="Zero-cost proxy tables: compute, pack, verify, report, stability, weighting, transfer, exceptions.",
    no_args_is_help=True)


@zerocost_app.callback()
def _pin_kernels() -> None:
    """Pin torch's CPU kernels to the shipped tables' ISA before any command touches torch."""
    from benchmarks.zerocost import pin_cpu_isa

    pin_cpu_isa()

_DATASET_HELP = "cifar10-valid, cifar100 or ImageNet16-120 (the datasets with a shipped table)."
_OFFLINE = "OFFLINE ANALYSIS"


def _threads(threads: int) -> None:
    """torch's intra-op threads for this command (the CLI owns its process; library calls leave it alone)."""
    import torch

    torch.set_num_threads(threads)


def _shard(text: str) -> tuple[int, int]:
    from adapters.bounds import check

    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise BadInputError(f"--shard {text!r}: expected K/N, e.g. 0/2")
    total = int(check("processes", int(n), "--shard N"))  # each shard is one process
    if not int(k) < total:
        raise BadInputError(f"--shard {text!r}: K must be below N")
    return int(k), total


def _cells_file(path: Path | None) -> list[int] | None:
    from adapters import NUM_CELLS

    if path is None:
        return None
    try:
        cells = [int(t) for t in path.read_text().split()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInputError(f"--cells {path}: not a file of cell indices ({exc.__class__.__name__})") from None
    bad = [c for c in cells if not 0 <= c < NUM_CELLS]
    if bad or not cells:
        raise BadInputError(f"--cells {path}: indices must be 0 to {NUM_CELLS - 1}, got {bad[:3] or 'none'}")
    return cells


@zerocost_app.command("compute")
def compute(
    proxies: str = typer.Option(..., "--proxies", help="Comma-separated torch proxies."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="The job's JSON-lines checkpoint (appended; resumable)."),
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    seed: int = bounded(0, "--seed", "seed", "Seed of the network initialisation and batch."),
    batch: Optional[int] = bounded(None, "--batch", "batch", "Batch size (default: the tables')."),
    batch_kind: Optional[str] = typer.Option(None, "--batch-kind", help="Batch recipe (default: the tables')."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
    threads: int = bounded(1, "--threads", "threads", "torch threads."),
    cells: Optional[Path] = typer.Option(None, "--cells", help="File of official indices to do, in order "
                                         "(default: all, in the seeded order)."),
    limit: Optional[int] = bounded(None, "--limit", "cells", "Compute at most this many cells in this call."),
    first: Optional[int] = bounded(None, "--first", "cells", "Only the first N cells of the order: the seeded "
                                   "uniform sample of N (resumes to complete it)."),
    hours: Optional[float] = bounded(None, "--hours", "hours", "Stop starting new cells after this long."),
    shard: str = typer.Option("0/1", "--shard", help="K/N: this process's share of the cells (run N together)."),
) -> None:
    """Append proxies for the cells that lack them to a checkpoint (resumable)."""
    from benchmarks.zerocost import DEFAULT_BATCH, DEFAULT_BATCH_KIND, run_job
    from benchmarks.zerocost.analysis import check_device, resolve_table_dataset

    from benchmarks.zerocost import BATCH_KINDS

    dataset, device, part = resolve_table_dataset(dataset), check_device(device), _shard(shard)
    if batch_kind is not None and batch_kind not in BATCH_KINDS:
        raise BadInputError(f"--batch-kind {batch_kind!r}: one of {', '.join(BATCH_KINDS)}")
    order = _cells_file(cells)
    _threads(threads)
    import torch

    torch.use_deterministic_algorithms(True, warn_only=True)

    def progress(done: int, total: int) -> None:
        if done % 25 == 0 or done == total:
            typer.echo(f"{done}/{total} cells")

    n = run_job(dataset, [p.strip() for p in proxies.split(",")], checkpoint, seed=seed,
                batch_size=batch or DEFAULT_BATCH, batch_kind=batch_kind or DEFAULT_BATCH_KIND, device=device,
                cells=order, limit=limit, first=first, deadline_s=hours * 3600 if hours else None, shard=part,
                progress=progress)
    typer.echo(f"computed {n} cells")


@zerocost_app.command("pack")
def pack(
    checkpoints: list[Path] = typer.Argument(None, help="Checkpoints of `zerocost compute`."),
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    replace: bool = typer.Option(False, "--replace", help="Build from the checkpoints alone, not onto the shipped table."),
    force: bool = typer.Option(False, "--force", help="With --replace: write the table even if it loses cells."),
    out: Optional[Path] = typer.Option(None, "--out", help="The table to merge into and write (default: the shipped "
                                       "benchmarks/data/zerocost_<dataset>.npz, the repository's in a source checkout)."),
) -> None:
    """Merge checkpoints into a zero-cost table, by default the shipped one (atomic)."""
    from benchmarks.zerocost import load_table, pack_table
    from benchmarks.zerocost.analysis import resolve_table_dataset

    dataset = resolve_table_dataset(dataset)
    path = pack_table(dataset, list(checkpoints or []), out, replace=replace, force=force)
    typer.echo(f"{path} ({path.stat().st_size / 1e6:.2f} MB): {load_table(dataset, path).meta['cells_per_proxy']}")


@zerocost_app.command("verify")
def verify(
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    sample: int = bounded(5, "--sample", "cells", "Cells to recompute (a seeded sample)."),
    seed: int = bounded(0, "--seed", "seed", "Seed of the sample."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
    threads: int = bounded(1, "--threads", "threads", "torch threads."),
    rtol: float = bounded(1e-4, "--rtol", "rtol", "Relative tolerance of a match."),
) -> None:
    """Recompute a seeded sample of the shipped table and compare (exit 1 on a mismatch)."""
    from benchmarks.zerocost import verify_zerocost
    from benchmarks.zerocost.analysis import check_device, resolve_table_dataset

    dataset, device = resolve_table_dataset(dataset), check_device(device)
    _threads(threads)
    result = verify_zerocost(sample, seed, dataset=dataset, device=device, rtol=rtol)
    typer.echo(f"{result.dataset}: cells {result.cells}; worst relative error {result.worst}")
    for failure in result.failures:
        typer.echo(f"MISMATCH {failure}")
    if not result.ok:
        raise typer.Exit(1)


@zerocost_app.command("report")
def report(
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    naslib: Optional[Path] = typer.Option(None, "--naslib", help="NASLib's naslib_zc_nasbench201.json, to compare with."),
) -> None:
    """Spearman table of the shipped proxies (beside NASLib's values and the published ones)."""
    from benchmarks.zerocost import markdown_table
    from benchmarks.zerocost.analysis import proxy_quality

    typer.echo(markdown_table(proxy_quality(dataset, naslib)))


@zerocost_app.command("stability")
def stability(
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    cells: int = bounded(100, "--cells", "cells", "Size of the seeded sample of cells."),
    seeds: str = typer.Option("1,2", "--seeds", help="Comma-separated seeds besides the table's."),
    seed: int = bounded(0, "--seed", "seed", "Seed of the cell sample."),
    naslib: Optional[Path] = typer.Option(None, "--naslib", help="naslib_zc_nasbench201.json: sample its cells, "
                                          "compare with it."),
    threads: int = bounded(1, "--threads", "threads", "torch threads."),
) -> None:
    """Rank agreement of each proxy with itself under other seeds (network init and batch)."""
    from adapters.bounds import BOUNDS
    from benchmarks.zerocost.analysis import seed_stability

    others = bounded_list(seeds, "--seeds", "seed", most=int(BOUNDS["analysis_seeds"].high))
    _threads(threads)

    def progress(done: int, total: int) -> None:
        if done % 10 == 0:
            typer.echo(f"{done}/{total} cells recomputed", err=True)

    n, rows = seed_stability(dataset, cells, others, seed, naslib, progress)
    typer.echo(f"Spearman rho between the table's seed and seeds {others} (network init and batch) on {n} cells\n")
    typer.echo("| proxy | cells | seeds: mean rho | seeds: lowest rho | each seed vs NASLib, mean |\n|---|---|---|---|---|")
    for row in rows:
        theirs = f"{row['rho_naslib_mean']:.3f}" if "rho_naslib_mean" in row else ""
        typer.echo(f"| {row['proxy']} | {row['cells']} | {row['rho_seeds_mean']:.3f} | {row['rho_seeds_min']:.3f} "
                   f"| {theirs} |")


@zerocost_app.command("weighting")
def weighting(
    dataset: str = typer.Option("cifar10-valid", "--dataset", help=_DATASET_HELP),
    proxies: list[str] = typer.Option(["auto"], "--proxies", help="A comma-separated proxy set (repeatable); 'auto': "
                                      "every proxy once the 3,000-cell sample is done, else full coverage."),
    fit: str = typer.Option("20,100", "--fit", help="Comma-separated numbers of fitted cells [each 2 to 15,623]."),
    seeds: int = bounded(10, "--seeds", "analysis_seeds", "Seeds (splits) averaged over."),
) -> None:
    """OFFLINE ANALYSIS: held-out rho of the fitted proxy weighting, per proxy set and fit size."""
    from benchmarks.zerocost.analysis import weighting_study

    rows = weighting_study(dataset, proxies, bounded_list(fit, "--fit", "fit", most=20), seeds)
    typer.echo(f"{_OFFLINE} (weights fitted on a seeded sample of cells, rho on the rest; not what runs do)\n")
    typer.echo("Each rho is on the held-out cells, averaged over the seeds (sd of the weighted one).\n")
    typer.echo("| proxies (cells) | n fit | weighted, mean (sd) | equal weights | best single |\n|---|---|---|---|---|")
    for row in rows:
        typer.echo(f"| {', '.join(row['proxies'])} ({row['cells']:,}) | {row['n_fit']} | {row['rho_weighted_mean']:.3f} "
                   f"({row['rho_weighted_sd']:.3f}) | {row['rho_equal_weights']:.3f} | {row['rho_best_single']:.3f} |")


@zerocost_app.command("transfer")
def transfer(
    source: str = typer.Option("cifar10-valid", "--source", help=_DATASET_HELP),
    targets: str = typer.Option("cifar100,ImageNet16-120", "--targets", help="Comma-separated datasets."),
    proxies: str = typer.Option("auto", "--proxies", help="Comma-separated ('auto': every proxy both tables can use)."),
    fit: str = typer.Option("20,100", "--fit", help="Comma-separated numbers of fitted target cells (native fit) "
                            "[each 2 to 15,623]."),
    seeds: int = bounded(10, "--seeds", "analysis_seeds", "Seeds (splits) averaged over."),
) -> None:
    """OFFLINE ANALYSIS: a weighting fitted on one dataset, ranking the others' cells."""
    from benchmarks.zerocost.analysis import transfer_study

    rows = transfer_study(source, targets.split(","), proxies, bounded_list(fit, "--fit", "fit", most=20), seeds)
    typer.echo(f"{_OFFLINE} (weights fitted on every {source} cell with the proxies, applied to the target;")
    typer.echo("native: fitted on n target cells; rho with the target's x-valid accuracy on the same held-out target "
               f"cells, mean over {seeds} seeds)\n")
    typer.echo("| target | proxies (target cells) | n fit (native) | transferred | native, mean (sd) | equal weights |")
    typer.echo("|---|---|---|---|---|---|")
    for row in rows:
        typer.echo(f"| {row['target']} | {', '.join(row['proxies'])} ({row['cells']:,}) | {row['n_fit']} "
                   f"| {row['rho_transferred']:.3f} | {row['rho_native_mean']:.3f} ({row['rho_native_sd']:.3f}) "
                   f"| {row['rho_equal_weights']:.3f} |")


@zerocost_app.command("exceptions")
def exceptions(
    out: Path = typer.Option(..., "--out", help="Where to write the list (the shipped one, in a source checkout: "
                             "benchmarks/data/model_size_exceptions.json)."),
    built: bool = typer.Option(False, "--built", help="First build all 15,625 networks and check their counts."),
) -> None:
    """Recompute the cells whose table model_size differs from the built network's parameter count."""
    from adapters.files import atomic_write_text
    from benchmarks.zerocost.analysis import check_built_networks, model_size_exceptions_file

    if built:
        _threads(1)
        start = time.perf_counter()
        n = check_built_networks(lambda done, total: typer.echo(f"{done:,}/{total:,} built networks checked", err=True))
        typer.echo(f"all {n:,} built networks (10 classes) equal the closed form ({time.perf_counter() - start:.0f} s); "
                   "the class count only changes the classifier")
    body = model_size_exceptions_file()
    head = json.dumps({k: v for k, v in body.items() if k != "cells"}, indent=1)[:-2]
    cells = ",\n  ".join(json.dumps(row) for row in body["cells"])  # one cell per line: diffs stay readable
    atomic_write_text(out, f'{head},\n "cells": [\n  {cells}\n ]\n}}\n')
    typer.echo(f"{len(body['cells'])} cells -> {out}")

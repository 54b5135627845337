"""Transfer analysis: how the incumbents found on one dataset fare on the others.

Unlike :func:`harness.reporting.report.write_report`, this reads the benchmark: it looks each run's
final incumbent up on datasets the optimizers never saw. It is analysis after the search,
labelled as such in its heading, and charges no budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks import TabularBenchmark
from harness.reporting import figures
from harness.reporting.document import Block, Heading, Image, Paragraph, Table, to_markdown
from harness.reporting.formats import mean_std, short_split
from harness.reporting.stats import run_finals
from adapters.types import SEED_MEAN, BadInputError

__all__ = ["TOP_FRACTION", "transfer_section", "transfer_analysis", "rank_correlations"]

#: The "top" subset of the rank correlations: the best 1% of cells on the search dataset.
TOP_FRACTION = 0.01


def _source_dataset(trials: pd.DataFrame) -> str:
    datasets = trials["dataset"].unique()
    if len(datasets) != 1:
        raise BadInputError(f"transfer analysis needs runs searched on one dataset, got {sorted(datasets)}")
    return str(datasets[0])


def rank_correlations(source: np.ndarray, target: np.ndarray, top_fraction: float = TOP_FRACTION) -> dict[str, float]:
    """Spearman and Kendall between two accuracy vectors, over all cells and the source's top cells.

    Cells missing on either side are left out before choosing the top fraction.
    """
    known = ~(np.isnan(source) | np.isnan(target))
    source, target = source[known], target[known]
    top = np.argsort(-source, kind="stable")[: math.ceil(top_fraction * len(source))]
    return {
        "n_all": len(source),
        "spearman_all": float(stats.spearmanr(source, target).statistic),
        "kendall_all": float(stats.kendalltau(source, target).statistic),
        "n_top": len(top),
        "spearman_top": float(stats.spearmanr(source[top], target[top]).statistic),
        "kendall_top": float(stats.kendalltau(source[top], target[top]).statistic),
    }


def _valid_split(bench: TabularBenchmark, dataset: str) -> str:
    return short_split(bench.splits(dataset)["valid_acc"])


def _transferred(finals: pd.DataFrame, bench: TabularBenchmark, dataset: str) -> pd.DataFrame:
    """Per run, the incumbent's seed-mean valid/test accuracy on ``dataset`` and its regrets there."""
    results = [bench.query(int(i), dataset, seed=SEED_MEAN) for i in finals["incumbent_index"]]
    frame = pd.DataFrame(
        {
            "valid_acc": [r.valid_acc for r in results],
            "test_acc": [r.test_acc for r in results],
        },
        index=finals.index,
        dtype=float,
    )
    frame["regret_valid"] = bench.best(dataset).valid_acc - frame["valid_acc"]
    if bench.has_test(dataset):
        frame["regret_test"] = bench.best(dataset, "test_acc").test_acc - frame["test_acc"]
    return frame


def _transfer_table(finals: pd.DataFrame, bench: TabularBenchmark, source: str, dataset: str) -> list[Block]:
    moved = _transferred(finals, bench, dataset)
    splits = bench.splits(dataset)
    valid = _valid_split(bench, dataset)
    test_split = splits.get("test_acc") if bench.has_test(dataset) else None
    rows = []
    for name, run in moved.groupby(level="optimizer"):
        test = mean_std(run["test_acc"]) if test_split else "not available"
        test_regret = mean_std(run["regret_test"], 3) if test_split else "not available"
        rows.append((str(name), str(len(run)), mean_std(finals.loc[name, "valid_acc"]), mean_std(run["valid_acc"]),
                     mean_std(run["regret_valid"], 3), test, test_regret))
    test_note = (
        f"test acc: seed-mean {test_split}; test regret against the best seed-mean test accuracy on {dataset}."
        if test_split
        else f"test acc: not available, store {bench.name!r} has no test accuracy for {dataset}."
    )
    legend = (
        f"Each run's final incumbent (searched on {source}) looked up on {dataset}; mean ± std across seeds. "
        f"{source} valid acc: seed-mean {_valid_split(bench, source)} on {source}. "
        f"valid acc: seed-mean {splits['valid_acc']}; regret: best seed-mean {valid} on {dataset} "
        f"({bench.best(dataset).valid_acc:.3f}%) minus the incumbent's. {test_note}"
    )
    headers = ("optimizer", "runs", f"{source} valid acc %", f"{dataset} valid acc % ({valid})", f"regret pp ({valid})",
               f"test acc % ({short_split(test_split) if test_split else 'no test split'})", "test regret pp")
    return [Heading(f"Transfer to {dataset}", 3), Paragraph(legend), Table(headers, tuple(rows))]


def _correlations(bench: TabularBenchmark, source: str, datasets: Sequence[str]) -> list[Block]:
    cells = np.arange(bench.space.size)
    base = bench.lookup(cells, source)
    rows = []
    for dataset in datasets:
        c = rank_correlations(base, bench.lookup(cells, dataset))
        rows.append((dataset, str(c["n_all"]), f"{c['spearman_all']:.3f}", f"{c['kendall_all']:.3f}",
                     str(c["n_top"]), f"{c['spearman_top']:.3f}", f"{c['kendall_top']:.3f}"))
    headers = ("dataset", "cells", "Spearman (all)", "Kendall tau-b (all)", f"top {TOP_FRACTION:.0%} cells",
               "Spearman (top)", "Kendall tau-b (top)")
    text = (
        f"Rank correlation of seed-mean validation accuracy ({source}: {_valid_split(bench, source)}; "
        + "; ".join(f"{ds}: {_valid_split(bench, ds)}" for ds in datasets)
        + f") between {source} and each dataset, over every cell with values on both and over the top "
        f"{TOP_FRACTION:.0%} of cells by {source} accuracy."
    )
    return [Heading("Rank correlation between datasets", 3), Paragraph(text), Table(headers, tuple(rows))]


def _scatter(finals: pd.DataFrame, bench: TabularBenchmark, source: str, dataset: str, out: Path) -> Block:
    cells = np.arange(bench.space.size)
    x, y = bench.lookup(cells, source), bench.lookup(cells, dataset)
    marked = {
        str(name): (x[run["incumbent_index"].to_numpy()], y[run["incumbent_index"].to_numpy()])
        for name, run in finals.groupby(level="optimizer")
    }
    name = f"transfer_scatter_{dataset}.png"
    figures.plot_transfer_scatter(
        x, y, marked, xlabel=f"{source} seed-mean {_valid_split(bench, source)} accuracy (%)",
        ylabel=f"{dataset} seed-mean {_valid_split(bench, dataset)} accuracy (%)",
        title=f"{source} vs {dataset}: all cells and each run's final incumbent", path=out / name,
    )
    return Image(name, f"{source} against {dataset} accuracy with incumbents marked")


def transfer_section(
    trials: pd.DataFrame, bench: TabularBenchmark, out: Path, datasets: Sequence[str] = ("cifar100", "ImageNet16-120")
) -> list[Block]:
    """The transfer analysis as report blocks (for ``ReportContext.extra``); writes its figures into ``out``."""
    if trials.empty:
        raise BadInputError("no trials to analyse")
    source = _source_dataset(trials)
    finals = run_finals(trials)
    out = Path(out)
    blocks: list[Block] = [
        Heading(f"Transfer analysis (post-search lookups on the benchmark, {source} -> {', '.join(datasets)})"),
        Paragraph(f"Store `{bench.name}`, checksum `{bench.checksum}`. These lookups charge no budget."),
    ]
    for dataset in datasets:
        blocks += _transfer_table(finals, bench, source, dataset)
    blocks += _correlations(bench, source, datasets)
    blocks += [_scatter(finals, bench, source, dataset, out) for dataset in datasets]
    return blocks


def transfer_analysis(
    trials: pd.DataFrame, bench: TabularBenchmark, out: Path, datasets: Sequence[str] = ("cifar100", "ImageNet16-120")
) -> str:
    """The transfer analysis as Markdown (figures written into ``out``)."""
    return to_markdown(transfer_section(trials, bench, out, datasets))

"""The papers' own table: each run's final cell at the full schedule on every dataset, and finals.csv.

NAS-Bench-201 (Table 5) and NATS-Bench report, per method, mean ± std over runs of the final
cell's 200-epoch seed-mean accuracy, validation and test, for CIFAR-10, CIFAR-100 and
ImageNet16-120. Like :mod:`harness.reporting.transfer` this reads the benchmark after the search: it
looks each run's final cell up at the store's highest fidelity and charges no budget.

A column's runs are those that searched its dataset (NATS-Bench: each dataset searched on
itself); where no run searched it, the runs of the one searched dataset (NB201: everything
searched on cifar10-valid, its cells reported everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmarks import TabularBenchmark
from adapters.files import atomic_write
from harness.reporting.document import Block, Heading, Paragraph, Table
from harness.reporting.formats import mean_std, short_split
from harness.reporting.stats import in_tell_order
from adapters.types import SEED_MEAN, BadInputError

__all__ = ["FINALS_CSV", "final_cells", "finals_table", "paper_section"]

FINALS_CSV = "finals.csv"


def final_cells(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per run: optimizer, seed, the dataset it searched and its final cell (last incumbent)."""
    last = in_tell_order(trials, by=("run_id",)).groupby("run_id").tail(1)
    return pd.DataFrame({
        "optimizer": last["optimizer"].astype(str),
        "seed": last["seed"].astype(int),
        "searched_on": last["dataset"].astype(str),
        "final_index": last["incumbent_index"].astype(int),
    }).sort_values(["optimizer", "searched_on", "seed"]).reset_index(drop=True)


def _columns(bench: TabularBenchmark, dataset: str) -> list[tuple[str, str, str]]:
    """(column name, metric, split) for the dataset's validation and, where stored, test accuracy."""
    splits = bench.splits(dataset)
    metrics = ["valid_acc"] + (["test_acc"] if bench.has_test(dataset) else [])
    return [(f"{dataset}_{short_split(splits[m])}", m, splits[m]) for m in metrics]


def finals_table(trials: pd.DataFrame, bench: TabularBenchmark, datasets: Sequence[str]) -> pd.DataFrame:
    """finals.csv's rows: each run's final cell and its seed-mean accuracy at the highest fidelity on every dataset."""
    frame = final_cells(trials)
    space = bench.space
    frame["arch_str"] = [space.to_str(space.config(int(i))) for i in frame["final_index"]]
    cache: dict[tuple[int, str], object] = {}
    for dataset in datasets:
        for column, metric, _ in _columns(bench, dataset):
            values = []
            for index in frame["final_index"]:
                key = (int(index), dataset)
                if key not in cache:
                    cache[key] = bench.query(int(index), dataset, None, SEED_MEAN)
                values.append(getattr(cache[key], metric))
            frame[column] = pd.array(values, dtype="Float64")
    return frame


def _column_runs(frame: pd.DataFrame, dataset: str) -> pd.DataFrame | None:
    searched = frame["searched_on"].unique()
    if dataset in searched:
        return frame[frame["searched_on"] == dataset]
    return frame if len(searched) == 1 else None


def paper_section(trials: pd.DataFrame, bench: TabularBenchmark, out: Path, datasets: Sequence[str]) -> list[Block]:
    """Write ``finals.csv`` into ``out`` and return the papers' table (mean ± std over runs)."""
    if trials.empty:
        raise BadInputError("no trials for the paper table")
    fidelity = bench.fidelity_space(datasets[0]).max
    frame = finals_table(trials, bench, datasets)
    atomic_write(Path(out) / FINALS_CSV, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.4f"))
    columns = [(dataset, col, metric, split) for dataset in datasets for col, metric, split in _columns(bench, dataset)]
    rows = []
    for name in sorted(frame["optimizer"].unique()):
        mine = frame[frame["optimizer"] == name]
        cells = []
        for dataset, column, _, _ in columns:
            runs = _column_runs(mine, dataset)
            cells.append("n/a" if runs is None or runs.empty else mean_std(runs[column].astype(float)))
        counts = "/".join(str(n) for n in mine.groupby("searched_on").size())
        rows.append((name, counts, *cells))
    rows.append(("optimal", "—", *(f"{getattr(bench.best(d, m), m):.2f}" for d, _, m, _ in columns)))
    searched = ", ".join(sorted(frame["searched_on"].unique()))
    legend = (
        f"Each run's final cell (its last incumbent: the best cell by the search signal) looked up after the "
        f"search, without charge: its seed-mean accuracy (%) at fidelity {fidelity} (the store's highest), mean ± "
        f"std over runs. Runs searched on {searched}; a column's runs are those that searched its dataset, else "
        "(where no run did) all runs, as NAS-Bench-201 reports its CIFAR-10 search on every dataset. Splits: "
        + "; ".join(f"{col} = {split}" for _, col, _, split in columns)
        + f". optimal: the best seed-mean value any cell has. Every run's final cell and values: {FINALS_CSV}."
    )
    headers = ("method", "runs", *(col for _, col, _, _ in columns))
    return [Heading("The papers' table"), Paragraph(legend), Table(headers, tuple(rows))]

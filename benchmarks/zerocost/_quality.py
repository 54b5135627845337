"""How well proxies rank cells: Spearman correlations, against accuracy and against NASLib.

Pure functions over arrays in official index order; callers pass the accuracies (from a
store) so this module never reads a benchmark table itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from adapters import from_naslib
from benchmarks.zerocost._proxies import PROXIES

__all__ = [
    "spearman",
    "read_naslib_zc",
    "NASLIB_DATASETS",
    "PUBLISHED",
    "quality_rows",
    "QUALITY_COLUMNS",
    "markdown_table",
    "seed_agreement",
]

#: NASLib's dataset keys -> hpo2nas names (NASLib's "cifar10" is cifar10-valid's x-valid).
NASLIB_DATASETS = {"cifar10": "cifar10-valid", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}

_PUBLISHED_PROXIES = ("synflow", "grad_norm", "snip", "grasp", "fisher", "jacov", "nwot", "zen", "params", "flops")

#: Published Spearman rho on NB201 for the report's side-by-side columns (source -> dataset -> proxy).
#:
#: ``suite_zero``: NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and
#: Benchmarks, arXiv 2210.03230), Figure 2 (= Appendix Figure 6): rho with validation
#: accuracy over 1,000 random cells per task, two decimals, read from the heatmap's labels in
#: the text of the arXiv PDF. Its proxies are the NASLib code whose values the shared file holds.
#: ``zc_nas``: Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021), the
#: output of the authors' ``notebooks/nasbench201_correlations.ipynb`` in zero-cost-nas
#: ("Table 1"): |rho| with NB201's 200-epoch *test* accuracy (cifar10-valid's model on
#: ori-test; x-test for the others) over all 15,625 cells. Only the proxies that paper has.
PUBLISHED: dict[str, dict[str, dict[str, float]]] = {
    "suite_zero": {
        dataset: dict(zip(_PUBLISHED_PROXIES, values))
        for dataset, values in {
            "cifar10-valid": (0.73, 0.58, 0.58, 0.51, 0.50, 0.75, 0.77, 0.35, 0.72, 0.69),
            "cifar100": (0.76, 0.63, 0.63, 0.54, 0.54, 0.71, 0.80, 0.35, 0.73, 0.71),
            "ImageNet16-120": (0.75, 0.57, 0.57, 0.55, 0.48, 0.71, 0.77, 0.39, 0.69, 0.67),
        }.items()
    },
    "zc_nas": {
        dataset: dict(zip(_PUBLISHED_PROXIES[:6], values))
        for dataset, values in {
            "cifar10-valid": (0.737, 0.594, 0.596, 0.514, 0.360, 0.731),
            "cifar100": (0.763, 0.637, 0.637, 0.547, 0.385, 0.704),
            "ImageNet16-120": (0.751, 0.578, 0.578, 0.549, 0.327, 0.701),
        }.items()
    },
}


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """Spearman's rho over the pairs where both are finite, and how many pairs that was."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 3:
        return float("nan"), n
    return float(spearmanr(a[ok], b[ok]).statistic), n


def read_naslib_zc(path: Path, dataset: str) -> dict[str, np.ndarray]:
    """NASLib's precomputed proxies for ``dataset`` as NaN-filled columns over the official indices.

    Keys of the file are NASLib op-index tuples (its ``idx`` field is not the NB201 index);
    ``val_accuracy`` comes along as a column too.
    """
    from adapters import NUM_CELLS

    naslib_key = {v: k for k, v in NASLIB_DATASETS.items()}[dataset]
    body = json.loads(Path(path).read_text())[naslib_key]
    columns: dict[str, np.ndarray] = {}
    for key, entry in body.items():
        index = from_naslib(tuple(int(t) for t in key.strip("()").split(","))).index
        for name, value in entry.items():
            if isinstance(value, dict) and "score" in value:
                value = value["score"]
            elif name != "val_accuracy":
                continue
            columns.setdefault(name, np.full(NUM_CELLS, np.nan))[index] = float(value)
    return columns


def quality_rows(
    columns: Mapping[str, np.ndarray],
    accuracy: np.ndarray,
    naslib: Mapping[str, np.ndarray] | None = None,
    dataset: str | None = None,
) -> list[dict]:
    """Per proxy: rho with accuracy on every computed cell, beside NASLib on the shared cells
    and, given ``dataset``, beside the published values (:data:`PUBLISHED`)."""
    rows = []
    shared_mask = None if naslib is None else np.isfinite(naslib.get("val_accuracy", np.full(len(accuracy), np.nan)))
    for name in PROXIES:
        if name not in columns:
            continue
        ours = columns[name]
        rho, n = spearman(ours, accuracy)
        row = {"proxy": name, "cells": n, "rho_acc": rho}
        if naslib is not None and name in naslib:
            theirs = np.where(shared_mask, naslib[name], np.nan)
            both = np.isfinite(ours) & np.isfinite(theirs)
            row["shared"] = int(both.sum())
            row["rho_acc_ours_shared"] = spearman(np.where(both, ours, np.nan), accuracy)[0]
            row["rho_acc_naslib_shared"] = spearman(np.where(both, theirs, np.nan), accuracy)[0]
            row["rho_ours_naslib"] = spearman(np.where(both, ours, np.nan), theirs)[0]
            row["rho_acc_naslib_all"] = spearman(theirs, accuracy)[0]
        for source, values in PUBLISHED.items():
            if dataset is not None:
                row[source] = values.get(dataset, {}).get(name)
        rows.append(row)
    return rows


#: The report's columns: row key, header, and what the header means (printed under the table).
QUALITY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("proxy", "proxy", ""),
    ("cells", "cells", "cells of the shipped table with the proxy"),
    ("rho_acc", "rho", "Spearman rho of our values with the seed-mean x-valid accuracy, over those cells"),
    ("shared", "NASLib cells", "cells that NASLib's file (--naslib) also has"),
    ("rho_acc_ours_shared", "rho, ours (NASLib cells)", "our rho with accuracy on those shared cells only"),
    ("rho_acc_naslib_shared", "rho, NASLib (NASLib cells)", "NASLib's values' rho with accuracy on the shared cells"),
    ("rho_ours_naslib", "ours vs NASLib", "rho between our values and NASLib's on the shared cells"),
    ("rho_acc_naslib_all", "rho, NASLib (all its cells)", "NASLib's values' rho with accuracy on all its cells"),
    ("suite_zero", "Suite-Zero", "published: NAS-Bench-Suite-Zero (NeurIPS 2022), Fig. 2, 1,000 cells"),
    ("zc_nas", "zero-cost-nas", "published: Abdelfattah et al. (ICLR 2021), |rho| with 200-epoch test accuracy"),
)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a markdown table, without the columns no row fills, and a legend of the headers.

    Why: without ``--naslib`` four NASLib columns would be empty, and headers such as
    ``rho_acc_ours_shared`` mean nothing to a reader without the legend.
    """
    def f(value: object) -> str:
        return "" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))

    columns = [c for c in QUALITY_COLUMNS if any(row.get(c[0]) is not None for row in rows)]
    lines = ["| " + " | ".join(head for _, head, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(f(row.get(key)) for key, _, _ in columns) + " |" for row in rows]
    lines += ["", *(f"- {head}: {meaning}" for _, head, meaning in columns if meaning)]
    return "\n".join(lines)


def seed_agreement(
    by_seed: Mapping[int, Mapping[str, np.ndarray]], naslib: Mapping[str, np.ndarray] | None = None
) -> list[dict]:
    """Per proxy: how well one seed's values rank the same cells as another seed's.

    ``by_seed`` maps a seed to proxy columns over the same cells. Why: two implementations can
    only agree as well as one implementation agrees with itself under a new initialisation
    and batch, so this is the yardstick for the "ours vs NASLib" column. Each row has the
    mean and the lowest rho over all pairs of seeds, and (given ``naslib``, aligned with the
    same cells) the mean rho of each seed's values with NASLib's.
    """
    seeds = sorted(by_seed)
    rows = []
    for name in PROXIES:
        if not all(name in by_seed[seed] for seed in seeds):
            continue
        pairs = [spearman(by_seed[a][name], by_seed[b][name])[0] for i, a in enumerate(seeds) for b in seeds[i + 1:]]
        row = {"proxy": name, "cells": spearman(by_seed[seeds[0]][name], by_seed[seeds[-1]][name])[1],
               "rho_seeds_mean": float(np.mean(pairs)), "rho_seeds_min": float(np.min(pairs))}
        if naslib is not None and name in naslib:
            row["rho_naslib_mean"] = float(np.mean([spearman(by_seed[seed][name], naslib[name])[0] for seed in seeds]))
        rows.append(row)
    return rows

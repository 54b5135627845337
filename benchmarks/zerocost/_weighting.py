"""Proxy weighting: a linear regression of validation accuracy on standardised proxies.

Proxies are rank-transformed over the candidate pool and standardised (mean 0, sd 1) before
the regression, because their scales differ by orders of magnitude and some have heavy tails
(grasp, synflow); ranks make one outlier cell unable to dominate a weight. The pool's proxy
values are zero-cost inputs any user can compute, so standardising over the pool uses no
hidden information. The regression itself is fitted only on cells whose accuracy the caller
supplies: inside a run, the cells it has evaluated and paid for.

The target is validation accuracy rank-transformed among the fitted cells (ranks / n). On
raw accuracy, least squares is dominated by the degenerate cells near chance (10% against
~90%), and the fit then ranks the good cells worse than equal weights do; on ranks it does
not (the README's zero-cost section has the held-out numbers for both).

Before any fit the weights are equal (the mean z-score of the proxies, a data-free ensemble).
A small ridge penalty keeps the first fits, on a handful of cells, from swinging wildly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from adapters.errors import BadInputError
from benchmarks.zerocost._quality import spearman
from benchmarks.zerocost._table import ZeroCostTable, load_table

__all__ = [
    "REFERENCE_DATASET", "ProxyScorer", "SAMPLE_CELLS", "auto_proxies", "coverage_gap", "full_coverage",
    "heldout_weighting", "transfer_weighting",
]

#: The zero-cost job's minimum for a dataset: a seeded sample of this many cells with every proxy.
SAMPLE_CELLS = 3000
#: The dataset whose table has every proxy for every cell; the other tables may have fewer.
REFERENCE_DATASET = "cifar10-valid"


def full_coverage(table: ZeroCostTable) -> list[str]:
    """The table's proxies that every cell has (the default set for searching all cells)."""
    return [name for name in table.columns if table.has(name).all()]


def auto_proxies(table: ZeroCostTable) -> list[str]:
    """What ``proxies=auto`` means: every proxy of the table once its sample is done, else full coverage.

    Why: the tables of cifar100 and ImageNet16-120 are filled in over days, a seeded sample of
    ``SAMPLE_CELLS`` cells with every proxy first. From then on the full proxy set over that
    sample ranks cells far better than params and FLOPs over all cells (the candidate pool
    becomes the cells with every proxy); before, only the full-coverage proxies are usable.
    """
    every = list(table.columns)
    if not every:
        return []
    common = np.logical_and.reduce([table.has(name) for name in every])
    return every if common.sum() >= min(SAMPLE_CELLS, common.size) else full_coverage(table)


def coverage_gap(table: ZeroCostTable) -> list[str]:
    """Proxies that "auto" takes on the reference table but not on ``table``: what a search there goes without.

    cifar100 and ImageNet16-120 are filled in over days; until their sample is done "auto"
    falls back to params and FLOPs, which a search must say rather than run on silently.
    """
    if table.dataset == REFERENCE_DATASET:
        return []
    have = set(auto_proxies(table))
    return [name for name in auto_proxies(load_table(REFERENCE_DATASET)) if name not in have]


@dataclass
class ProxyScorer:
    """Weighted proxy scores over a candidate pool of official indices.

    Attributes:
        names: the proxies used, in column order of ``features``.
        cells: the candidate pool (cells that have every proxy in ``names``).
        features: rank-standardised proxies, shape (len(cells), len(names)).
        weights: the current regression weights (equal before the first fit).
    """

    names: tuple[str, ...]
    cells: np.ndarray
    features: np.ndarray
    weights: np.ndarray = field(init=False)
    ridge: float = 1.0

    def __post_init__(self) -> None:
        self.weights = np.full(len(self.names), 1.0 / len(self.names))
        self._position = {int(c): i for i, c in enumerate(self.cells)}

    @classmethod
    def from_table(cls, table: ZeroCostTable, names: Sequence[str], ridge: float = 1.0) -> ProxyScorer:
        names = tuple(names)
        if not names:
            raise BadInputError("no proxies to weight")
        mask = np.logical_and.reduce([table.has(n) for n in names])
        cells = np.flatnonzero(mask)
        if len(cells) == 0:
            raise BadInputError(f"no cell of the {table.dataset} table has all of {list(names)}")
        features = np.column_stack([rankdata(table.values(n)[cells]) for n in names]).astype(np.float64)
        features -= features.mean(axis=0)
        sd = features.std(axis=0)
        features /= np.where(sd > 0, sd, 1.0)
        return cls(names, cells, features, ridge=ridge)

    def position(self, index: int) -> int | None:
        """Where an official index sits in the pool, or None if it is not a candidate."""
        return self._position.get(int(index))

    def fit(self, indices: Sequence[int], accuracy: Sequence[float]) -> None:
        """Ridge regression (with intercept) of ``accuracy``'s ranks on the features of ``indices``.

        Cells outside the pool are ignored: they have no proxy values to regress on.
        """
        rows = [(self._position[int(i)], float(a)) for i, a in zip(indices, accuracy) if int(i) in self._position]
        if not rows:
            return
        x = self.features[[r for r, _ in rows]]
        y = rankdata([a for _, a in rows]) / len(rows)
        x_mean = x.mean(axis=0)
        xc, yc = x - x_mean, y - y.mean()
        gram = xc.T @ xc + self.ridge * np.eye(len(self.names))
        self.weights = np.linalg.solve(gram, xc.T @ yc)

    def scores(self) -> np.ndarray:
        """The weighted score of every candidate (higher is predicted better)."""
        return self.features @ self.weights


def heldout_weighting(
    table: ZeroCostTable, accuracy: np.ndarray, names: Sequence[str], n_fit: int, seed: int = 0
) -> dict:
    """OFFLINE ANALYSIS (not for runs): fit on a seeded sample, rank-correlate on the rest.

    Returns the Spearman rho of the weighted score with accuracy on the held-out cells, the
    same for the unfitted equal weights and for each proxy alone, and the fitted weights.
    """
    scorer = ProxyScorer.from_table(table, names)
    fit_pos, test_pos = _split(scorer, n_fit, seed)
    acc = np.asarray(accuracy, dtype=np.float64)[scorer.cells]
    equal = spearman(scorer.scores()[test_pos], acc[test_pos])[0]
    scorer.fit(scorer.cells[fit_pos], acc[fit_pos])
    weighted, n_test = spearman(scorer.scores()[test_pos], acc[test_pos])
    single = {n: spearman(scorer.features[test_pos, j], acc[test_pos])[0] for j, n in enumerate(scorer.names)}
    return {"proxies": list(scorer.names), "n_fit": int(len(fit_pos)), "n_test": n_test, "rho_weighted": weighted,
            "rho_equal_weights": equal, "rho_single": single, "weights": dict(zip(scorer.names, scorer.weights.tolist()))}


def _split(scorer: ProxyScorer, n_fit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded positions in the pool: ``n_fit`` to fit on, the rest held out (at least 2, for a rho)."""
    if not 2 <= n_fit <= len(scorer.cells) - 2:
        raise BadInputError(f"cells to fit must be 2 to {len(scorer.cells) - 2} (the {len(scorer.cells):,} cells with "
                            f"every proxy, less 2 to test on), got {n_fit}")
    order = np.random.default_rng(seed).permutation(len(scorer.cells))
    return order[:n_fit], order[n_fit:]


def transfer_weighting(
    source: ZeroCostTable,
    source_accuracy: np.ndarray,
    target: ZeroCostTable,
    target_accuracy: np.ndarray,
    names: Sequence[str],
    n_fit: int,
    seed: int = 0,
) -> dict:
    """OFFLINE ANALYSIS: does a weighting fitted on ``source`` rank ``target``'s cells as well as a native one?

    Three weightings are scored on the same held-out target cells: the weights fitted on every
    source cell that has the proxies (transferred: no target accuracy used), the weights
    fitted on ``n_fit`` seeded target cells (native, as ``heldout_weighting``), and equal
    weights. Features are rank-standardised within each table's own pool, so source weights
    apply to target features unchanged.
    """
    donor = ProxyScorer.from_table(source, names)
    donor.fit(donor.cells, np.asarray(source_accuracy, dtype=np.float64)[donor.cells])
    native = heldout_weighting(target, target_accuracy, names, n_fit, seed)
    scorer = ProxyScorer.from_table(target, names)
    _, test_pos = _split(scorer, n_fit, seed)
    acc = np.asarray(target_accuracy, dtype=np.float64)[scorer.cells][test_pos]
    transferred, n_test = spearman((scorer.features @ donor.weights)[test_pos], acc)
    return {"proxies": list(scorer.names), "source": source.dataset, "target": target.dataset,
            "source_cells": int(len(donor.cells)), "n_fit": native["n_fit"], "n_test": n_test,
            "rho_transferred": transferred, "rho_native": native["rho_weighted"],
            "rho_equal_weights": native["rho_equal_weights"],
            "source_weights": dict(zip(donor.names, donor.weights.tolist()))}

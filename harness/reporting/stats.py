"""The statistics behind the report, computed from trial records only.

Each function takes the trials of one dataset. Seeds are the blocks of every paired or
rank statistic, so those compare only seeds that every optimizer involved has run.
Regret is the recorded ``regret_valid``: the known optimum minus the incumbent's
seed-mean validation accuracy, in percentage points.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from adapters.types import BadInputError

__all__ = [
    "REGRET_FLOOR",
    "regret_floor",
    "TELL_ORDER",
    "in_tell_order",
    "RankTest",
    "Margin",
    "run_finals",
    "seed_matrix",
    "time_grid",
    "full_training_grid",
    "step_curves",
    "final_order",
    "focus",
    "mean_se",
    "ranks_over_grid",
    "friedman_nemenyi",
    "nemenyi_cd",
    "paired_margin",
    "edge_importance",
]

#: Log axes cannot show a regret of 0 (the optimum found): values are clipped to this floor (pp).
REGRET_FLOOR = 1e-3


def regret_floor(regret: pd.Series, percent: bool) -> float:
    """Where a log regret axis stops: :data:`REGRET_FLOOR` pp for accuracies in %, else the power of
    ten below the smallest positive regret (HPOLib's MSE regrets reach 1e-6, which 1e-3 would hide)."""
    positive = regret[np.isfinite(regret) & (regret > 0)]
    if percent or positive.empty:
        return REGRET_FLOOR
    return float(10.0 ** np.floor(np.log10(positive.min())))


#: The order the runner told results in: finish time, then worker id for trials that finish at one
#: instant, then trial number. With several workers trial numbers follow the asks, which finish
#: out of order, so "the last trial" of a run is the last one told, never the highest number.
TELL_ORDER = ("sim_end_s", "worker", "trial")


def in_tell_order(trials: pd.DataFrame, by: tuple[str, ...] = ("optimizer", "seed")) -> pd.DataFrame:
    """``trials`` sorted by ``by`` and, within each, in the order their results were told.

    Records from before simulated workers have no ``worker`` column (one worker): they sort by
    finish time and trial number.
    """
    return trials.sort_values([*by, *(c for c in TELL_ORDER if c in trials.columns)], kind="stable")


def run_finals(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per run, indexed by (optimizer, seed): its final incumbent and its counts.

    Raises when an optimizer has two runs on one seed, because the seed is the block of
    the paired tests and a duplicate would be silently averaged or dropped.
    """
    runs_per_block = trials.groupby(["optimizer", "seed"])["run_id"].nunique()
    if (runs_per_block > 1).any():
        dup = runs_per_block[runs_per_block > 1].index.tolist()
        raise BadInputError(f"more than one run per (optimizer, seed): {dup}; give variants distinct optimizer names")
    ordered = in_tell_order(trials)
    grouped = ordered.groupby(["optimizer", "seed"])
    finals = grouped.tail(1).set_index(["optimizer", "seed"])
    return pd.DataFrame(
        {
            "regret_valid": finals["regret_valid"].astype(float),
            "valid_acc": finals["incumbent_valid_acc"].astype(float),
            "test_acc": pd.to_numeric(finals["incumbent_test_acc"], errors="coerce").astype(float),
            "trials": grouped.size(),
            # configurations without a row (canonical_id -1: failed, never trained) are no cell
            "distinct_cells": ordered["canonical_id"].where(ordered["canonical_id"] >= 0).groupby(
                [ordered["optimizer"], ordered["seed"]]).nunique(),
            "incumbent_index": finals["incumbent_index"].astype(int),
        }
    )


def seed_matrix(finals: pd.DataFrame, column: str) -> pd.DataFrame:
    """seeds x optimizers of one final value, keeping only seeds every optimizer ran (complete blocks)."""
    return finals[column].unstack("optimizer").dropna()


def time_grid(trials: pd.DataFrame, points: int = 200) -> np.ndarray:
    """Geometric grid of simulated seconds from the moment every run has an incumbent to the last end.

    Starting where all runs are defined keeps means and ranks over the same seeds at every point.
    """
    by_run = trials.groupby("run_id")["sim_end_s"]
    start, stop = by_run.min().max(), by_run.max().max()
    return np.geomspace(start, stop, points) if stop > start else np.array([start])


def full_training_grid(trials: pd.DataFrame, points: int = 200) -> np.ndarray:
    """Geometric grid of full-training equivalents from the point every run has an incumbent to the longest run.

    A trial at fidelity f costs f / (the highest recorded fidelity) full trainings, so a
    12-epoch trial counts 0.06 and a 200-epoch one 1: multi-fidelity runs and single-fidelity
    runs are compared at equal training effort, which a count of evaluations does not do.
    """
    spent = _with_costs(trials).groupby("run_id")["full_trainings"]
    start, stop = spent.min().max(), spent.max().max()
    return np.geomspace(start, stop, points) if stop > start else np.array([start])


def _with_costs(trials: pd.DataFrame) -> pd.DataFrame:
    """``trials`` in tell order with each run's cumulative ``full_trainings``.

    Records without a ``fidelity`` column count every trial as one full training.
    """
    ordered = in_tell_order(trials)
    fidelity = ordered["fidelity"].astype(float) if "fidelity" in ordered else pd.Series(1.0, index=ordered.index)
    share = fidelity / float(fidelity.max())
    return ordered.assign(full_trainings=share.groupby([ordered["optimizer"], ordered["seed"]]).cumsum())


def _step(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The step function (x[i] -> y[i], held after the last x) at each grid point; NaN before x[0]."""
    pos = np.searchsorted(x, grid, side="right") - 1
    return np.where(pos >= 0, y[np.maximum(pos, 0)], np.nan)


def step_curves(trials: pd.DataFrame, x: str, grid: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per optimizer, seeds x grid of incumbent regret; a run holds its last value after it ends.

    ``x`` is ``"sim_end_s"`` (simulated time) or ``"full_trainings"`` (cumulative fidelity /
    highest fidelity, see :func:`full_training_grid`).
    """
    ordered = _with_costs(trials)
    curves = {}
    for optimizer, frame in ordered.groupby("optimizer"):
        rows = {
            seed: _step(run[x].to_numpy(float), run["regret_valid"].to_numpy(float), grid)
            for seed, run in frame.groupby("seed")
        }
        curves[optimizer] = pd.DataFrame.from_dict(rows, orient="index")
    return curves


def final_order(finals: pd.DataFrame) -> list[str]:
    """Optimizers from best to worst: mean rank of final regret over the seeds all ran, then mean final regret.

    The one order every figure and table of a report uses, so a reader finds an optimizer
    at the same place in each. Ties (and optimizers missing a common seed) fall back to the
    mean final regret, then the name.
    """
    regret = finals["regret_valid"].unstack("optimizer")
    common = regret.dropna()
    ranks = (pd.DataFrame(stats.rankdata(common.to_numpy(float), axis=1), columns=common.columns).mean()
             if len(common) else pd.Series(dtype=float))
    means = regret.mean()
    return sorted(means.index, key=lambda n: (float(ranks.get(n, np.inf)), float(means[n]), str(n)))


def focus(order: list[str], best: int, baselines: tuple[str, ...]) -> list[str]:
    """The ``best`` first optimizers of ``order`` plus every named baseline that ran, in ``order``."""
    keep = set(order[:best]) | set(baselines)
    return [name for name in order if name in keep]


def mean_se(values: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean across seeds (rows) and its standard error (0 with a single seed)."""
    data = values.to_numpy(float)
    n = data.shape[0]
    se = data.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(data.shape[1])
    return data.mean(axis=0), se


def ranks_over_grid(curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """optimizers x grid: rank (1 = lowest regret, ties averaged) per seed, averaged over common seeds."""
    names = sorted(curves)
    seeds = sorted(set.intersection(*(set(curves[n].index) for n in names)))
    stack = np.stack([curves[n].loc[seeds].to_numpy(float) for n in names])
    return pd.DataFrame(stats.rankdata(stack, axis=0).mean(axis=1), index=names)


@dataclass(frozen=True)
class RankTest:
    """Friedman's test over seeds (blocks) x optimizers with the Nemenyi critical difference.

    ``reason`` says why the test could not be computed; it is empty when it was.
    """

    mean_ranks: pd.Series
    n_blocks: int
    statistic: float | None = None
    p_value: float | None = None
    cd: float | None = None
    alpha: float = 0.05
    reason: str = ""

    @property
    def cliques(self) -> list[tuple[str, ...]]:
        """Maximal runs of optimizers (in rank order) whose mean ranks differ by less than the CD."""
        if self.cd is None:
            return []
        names, ranks = list(self.mean_ranks.index), self.mean_ranks.to_numpy()
        groups: list[tuple[str, ...]] = []
        last_end = 0
        for i in range(len(names)):
            end = int(np.searchsorted(ranks, ranks[i] + self.cd, side="left")) - 1
            if end > i and end > last_end:
                groups.append(tuple(names[i : end + 1]))
                last_end = end
        return groups


def nemenyi_cd(k: int, n: int, alpha: float = 0.05) -> float:
    """Demšar (2006): q_alpha * sqrt(k(k+1)/(6N)), q_alpha the studentized range quantile / sqrt(2)."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6 * n)))


def friedman_nemenyi(regret: pd.DataFrame, alpha: float = 0.05) -> RankTest:
    """The test on a seeds x optimizers matrix of final regret (lower is better)."""
    n, k = regret.shape
    ranks = stats.rankdata(regret.to_numpy(float), axis=1).mean(axis=0) if n else np.nan
    mean_ranks = pd.Series(ranks, index=regret.columns, dtype=float).sort_values(kind="stable")
    if k < 3:
        reason = f"Friedman's test needs at least 3 optimizers; there are {k}"
        return RankTest(mean_ranks, n, alpha=alpha, reason=reason)
    if n < 2:
        reason = f"Friedman's test needs at least 2 seeds that every optimizer ran; there are {n}"
        return RankTest(mean_ranks, n, alpha=alpha, reason=reason)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.friedmanchisquare(*(regret[c].to_numpy(float) for c in regret.columns))
    if not np.isfinite(result.pvalue):
        return RankTest(mean_ranks, n, alpha=alpha, reason="every optimizer ties on every seed")
    return RankTest(mean_ranks, n, float(result.statistic), float(result.pvalue), nemenyi_cd(k, n, alpha), alpha)


@dataclass(frozen=True)
class Margin:
    """Paired difference of one final value against a reference optimizer over common seeds."""

    mean: float | None
    n: int
    p_value: float | None = None
    reason: str = ""


def paired_margin(values: pd.DataFrame, optimizer: str, reference: str) -> Margin:
    """Mean of (optimizer - reference) per seed, with the Wilcoxon signed-rank p-value.

    ``values`` is seeds x optimizers, NaN where a seed was not run.
    """
    pairs = values[[optimizer, reference]].dropna()
    diff = (pairs[optimizer] - pairs[reference]).to_numpy(float)
    n = len(diff)
    if n == 0:
        return Margin(None, 0, reason=f"no seed in common with {reference}")
    if n < 2:
        return Margin(float(diff.mean()), n, reason="one common seed: no test")
    if not np.any(diff):
        return Margin(0.0, n, reason="identical on every seed")
    return Margin(float(diff.mean()), n, float(stats.wilcoxon(diff).pvalue))


def edge_importance(study: object, n_trees: int = 16, max_depth: int = 8, seed: int = 0) -> pd.Series:
    """fANOVA importance of the 6 edges for validation accuracy, from the pooled trials' study.

    ``study`` is the report's one pooled study (``optuna_plots.pooled_study``): completed trials
    at the highest recorded fidelity only, so pruned low-fidelity values do not masquerade as
    final accuracies. The forest is smaller than optuna's default (64 trees, depth 64), which
    takes about a minute for 1,500 trials on this machine; the ranking of the edges is the
    same. Empty when the values have no variance.
    """
    import optuna

    trials = study.get_trials(deepcopy=False)
    if len({trial.value for trial in trials}) < 2:
        return pd.Series(dtype=float, name=f"{len(trials)} trials")  # nothing to explain: no variance
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=n_trees, max_depth=max_depth, seed=seed)
    importances = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return pd.Series(importances, name=f"{len(trials)} trials")

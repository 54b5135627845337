"""The statistics of a multi-task (suite) experiment: regret per task, normalised regret, ranks across tasks.

A suite mixes tasks whose objectives differ in unit and direction (NAS-Bench-Graph's accuracy
fraction is maximised, HPOLib's MSE minimised, TransNAS's room_layout is a negative loss), so
nothing is averaged across tasks before it is made comparable:

* **regret** is in the task's own unit and direction: ``best - value`` where the metric is
  maximised, ``value - best`` where it is minimised; 0 at the task's true optimum (the best seed
  mean over every configuration of the table), positive elsewhere.
* **normalised regret** is ``(value - best) / (best - median)`` with its sign turned so that it
  is positive (the issue's form is negative in both directions): ``(best - value) / (best -
  median)``, the same formula whichever way the metric points. 0 is the optimum, 1 is the
  median configuration of the task (random search's typical first draw), so tasks can be
  averaged and a value above 1 is worse than a typical random configuration.
* **ranks** are taken per task (the block) on the mean final normalised regret over the seeds,
  then averaged over tasks. Ranking per task makes the scale of the regret irrelevant, which is
  why CARP-S and Demšar (2006) rank across data sets rather than average raw scores.

The headline question (does an optimizer's standing change between HPO and NAS tasks?) is
answered by :func:`kind_shift`, a permutation test on the tasks' kind labels.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from adapters.types import BadInputError
from harness.reporting.stats import RankTest

__all__ = [
    "TaskFacts",
    "task_label",
    "regret",
    "normalised_regret",
    "task_ranks",
    "critical_difference",
    "KindShift",
    "kind_shift",
    "MIN_CD_TASKS",
]

#: autorank needs at least five blocks (tasks) to test; fewer and the diagram is not drawn.
MIN_CD_TASKS = 5


def task_label(benchmark: str, dataset: str) -> str:
    """A task's name across benchmarks: ``benchmark/dataset`` (``nasbench-graph/cora``)."""
    return f"{benchmark}/{dataset}"


@dataclass(frozen=True)
class TaskFacts:
    """What a suite report needs to know of one task beside its trial records.

    Attributes:
        task: the task's label, ``benchmark/task`` (e.g. ``nasbench-graph/cora``).
        kind: ``nas`` or ``hpo``: which side of the headline table it counts on.
        metric: the objective's name (e.g. ``valid_perf``); split: the split it is measured on.
        direction: ``max`` or ``min``.
        best: the true optimum of the objective's seed mean over every configuration (regret 0).
        median: the median of the objective's seed mean over every configuration (normalised regret 1).
        configs: how many configurations the task has.
    """

    task: str
    kind: Literal["nas", "hpo"]
    metric: str
    split: str
    direction: Literal["max", "min"]
    best: float
    median: float
    configs: int

    def __post_init__(self) -> None:
        if self.kind not in ("nas", "hpo"):
            raise ValueError(f"task {self.task}: kind must be 'nas' or 'hpo', got {self.kind!r}")
        if self.direction not in ("max", "min"):
            raise ValueError(f"task {self.task}: direction must be 'max' or 'min', got {self.direction!r}")
        if self.best == self.median:
            raise ValueError(f"task {self.task}: best equals median ({self.best}); normalised regret is undefined")
        if (self.best < self.median) != (self.direction == "min"):
            raise ValueError(f"task {self.task}: best {self.best} is not better than median {self.median} "
                             f"for a {self.direction}imised metric")


def regret(values: np.ndarray | pd.Series | float, facts: TaskFacts):
    """Regret in the task's own unit: how far ``values`` fall short of the optimum, whichever the direction."""
    return facts.best - values if facts.direction == "max" else values - facts.best


def normalised_regret(values: np.ndarray | pd.Series | float, facts: TaskFacts):
    """``(best - value) / (best - median)``: 0 at the optimum, 1 at the task's median configuration."""
    return (facts.best - values) / (facts.best - facts.median)


def task_ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """tasks x optimizers of ranks (1 = lowest score, ties averaged) from tasks x optimizers of scores.

    Scores are the mean final normalised regret of each optimizer on each task; a task where an
    optimizer has no runs is left out (every rank statistic needs complete blocks).
    """
    complete = scores.dropna()
    return complete.rank(axis=1, method="average", ascending=True)


def critical_difference(scores: pd.DataFrame, alpha: float = 0.05) -> RankTest:
    """Mean ranks across tasks and, where autorank can test, the Friedman p-value and Nemenyi CD.

    Returns the report's :class:`~harness.reporting.stats.RankTest` (its blocks are tasks here, not
    seeds), so the one CD diagram drawer serves both; autorank gives no chi² statistic, so
    ``statistic`` is None.

    ``scores`` is tasks x optimizers (lower is better). autorank is run in its non-parametric mode
    (Friedman + Nemenyi, Demšar 2006): normalised regrets are bounded below by 0 and skewed, so its
    normality-based choice of a parametric test would rest on a few tasks' Shapiro-Wilk tests.
    """
    complete = scores.dropna()
    n, k = complete.shape
    mean_ranks = task_ranks(complete).mean().sort_values(kind="stable") if n else pd.Series(dtype=float)
    if k < 3:
        return RankTest(mean_ranks, n, alpha=alpha, reason=f"a CD diagram needs at least 3 optimizers; there are {k}")
    if n < MIN_CD_TASKS:
        return RankTest(mean_ranks, n, alpha=alpha,
                                  reason=f"autorank needs at least {MIN_CD_TASKS} tasks that every optimizer ran; there are {n}")
    if np.allclose(complete.to_numpy(float), complete.to_numpy(float)[:, :1]):
        return RankTest(mean_ranks, n, alpha=alpha, reason="every optimizer ties on every task")
    from autorank import autorank

    data = complete.reset_index(drop=True).rename_axis(None, axis=1)
    data.columns = [str(c) for c in data.columns]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # autorank prints its choice
        warnings.simplefilter("ignore")
        result = autorank(data, alpha=alpha, verbose=False, order="ascending", force_mode="nonparametric")
    ranks = result.rankdf["meanrank"].astype(float).sort_values(kind="stable")
    return RankTest(ranks, n, None, float(result.pvalue), float(result.cd), alpha)


@dataclass(frozen=True)
class KindShift:
    """Whether the optimizers' order differs between HPO and NAS tasks.

    Attributes:
        hpo_ranks, nas_ranks: each optimizer's mean rank over the HPO tasks and over the NAS tasks.
        n_hpo, n_nas: how many tasks of each kind (complete blocks only).
        kendall, kendall_p: Kendall's tau-b between the two mean-rank vectors and its p-value (how
            alike the two orders are; with few optimizers it has little power, so it is descriptive).
        statistic: the sum over optimizers of |mean rank on HPO - mean rank on NAS|.
        p_value: the permutation test's p-value for that statistic (see :func:`kind_shift`).
        per_optimizer_p: the same permutation test per optimizer, on |HPO - NAS| of that optimizer
            alone, Holm-adjusted over the optimizers.
        permutations: how many label permutations were drawn (``exact`` tells whether all were).
        reason: why no test was made (then the p-values are None).
    """

    hpo_ranks: pd.Series
    nas_ranks: pd.Series
    n_hpo: int
    n_nas: int
    kendall: float | None = None
    kendall_p: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    per_optimizer_p: pd.Series | None = None
    permutations: int = 0
    exact: bool = False
    reason: str = ""


def _shift(ranks: np.ndarray, is_hpo: np.ndarray) -> np.ndarray:
    """|mean rank over HPO tasks - mean rank over NAS tasks| per optimizer (ranks: tasks x optimizers)."""
    return np.abs(ranks[is_hpo].mean(axis=0) - ranks[~is_hpo].mean(axis=0))


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (controls the family-wise error over the optimizers)."""
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        adjusted[j] = running
    return adjusted


def kind_shift(ranks: pd.DataFrame, kinds: pd.Series, *, permutations: int = 10_000, seed: int = 0) -> KindShift:
    """Test whether the optimizers' ranks depend on the kind of task (HPO or NAS).

    Why a permutation test on tasks: the question is whether the per-task ranks of the optimizers
    change with the task's kind. Under the null hypothesis the kind label is exchangeable among
    the tasks, so the statistic (the sum over optimizers of |mean rank on HPO - mean rank on NAS|)
    is recomputed for every relabelling that keeps the number of HPO tasks; the p-value is the
    share of relabellings at least as extreme (with the observed one counted, so it is never 0).
    Every relabelling is used when there are at most ``permutations`` of them, else a seeded random
    sample. Kendall's tau between the two mean-rank vectors is given beside it, but not used as the
    test: with 4-8 optimizers it has almost no power, and a tau that is not significant does not
    show that the order changed.

    Args:
        ranks: tasks x optimizers of per-task ranks (:func:`task_ranks`).
        kinds: task -> ``hpo`` or ``nas``.
    """
    unknown = sorted(set(ranks.index) - set(kinds.index))
    if unknown:
        raise BadInputError(f"no kind (hpo or nas) for tasks {unknown}")
    is_hpo = (kinds.reindex(ranks.index) == "hpo").to_numpy()
    matrix = ranks.to_numpy(float)
    n_hpo, n_nas = int(is_hpo.sum()), int((~is_hpo).sum())
    hpo = pd.Series(matrix[is_hpo].mean(axis=0) if n_hpo else np.nan, index=ranks.columns)
    nas = pd.Series(matrix[~is_hpo].mean(axis=0) if n_nas else np.nan, index=ranks.columns)
    if n_hpo < 2 or n_nas < 2:
        return KindShift(hpo, nas, n_hpo, n_nas, reason=f"the test needs at least 2 HPO and 2 NAS tasks that every "
                                                        f"optimizer ran; there are {n_hpo} and {n_nas}")
    if ranks.shape[1] < 2:
        return KindShift(hpo, nas, n_hpo, n_nas, reason="the test needs at least 2 optimizers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tau = stats.kendalltau(hpo.to_numpy(), nas.to_numpy())
    observed = _shift(matrix, is_hpo)
    n = len(is_hpo)
    total = math.comb(n, n_hpo)
    if total <= permutations:
        labels = np.zeros((total, n), dtype=bool)
        for row, chosen in enumerate(itertools.combinations(range(n), n_hpo)):
            labels[row, list(chosen)] = True
        exact = True
    else:
        rng = np.random.default_rng(seed)
        labels = np.zeros((permutations, n), dtype=bool)
        for row in range(permutations):
            labels[row, rng.choice(n, n_hpo, replace=False)] = True
        exact = False
    null = np.stack([_shift(matrix, label) for label in labels])  # permutations x optimizers
    tol = 1e-12  # ties with the observed value count as "at least as extreme"
    if exact:  # the observed labelling is one of the enumerated ones
        p = float((null.sum(axis=1) >= observed.sum() - tol).mean())
        per = (null >= observed - tol).mean(axis=0)
    else:
        p = float(((null.sum(axis=1) >= observed.sum() - tol).sum() + 1) / (len(labels) + 1))
        per = ((null >= observed - tol).sum(axis=0) + 1) / (len(labels) + 1)
    return KindShift(
        hpo, nas, n_hpo, n_nas,
        kendall=None if not np.isfinite(tau.statistic) else float(tau.statistic),
        kendall_p=None if not np.isfinite(tau.pvalue) else float(tau.pvalue),
        statistic=float(observed.sum()), p_value=p,
        per_optimizer_p=pd.Series(_holm(per), index=ranks.columns), permutations=len(labels), exact=exact,
    )

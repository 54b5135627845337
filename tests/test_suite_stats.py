"""The suite report's statistics on synthetic finals with known answers (planted orders, known formulas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.reporting.stats import nemenyi_cd
from harness.reporting.suite_stats import (
    TaskFacts,
    critical_difference,
    kind_shift,
    normalised_regret,
    regret,
    task_ranks,
)


def _facts(direction: str, best: float, median: float, kind: str = "nas") -> TaskFacts:
    return TaskFacts("b/t", kind, "m", "validation", direction, best, median, 10)


def test_regret_and_normalised_regret_follow_the_direction():
    """Regret is positive away from the optimum either way; normalised regret is 0 at the optimum, 1 at the median."""
    up = _facts("max", best=0.9, median=0.7)
    down = _facts("min", best=0.01, median=0.05)
    assert regret(0.85, up) == pytest.approx(0.05)
    assert regret(0.03, down) == pytest.approx(0.02)
    assert normalised_regret(np.array([0.9, 0.7, 0.8]), up) == pytest.approx([0.0, 1.0, 0.5])
    assert normalised_regret(np.array([0.01, 0.05, 0.09]), down) == pytest.approx([0.0, 1.0, 2.0])
    # the form, (value - best) / (best - median), is the negative of it in both directions
    for facts, value in ((up, 0.75), (down, 0.02)):
        assert normalised_regret(value, facts) == pytest.approx(-(value - facts.best) / (facts.best - facts.median))


def test_task_facts_refuse_an_optimum_worse_than_the_median():
    """A maximised task whose 'best' is below its median is a caller's error, not a negative regret."""
    with pytest.raises(ValueError, match="not better than median"):
        _facts("max", best=0.5, median=0.7)
    with pytest.raises(ValueError, match="undefined"):
        _facts("min", best=0.5, median=0.5)


def test_task_ranks_are_per_task_with_ties_averaged_and_incomplete_tasks_dropped():
    """Ranks are taken within each task (lower score first); a task an optimizer did not run is left out."""
    scores = pd.DataFrame({"a": [0.1, 0.5, 0.3, 0.2], "b": [0.2, 0.5, 0.1, np.nan], "c": [0.3, 0.1, 0.2, 0.1]},
                          index=["t1", "t2", "t3", "t4"])
    ranks = task_ranks(scores)
    assert list(ranks.index) == ["t1", "t2", "t3"]
    assert ranks.loc["t1"].tolist() == [1, 2, 3]
    assert ranks.loc["t2"].tolist() == [2.5, 2.5, 1]


def test_critical_difference_matches_demsar_and_the_planted_order():
    """autorank's mean ranks recover a planted order and its CD equals Demšar's formula for k optimizers, N tasks."""
    rng = np.random.default_rng(3)
    n = 12
    scores = pd.DataFrame({"good": rng.uniform(0.0, 0.1, n), "mid": rng.uniform(0.2, 0.3, n),
                           "bad": rng.uniform(0.5, 0.9, n), "worse": rng.uniform(1.0, 2.0, n)},
                          index=[f"t{i}" for i in range(n)])
    test = critical_difference(scores)
    assert list(test.mean_ranks.index) == ["good", "mid", "bad", "worse"]
    assert test.mean_ranks.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert test.cd == pytest.approx(nemenyi_cd(4, n), rel=1e-3)
    assert test.p_value < 1e-5
    # neighbours are 1 rank apart, within the CD of 1.35 at N = 12; two apart they differ
    assert test.cliques == [("good", "mid"), ("mid", "bad"), ("bad", "worse")]


def test_critical_difference_needs_five_tasks_and_three_optimizers():
    """Below autorank's minimum the mean ranks are still given, with the reason and no CD."""
    scores = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.4], "b": [0.2, 0.3, 0.4, 0.5], "c": [0.3, 0.4, 0.5, 0.6]})
    test = critical_difference(scores)
    assert test.cd is None and "at least 5 tasks" in test.reason
    assert test.mean_ranks.tolist() == [1.0, 2.0, 3.0]
    two = critical_difference(pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) + 1}))
    assert two.cd is None and "at least 3 optimizers" in two.reason


def _planted(n_hpo: int, n_nas: int, nas_order: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Ranks where the HPO tasks order a<b<c<d and the NAS tasks follow ``nas_order``, with kind labels."""
    tasks = [f"hpo{i}" for i in range(n_hpo)] + [f"nas{i}" for i in range(n_nas)]
    names = ["a", "b", "c", "d"]
    rows = [[1.0, 2.0, 3.0, 4.0]] * n_hpo + [[float(nas_order.index(n) + 1) for n in names]] * n_nas
    kinds = pd.Series(["hpo"] * n_hpo + ["nas"] * n_nas, index=tasks)
    return pd.DataFrame(rows, index=tasks, columns=names), kinds


def test_kind_shift_finds_a_planted_order_change():
    """When NAS reverses the HPO order, the permutation test rejects and the rank columns show the reversal."""
    ranks, kinds = _planted(6, 6, ["d", "c", "b", "a"])
    shift = kind_shift(ranks, kinds)
    assert shift.hpo_ranks.tolist() == [1, 2, 3, 4] and shift.nas_ranks.tolist() == [4, 3, 2, 1]
    assert shift.exact and shift.permutations == 924  # C(12, 6): every relabelling
    assert shift.p_value == pytest.approx(2 / 924)  # only the observed labelling and its mirror are as extreme
    assert shift.kendall == pytest.approx(-1.0)
    assert (shift.per_optimizer_p < 0.05).all()


def test_kind_shift_does_not_reject_when_the_order_is_the_same():
    """The same order on both kinds gives statistic 0 and p = 1."""
    ranks, kinds = _planted(5, 7, ["a", "b", "c", "d"])
    shift = kind_shift(ranks, kinds)
    assert shift.statistic == 0.0 and shift.p_value == 1.0
    assert shift.kendall == pytest.approx(1.0)


def test_kind_shift_moves_only_the_optimizer_that_moved():
    """One optimizer dropping from first to last on NAS tasks is the one the per-optimizer test flags most."""
    ranks, kinds = _planted(8, 8, ["b", "c", "d", "a"])
    shift = kind_shift(ranks, kinds)
    assert shift.p_value < 0.01
    assert shift.per_optimizer_p.idxmin() == "a"
    assert shift.nas_ranks["a"] - shift.hpo_ranks["a"] == 3.0


def test_kind_shift_samples_when_relabellings_are_too_many_and_refuses_too_few_tasks():
    """Above the permutation limit a seeded sample is drawn (p never 0); one task of a kind is refused."""
    ranks, kinds = _planted(10, 10, ["d", "c", "b", "a"])
    shift = kind_shift(ranks, kinds, permutations=2000, seed=1)
    assert not shift.exact and shift.permutations == 2000
    assert 0 < shift.p_value <= 1 / 2001 + 1e-12
    few = kind_shift(*_planted(1, 5, ["a", "b", "c", "d"]))
    assert few.p_value is None and "at least 2 HPO and 2 NAS tasks" in few.reason

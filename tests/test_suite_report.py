"""The suite report's sections from synthetic trial records with a planted answer."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.reporting.document import Image, Table, to_markdown
from harness.reporting.suite_report import HEADLINE, suite_data, suite_section
from harness.reporting.suite_stats import TaskFacts

#: Final normalised regret each optimizer reaches: "hpo-star" is best on HPO tasks and worst on NAS tasks.
PLANTED = {"hpo": {"hpo-star": 0.1, "steady": 0.3, "nas-star": 0.6},
           "nas": {"hpo-star": 0.6, "steady": 0.3, "nas-star": 0.1}}


def _trials(n_tasks: int = 6, missing: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, TaskFacts]]:
    """Per kind ``n_tasks`` tasks (alternating max and min objectives), 2 seeds, 10 trials per run, each run's
    incumbent falling linearly from the median (normalised 1) to its planted final value."""
    rows, facts = [], {}
    for kind in ("hpo", "nas"):
        for t in range(n_tasks):
            direction = "max" if t % 2 else "min"
            best, median = (10.0, 0.0) if direction == "max" else (0.0, 10.0)
            bench, dataset = f"{kind}bench", f"{kind}{t}"
            facts[f"{bench}/{dataset}"] = TaskFacts(f"{bench}/{dataset}", kind, "m", "validation", direction, best,
                                                   median, 100)
            for optimizer, final in PLANTED[kind].items():
                if optimizer in missing and t == 0:
                    continue
                for seed in (0, 1):
                    for trial in range(10):
                        normalised = 1.0 + (final - 1.0) * trial / 9
                        value = best - normalised * (best - median)
                        rows.append(dict(benchmark=bench, dataset=dataset, optimizer=optimizer, seed=seed,
                                         run_id=f"{optimizer}-{dataset}-{seed}", trial=trial, worker=0,
                                         sim_end_s=0.0, budget_charged=1.0, incumbent_valid_acc=value))
    return pd.DataFrame(rows), facts


def test_finals_and_normalised_regret_recover_the_planted_values():
    """Each run's final normalised regret is the planted one, whichever way the task's objective points."""
    trials, facts = _trials()
    data = suite_data(trials, facts)
    for (task, optimizer, _seed), row in data.finals.iterrows():
        assert row["normalised"] == pytest.approx(PLANTED[facts[task].kind][optimizer])
        assert row["regret"] == pytest.approx(row["normalised"] * 10.0)
    # anytime: at the whole budget the curve reads the final value
    assert data.anytime.loc[("hpobench/hpo0", "steady", 0)].iloc[-1] == pytest.approx(0.3)


def test_the_headline_shows_the_planted_order_change_and_the_test_rejects(tmp_path):
    """HPO ranks hpo-star first and NAS last; the permutation test over C(12, 6) relabellings rejects."""
    trials, facts = _trials()
    blocks = suite_section(trials, facts, tmp_path)
    table = blocks[[i for i, b in enumerate(blocks) if getattr(b, "text", "") == HEADLINE][0] + 2]
    assert isinstance(table, Table)
    rows = {row[0]: row for row in table.rows}
    assert rows["hpo-star"][1:3] == ("1.00", "3.00") and rows["nas-star"][1:3] == ("3.00", "1.00")
    assert rows["steady"][1:4] == ("2.00", "2.00", "+0.00")
    text = to_markdown(blocks)
    assert "every relabelling of 6 HPO among 12 tasks gives p = 0.00216" in text  # 2 / 924: observed and mirror
    assert any(isinstance(b, Image) and b.path == "suite_cd_diagram.png" for b in blocks)
    assert (tmp_path / "suite_cd_diagram.pdf").is_file() and (tmp_path / "suite_anytime_tasks.png").is_file()
    assert (tmp_path / "suite_rank_shift.png").is_file() and (tmp_path / "suite_rank_shift.pdf").is_file()


def test_an_optimizer_missing_a_task_is_reported_but_not_ranked(tmp_path):
    """Ranks compare only optimizers that ran on every task, so a partial one does not shrink the comparison."""
    trials, facts = _trials(missing=("nas-star",))
    data = suite_data(trials, facts)
    assert data.ranked == ["hpo-star", "steady"] and len(data.ranks) == 12
    text = to_markdown(suite_section(trials, facts, tmp_path))
    assert "Not ranked (they did not run on every task" in text and "nas-star (no runs on hpobench/hpo0, nasbench/nas0)" in text
    assert "| hpobench/hpo0 | " in text and "not run" in text


def test_slope_chart_labels_keep_their_order_and_move_only_when_too_close():
    from harness.reporting.suite_figures import spread

    assert spread([1.84, 2.79, 3.42], 0.3) == [1.84, 2.79, 3.42]  # far enough apart: unmoved
    placed = spread([2.5, 2.67, 4.0, 4.58, 4.67, 5.0], 0.3)
    assert placed[2] == 4.0 and all(b - a >= 0.3 - 1e-9 for a, b in zip(placed, placed[1:]))
    assert abs(sum(placed[3:]) / 3 - (4.58 + 4.67 + 5.0) / 3) < 1e-9  # a group stays centred on its values

"""HPO2NAS_SMOKE: documented commands run as written at a fraction of their cost, and only when asked."""

from __future__ import annotations

from pathlib import Path

from harness.running.budget import Budget
from harness.running.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_off_by_default_and_with_zero(monkeypatch):
    monkeypatch.delenv("HPO2NAS_SMOKE", raising=False)
    assert Budget.parse("300000s").amount == 300000
    monkeypatch.setenv("HPO2NAS_SMOKE", "0")
    assert Budget.parse("100evals").amount == 100
    assert len(load_spec(ROOT / "experiments" / "nb201_paper.toml").profile("paper").seeds) == 500


def test_budgets_shrink_to_a_fiftieth_within_floors(monkeypatch):
    monkeypatch.setenv("HPO2NAS_SMOKE", "1")
    assert Budget.parse("2000000s").amount == 40000  # 1/50
    assert Budget.parse("300000s").amount == 10000  # floor: about five full trainings
    assert Budget.parse("4000s").amount == 4000  # never more than asked
    assert Budget.parse("100evals").amount == 5 and Budget.parse("50full").amount == 3
    assert str(Budget.parse("300000s")) == "10000s"  # records state what ran


def test_profiles_keep_two_seeds_and_their_run_counts_stay_valid(monkeypatch):
    spec = ROOT / "experiments" / "nb201_paper.toml"
    monkeypatch.delenv("HPO2NAS_SMOKE", raising=False)
    seeds = load_spec(spec).profile("paper").seeds
    monkeypatch.setenv("HPO2NAS_SMOKE", "1")
    profile = load_spec(spec).profile("paper")
    assert profile.seeds == seeds[:2]
    assert all(len(profile.seeds_for(label)) <= 2 for label in profile.runs)

"""Origin labels of every adapter fall into the report's four classes; SMAC's start-up follows the budget."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.running.budget import Budget
from harness.reporting.origins import origin_class, origin_shares
from harness.running.runner import RunConfig, execute_run

LABELS = {
    "Initial Design: Sobol": "initial design",
    "Initial design": "initial design",
    "Random: no data for the model yet": "random",
    "Random Search": "random",
    "Random Search (max retries, no candidates)": "random",
    "Acquisition Function Maximizer: Local Search": "model/evolution",
    "Acquisition Function Maximizer: Random Search (sorted)": "model/evolution",
    "initial population": "initial design",
    "mutation": "model/evolution",
    "random": "random",
    "mutation/crossover": "model/evolution",
    "promotion": "promotion",
    "random (startup)": "initial design",
    "acquisition": "model/evolution",
    "random (initial population)": "initial design",
    "evolution": "model/evolution",
    "quasi-random": "random",
    "random (fallback)": "random",
    "policy sample": "model/evolution",
    "model-based pick (KDE)": "model/evolution",
    "random (no model yet)": "random",
    "random fraction": "random",
    "zero-cost rank": "model/evolution",
    "zero-cost warm start": "initial design",
    "grid": "other",
}


@pytest.mark.parametrize(("label", "expected"), LABELS.items())
def test_every_adapter_label_has_its_class(label, expected):
    """Each label an adapter writes maps to the class a reader would give it."""
    assert origin_class(label) == expected


def test_shares_add_up_per_optimizer():
    """Shares are per optimizer, in %, and sum to 100."""
    trials = pd.DataFrame({"optimizer": ["a"] * 4 + ["b"] * 2,
                           "origin": ["initial population", "mutation", "mutation", "mutation", "random", "promotion"]})
    shares = origin_shares(trials)
    assert shares.loc["a", "initial design"] == 25 and shares.loc["a", "model/evolution"] == 75
    assert shares.loc["b", "random"] == 50 and shares.loc["b", "promotion"] == 50
    assert (shares.sum(axis=1).round(9) == 100).all()


def test_smac_initial_design_follows_the_time_budget(tmp_path):
    """Under a time budget SMAC's n_trials is the expected trial count, and its design is 25% of it."""
    config = RunConfig(optimizer="smac-hpo", dataset="cifar10-valid", budget=Budget.parse("30000s"), seed=0)
    trials = execute_run(config, tmp_path / "run").rows
    body = json.loads((tmp_path / "run" / "run.json").read_text())
    expected = body["expected_trials"]
    assert expected["n"] == int(30000 // expected["median_cost_s"]) == 16  # median 1817.1 s at 200 epochs
    settings = body["optimizer_settings"]
    assert settings["n_trials"] == expected["n"]
    assert settings["initial_design_size"] == int(0.25 * expected["n"])
    assert sum(origin_class(t["origin"]) == "initial design" for t in trials) == settings["initial_design_size"]

"""experiments/suite.toml's quick profile, reduced (smoke mode, 6 tasks, 3 optimizers), end to end through compare."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.compare import compare
from harness.compare.suite_facts import suite_facts
from harness.reporting.suite_report import HEADLINE, suite_data
from harness.running.spec import parse_spec

SUITE = Path(__file__).resolve().parents[1] / "experiments" / "suite.toml"
#: Three NAS tasks in three spaces and three HPO tasks in both families: enough for autorank (5 tasks) and the test.
TASKS = ["nb201/cifar10-valid", "nasbench-graph/cora", "transnas-micro/room_layout",
         "hpolib/naval_propulsion", "hpobench-mlp/car", "hpobench-mlp/kc1"]
OPTIMIZERS = ("random", "re", "optuna-tpe")


def _reduced_quick(out: Path):
    body = tomllib.loads(SUITE.read_text())
    quick = body["profiles"]["quick"]
    quick["tasks"] = TASKS
    quick.pop("skip")
    quick.pop("dataset_budgets", None)  # for tasks this reduced profile leaves out (proteins)
    body["profiles"] = {"quick": quick}
    body["optimizers"] = {name: body["optimizers"][name] for name in OPTIMIZERS}
    body["output"] = str(out)
    return parse_spec(body, SUITE)


def _table_after(text: str, heading: str) -> pd.DataFrame:
    """The first Markdown table after ``### heading``, as strings."""
    lines = text.split(f"### {heading}\n", 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return pd.DataFrame(rows[2:], columns=rows[0])


def test_reduced_quick_suite_reports_hpo_vs_nas_ranks_and_the_cd_diagram(tmp_path, default_bench, data_root,
                                                                          monkeypatch):
    """The report leads with the suite: the HPO-vs-NAS rank table (ranks consistent with the runs' records, and
    the suite's regret equal to the runner's on every run) and autorank's CD diagram as PNG and PDF."""
    monkeypatch.setenv("HPO2NAS_SMOKE", "1")
    result = compare(_reduced_quick(tmp_path / "suite"), "quick")
    text = result.report.read_text()
    assert text.index("## Suite: across tasks") < text.index("## Results on")
    headline = _table_after(text, HEADLINE)
    assert sorted(headline["optimizer"]) == sorted(OPTIMIZERS)
    hpo = headline["mean rank, HPO tasks (3)"].astype(float)
    nas = headline["mean rank, NAS tasks (3)"].astype(float)
    everywhere = headline["mean rank, all (6)"].astype(float)
    assert hpo.sum() == pytest.approx(6.0, abs=0.02) and nas.sum() == pytest.approx(6.0, abs=0.02)  # 1+2+3, 2 decimals
    assert np.allclose((hpo + nas) / 2, everywhere, atol=0.011)
    assert "Permutation test on the tasks' kind labels" in text and "every relabelling of 3 HPO among 6 tasks" in text
    for suffix in (".png", ".pdf"):
        assert (result.out / f"suite_cd_diagram{suffix}").stat().st_size > 1000
        assert (result.out / f"suite_anytime{suffix}").is_file()
    assert "Critical difference CD = " in text and "![critical-difference diagram of mean rank across tasks]" in text

    # the suite's regret (from each task's optimum in its summary) is the runner's recorded regret, run by run
    facts = suite_facts([tuple(t.split("/")) for t in TASKS], root=data_root)
    data = suite_data(result.trials, facts)
    last = result.trials.sort_values("trial").groupby(["benchmark", "dataset", "optimizer", "seed"]).tail(1)
    recorded = {(f"{r.benchmark}/{r.dataset}", r.optimizer, r.seed): r.regret_valid for r in last.itertuples()}
    assert len(recorded) == len(data.finals) == len(TASKS) * len(OPTIMIZERS) * 2  # smoke: two seeds
    for key, row in data.finals.iterrows():
        assert row["regret"] == pytest.approx(recorded[key], abs=1e-9), key
    assert data.facts["hpolib/naval_propulsion"].direction == "min"
    assert (data.finals["normalised"] >= 0).all()

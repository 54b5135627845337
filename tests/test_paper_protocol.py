"""The papers' protocols: search at 12 epochs, report at 200, the papers' table and finals.csv."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from _paper_store import build_paper_store
from adapters.types import SEED_MEAN, BadInputError
from benchmarks import open_benchmark
from harness.running.budget import Budget
from harness.compare import compare
from harness.running.runner import RunConfig, execute_run
from harness.running.spec import load_spec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("paper-store")
    build_paper_store(root)
    return root


def test_search_at_12_epochs_reports_at_200(paper_root, monkeypatch, tmp_path):
    """Every trial runs the 12-epoch schedule at its time; the run stops at the first that does not fit."""
    monkeypatch.setenv("HPO2NAS_DATA", str(paper_root))
    bench = open_benchmark("paper", root=paper_root)
    config = RunConfig(optimizer="re", dataset="cifar10-valid", budget=Budget.parse("12000s"), seed=4,
                       store="paper", search_fidelity=12)
    trials = execute_run(config, tmp_path / "run").rows
    assert {t["fidelity"] for t in trials} == {12}
    spent = sum(t["cost_s"] for t in trials)
    for t in trials:
        assert t["cost_s"] == pytest.approx(bench.query(t["index"], "cifar10-valid", 12, SEED_MEAN).train_time_s)
    cheapest = bench.lookup(range(15625), "cifar10-valid", "train_time_s", 12).min()
    assert spent <= 12000 and 80 < len(trials) < 140
    assert spent + cheapest > 12000 or len(trials) > 0  # the run ended on a trial that did not fit
    best = max(trials, key=lambda t: t["valid_acc"])  # the best by the search signal (12-epoch x-valid)
    last = trials[-1]
    assert last["incumbent_index"] == best["index"]
    final = bench.query(best["index"], "cifar10-valid", 200, SEED_MEAN)
    assert last["incumbent_valid_acc"] == pytest.approx(final.valid_acc)
    assert last["incumbent_test_acc"] == pytest.approx(final.test_acc)


def test_search_fidelity_must_be_on_the_axis(data_root, tmp_path):
    """A store without the 12-epoch schedule refuses the protocol with a clear message."""
    config = RunConfig(optimizer="re", dataset="cifar10-valid", budget=Budget.parse("12000s"), seed=0,
                       search_fidelity=12)
    if 12 in open_benchmark(root=data_root).fidelity_space("cifar10-valid").values:
        pytest.skip("the default store has the 12-epoch schedule")
    with pytest.raises(BadInputError, match="search_fidelity 12 is not on"):
        execute_run(config, tmp_path / "run", root=data_root)
    assert not (tmp_path / "run").exists()


def _small(spec_path: Path, out: Path, seeds: tuple[int, ...], skip=("smac-hpo", "dehb", "optuna-tpe")):
    spec = load_spec(spec_path)
    spec = dataclasses.replace(spec, store="paper", output=out)
    profiles = {n: dataclasses.replace(p, seeds=seeds, runs={}) for n, p in spec.profiles.items()}
    labels = {o.label for o in spec.optimizers}
    return dataclasses.replace(spec, profiles=profiles), {k: "left out by the test" for k in skip if k in labels}


def test_nb201_paper_spec_writes_the_papers_table(paper_root, monkeypatch, tmp_path):
    """The NB201 spec's report has the papers' layout, and finals.csv recomputes from the store."""
    monkeypatch.setenv("HPO2NAS_DATA", str(paper_root))
    spec, skip = _small(REPO / "experiments" / "nb201_paper.toml", tmp_path / "out", (0, 1, 2))
    result = compare(spec, "quick", skip=skip)
    finals = pd.read_csv(result.out / "finals.csv")
    assert sorted(finals["optimizer"].unique()) == ["bohb", "random", "re", "reinforce"]
    assert len(finals) == 12 and set(finals["searched_on"]) == {"cifar10-valid"}
    bench = open_benchmark("paper", root=paper_root)
    trials = result.trials
    for row in finals.itertuples():
        run = trials[(trials["optimizer"] == row.optimizer) & (trials["seed"] == row.seed)]
        assert row.final_index == run.sort_values("trial")["incumbent_index"].iloc[-1]
        c10 = bench.query(row.final_index, "cifar10-valid", 200, SEED_MEAN)
        c100 = bench.query(row.final_index, "cifar100", 200, SEED_MEAN)
        assert finals.loc[row.Index, "cifar10-valid_x-valid"] == pytest.approx(c10.valid_acc, abs=1e-4)
        assert finals.loc[row.Index, "cifar10-valid_ori-test"] == pytest.approx(c10.test_acc, abs=1e-4)
        assert finals.loc[row.Index, "cifar100_x-test"] == pytest.approx(c100.test_acc, abs=1e-4)
    text = result.report.read_text()
    assert "## The papers' table" in text
    paper = text.split("## The papers' table")[1]
    line = next(l for l in paper.splitlines() if l.startswith("| re |"))
    re_rows = finals[finals["optimizer"] == "re"]
    expected = re_rows["ImageNet16-120_x-test"]
    assert f"{expected.mean():.2f} ± {expected.std():.2f}" in line
    assert "optimal" in text and "94.37" in text  # cifar10 ori-test optimum, index 6111
    assert "sees fidelities up to 12 only" in text
    assert result.paper_table.splitlines()[0].startswith("| method | runs |")  # what `hpo2nas compare` prints
    assert line in result.paper_table.splitlines()


def test_natsbench_spec_searches_each_dataset_with_its_budget(paper_root, monkeypatch, tmp_path):
    """Each dataset is searched on itself under its own budget, and its column reads its own runs."""
    import json

    monkeypatch.setenv("HPO2NAS_DATA", str(paper_root))
    spec, skip = _small(REPO / "experiments" / "natsbench_tss.toml", tmp_path / "out", (0,), ("bohb", "reinforce"))
    result = compare(spec, "quick", skip=skip)
    budgets = {}
    for run_json in (result.out / "runs").glob("*/run.json"):
        config = json.loads(run_json.read_text())["config"]
        budgets[config["dataset"]] = config["budget"]["amount"]
        assert config["search_fidelity"] == 12
    assert budgets == {"cifar10-valid": 20000, "cifar100": 40000, "ImageNet16-120": 120000}
    finals = pd.read_csv(result.out / "finals.csv")
    assert set(finals["searched_on"]) == set(budgets)
    paper = result.report.read_text().split("## The papers' table")[1]
    line = next(l for l in paper.splitlines() if l.startswith("| re |"))
    own = finals[(finals["optimizer"] == "re") & (finals["searched_on"] == "ImageNet16-120")]["ImageNet16-120_x-valid"]
    assert f"| {own.iloc[0]:.2f} |" in line + " "  # one run: the value itself


def test_spec_seed_ranges_runs_and_dataset_budgets(tmp_path):
    """'A..B' seeds, per-optimizer run counts and per-dataset budgets parse, and bad ones are refused."""
    body = textwrap.dedent("""
        name = "s"
        datasets = ["cifar10-valid"]
        search_fidelity = 12
        [profiles.p]
        seeds = "3..7"
        budget = "100s"
        [profiles.p.runs]
        re = 2
        [profiles.p.dataset_budgets]
        cifar10-valid = "50s"
        [optimizers.re]
        [optimizers.random]
    """)
    path = tmp_path / "s.toml"
    path.write_text(body)
    profile = load_spec(path).profile("p")
    assert profile.seeds == (3, 4, 5, 6, 7) and profile.seeds_for("re") == (3, 4) and profile.seeds_for("random") == profile.seeds
    assert profile.budget_for("cifar10-valid") == Budget.parse("50s") and profile.budget_for("cifar100") == Budget.parse("100s")
    for bad, message in ((body.replace('"3..7"', '"7..3"'), "A..B"), (body.replace("re = 2", "re = 9"), "runs.re"),
                         (body.replace("re = 2", "nope = 2"), "unknown optimizer 'nope'"),
                         (body.replace("search_fidelity = 12", "search_fidelity = 0"), "search_fidelity")):
        path.write_text(bad)
        with pytest.raises(BadInputError, match=message):
            load_spec(path)

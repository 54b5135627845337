"""The report's multi-objective section, from real short runs: hypervolume, regret, fronts, CD diagram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import exact_front
from harness.running.budget import Budget
from harness.reporting.document import Image, Table, to_markdown
from harness.reporting.pareto_report import hypervolume_runs, pareto_section
from harness.running.records import load_trials
from harness.running.runner import RunConfig, execute_run

OBJECTIVES = ("valid_acc", "params")


@pytest.fixture(scope="module")
def mo_trials(tmp_path_factory, data_root) -> pd.DataFrame:
    """Three multi-objective optimizers x three seeds, 12 evaluations each."""
    out = tmp_path_factory.mktemp("mo-runs")
    frames = []
    for optimizer in ("random", "optuna-random", "optuna-nsga2"):
        for seed in (0, 1, 2):
            config = RunConfig(optimizer=optimizer, options={"population_size": 4} if "nsga" in optimizer else {},
                               dataset="cifar10-valid", budget=Budget.parse("12evals"), seed=seed, objectives=OBJECTIVES)
            frames.append(load_trials(execute_run(config, out / f"{optimizer}-{seed}", root=data_root).folder))
    return pd.concat(frames, ignore_index=True)


def test_hypervolume_per_trial_matches_optuna(mo_trials, default_bench):
    """Each run's hypervolume after each trial equals Optuna's WFG over the prefix; regret = exact - it, never < 0."""
    from optuna._hypervolume import compute_hypervolume
    from optuna.study._multi_objective import _is_pareto_front

    front = exact_front(default_bench, "cifar10-valid", OBJECTIVES)
    hv = hypervolume_runs(mo_trials, front)
    assert (hv["hv_regret"] >= 0).all() and (hv["hypervolume"] <= front.hypervolume + 1e-12).all()
    for _, run in mo_trials.groupby("run_id"):
        run = run.sort_values("trial")
        costs = front.normaliser.costs(run[["mean_valid_acc", "mean_params"]].to_numpy(float))
        for i in (0, len(run) // 2, len(run) - 1):
            prefix = costs[: i + 1]
            prefix = prefix[np.all(prefix < 1, axis=1)]
            want = compute_hypervolume(prefix[_is_pareto_front(prefix, False)], np.ones(2)) if len(prefix) else 0.0
            assert hv.loc[run.index[i], "hypervolume"] == pytest.approx(want, abs=1e-12)
        assert np.all(np.diff(hv.loc[run.index, "hypervolume"].to_numpy()) >= 0)  # a growing set: never shrinks


def test_exact_front_has_zero_regret(default_bench):
    """Trials that evaluate exactly the exact front's cells reach its hypervolume: regret 0."""
    front = exact_front(default_bench, "cifar10-valid", OBJECTIVES)
    run = pd.DataFrame({"run_id": "r", "trial": range(len(front.indices)), "index": front.indices, "status": "ok",
                        "fidelity": 200, "mean_valid_acc": front.values[:, 0], "mean_params": front.values[:, 1]})
    assert hypervolume_runs(run, front)["hv_regret"].iloc[-1] == pytest.approx(0.0, abs=1e-12)


def test_section_writes_table_figures_and_cd(mo_trials, default_bench, tmp_path):
    """The section states the reference point, tabulates every optimizer and draws its three figures."""
    front = exact_front(default_bench, "cifar10-valid", OBJECTIVES)
    blocks = pareto_section(mo_trials, {"cifar10-valid": front}, {"cifar10-valid": default_bench.splits("cifar10-valid")},
                            tmp_path)
    text = to_markdown(blocks)
    assert "reference point 1 in every objective" in text and f"{len(front.indices)} cells" in text
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert sorted(row[0] for row in table.rows) == ["optuna-nsga2", "optuna-random", "random"]
    images = [b.path for b in blocks if isinstance(b, Image)]
    assert images == ["hv_regret_time_cifar10-valid.png", "pareto_fronts_cifar10-valid.png",
                      "hv_cd_diagram_cifar10-valid.png"]
    for name in images:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"

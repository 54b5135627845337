"""SMAC and DEHB adapters through the runner: trial counts, determinism, fidelities, origins, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from adapters.optimizers._base import Promotions, nearest_fidelity
from benchmarks import CELL_INFO, METRICS, DatasetArrays, write_store
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run
from adapters.types import BadInputError, FidelitySpace

AXIS = (12, 25, 50, 100, 200)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def curves_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store named "curves" whose every cell learns monotonically over a coarse epoch axis."""
    root = tmp_path_factory.mktemp("curves")
    epochs = np.array(AXIS, dtype=float)
    final = np.random.default_rng(0).uniform(10, 95, size=15625)
    objectives = np.zeros((15625, 1, len(AXIS), len(METRICS)), dtype=np.float32)
    objectives[:, 0, :, 0] = objectives[:, 0, :, 1] = final[:, None] * (1 - np.exp(-epochs / 40))
    objectives[:, 0, :, 2] = epochs * 10
    arrays = DatasetArrays(
        dataset="cifar10-valid",
        objectives=objectives,
        cell_info=np.zeros((15625, len(CELL_INFO)), dtype=np.float32),
        seeds=(777,),
        fidelity=FidelitySpace("epoch", AXIS),
        splits={"valid_acc": "synthetic", "test_acc": "synthetic", "train_time_s": "synthetic"},
    )
    write_store("curves", {"name": "synthetic curves"}, [arrays], root=root)
    return root


def _run(out: Path, optimizer: str, budget: str, *, seed: int = 0, root: Path | None = None, store: str | None = None,
         **options):
    store = store or ("curves" if root else "default")
    config = RunConfig(optimizer, "cifar10-valid", Budget.parse(budget), seed, store=store, options=options)
    return execute_run(config, out / f"{optimizer}-{store}-s{seed}", root=root)


def _path(result) -> list[tuple[int, int]]:
    return [(t["index"], t["fidelity_asked"]) for t in result.rows]


def _notes(result) -> list[str]:
    return json.loads((result.folder / "run.json").read_text())["notes"]


@pytest.mark.parametrize(("name", "budget", "options"), [("smac-bb", "5evals", {"n_initial": 4}), ("dehb", "30evals", {})])
def test_default_store_runs_quietly(tmp_path, default_bench, capfd, name, budget, options):
    """Each runs its budget (SMAC's GP at 200 epochs, DEHB on both schedules) and neither prints nor warns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _run(tmp_path, name, budget, **options)
    assert [str(w.message) for w in caught] == [] and capfd.readouterr() == ("", "")
    assert len(result.rows) == int(budget.removesuffix("evals"))
    assert {t["fidelity"] for t in result.rows} == ({200} if name == "smac-bb" else {12, 200})


def test_smac_hpo_is_deterministic_across_processes(tmp_path, default_bench):
    """Same seed, same cells under another string-hash seed (resume replays in a new process); exact n_initial."""
    script = (
        "import sys, json; from pathlib import Path; from harness.running.budget import Budget; "
        "from harness.running.runner import RunConfig, execute_run; "
        "r = execute_run(RunConfig('smac-hpo', 'cifar10-valid', Budget.parse('10evals'), 0, options={'n_initial': 8}), "
        "Path(sys.argv[1])); print(json.dumps([t['index'] for t in r.rows]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "child")], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    here = _run(tmp_path, "smac-hpo", "10evals", n_initial=8)
    assert len(here.rows) == 10 and json.loads(child.stdout) == [t["index"] for t in here.rows]
    origins = [t["origin"] for t in here.rows]
    assert origins[:8] == ["Initial Design: Sobol"] * 8 and "Initial Design: Sobol" not in origins[8:]
    other = _run(tmp_path, "smac-hpo", "3evals", seed=1)
    assert _path(other) != _path(here)[:3]


def test_dehb_without_axis_is_plain_de(tmp_path, flat_store):
    """Without an axis DEHB is DE: a random generation of de_pop_size, then offspring; a note; its history."""
    result = _run(tmp_path, "dehb", "14evals", store=flat_store, de_pop_size=6)
    assert [t["origin"] for t in result.rows] == ["random"] * 6 + ["mutation/crossover"] * 8
    assert _notes(result) == ["no fidelity axis: DEHB runs as plain DE at the single fidelity"]
    assert (result.folder / "optimizer" / "history.parquet.gzip").exists()


def test_smac_hb_needs_a_fidelity_axis(tmp_path, flat_store):
    """smac-hb on a store without a fidelity axis is refused as bad input (exit 2), naming the fidelity axis."""
    with pytest.raises(BadInputError, match="fidelity axis"):
        _run(tmp_path, "smac-hb", "10evals", store=flat_store)


@pytest.mark.parametrize(("name", "budget"), [("smac-hb", "20evals"), ("dehb", "40evals")])
def test_brackets_on_the_axis(tmp_path, curves_root, name, budget):
    """Budgets 22.2/66.7/200 run at the nearest axis fidelity, and promotions re-ask cells from lower rungs."""
    result = _run(tmp_path, name, budget, root=curves_root)
    trials = result.rows
    assert len(trials) == int(budget.removesuffix("evals"))
    assert {t["fidelity_asked"] for t in trials} == {25, 50, 200}
    promoted = [t for t in trials if t["origin"] == "promotion"]
    assert promoted
    for trial in promoted:
        assert any(t["index"] == trial["index"] and t["fidelity"] < trial["fidelity"] for t in trials[: trial["trial"]])
    library = "SMAC" if name == "smac-hb" else "DEHB"
    assert f"{library} budgets run at the nearest fidelity on the axis: 22.2 -> 25, 66.7 -> 50, 200 -> 200" in _notes(result)
    assert _path(_run(tmp_path / "again", name, budget, root=curves_root)) == _path(result)
    assert _path(_run(tmp_path, name, "3evals", seed=1, root=curves_root)) != _path(result)[:3]


def test_dehb_same_seed_same_trajectory(tmp_path, default_bench):
    """Plain DE too: the same seed asks the same cells; another seed does not."""
    first = _path(_run(tmp_path, "dehb", "25evals"))
    assert first == _path(_run(tmp_path / "again", "dehb", "25evals"))
    assert first != _path(_run(tmp_path, "dehb", "25evals", seed=1))


def test_smac_folder_holds_every_trial(tmp_path, default_bench):
    """After the run SMAC's own folder has every trial, its origin, and start/end on the cost clock."""
    result = _run(tmp_path, "smac-hpo", "4evals", n_initial=4)
    smac_dir = result.folder / "optimizer" / "smac-hpo" / "0"
    assert {"scenario.json", "configspace.json", "runhistory.json", "intensifier.json"} <= {p.name for p in smac_dir.iterdir()}
    record = json.loads((smac_dir / "runhistory.json").read_text())
    # Status 1 is SUCCESS; the runner's last ask, which did not fit the budget, stays RUNNING (0).
    told = [entry for entry in record["data"] if entry["status"] == 1]
    assert len(told) == 4 and len(record["data"]) == 5
    assert told[-1]["endtime"] == pytest.approx(sum(t["cost_s"] for t in result.rows))
    assert [record["config_origins"][str(entry["config_id"])] for entry in told] == [t["origin"] for t in result.rows]


def test_rounding_and_promotion_helpers():
    """Budgets round to the nearest axis value (lower on a tie); only a higher budget is a promotion."""
    assert [nearest_fidelity(AXIS, b) for b in (2.47, 18.5, 66.7, 199.0)] == [12, 12, 50, 200]
    promotions = Promotions()
    assert [promotions.is_promotion("a", b) for b in (22.2, 22.2, 66.7)] == [False, False, True]

"""DeepCAVE export, proven with DeepCAVE 1.4.1's own loaders in the isolated .venv-deepcave.

Real runs of RE, random search, TPE (one with a pruned trial), SMAC (with SMAC's own output
folder) and DEHB are exported, then every exported run is loaded by DeepCAVE's converters in
one subprocess (tests/deepcave_probe.py) and compared with the trial records field by field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _deepcave_tools import make_run, require

from adapters import HP_NAMES, Cell
from harness.running.budget import Budget
from harness.dashboards.deepcave import deepcave_python
from harness.exports.deepcave import MANIFEST, export_deepcave
from harness.running.runner import RunConfig, execute_run

PROBE = Path(__file__).with_name("deepcave_probe.py")
#: (label, optimizer, options, store, budget): the optimizers the issue names, and a pruned run.
RUNS = [
    ("re", "re", {}, "default", "20evals"),
    ("random", "random", {}, "default", "12evals"),
    ("tpe", "optuna-tpe", {}, "default", "20evals"),
    ("tpe-pruned", "optuna-tpe", {"pruner": "median"}, "curves", "6evals"),
    ("smac", "smac-hpo", {}, "default", "8evals"),
    ("dehb", "dehb", {}, "curves", "8evals"),
]


def probe(*paths: Path) -> dict:
    """Load run folders with DeepCAVE's converters (one process: importing DeepCAVE is slow)."""
    out = subprocess.run([str(deepcave_python()), str(PROBE), *map(str, paths)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, data_root, curves_root) -> Path:
    """A folder of real run folders, nested one level deeper for the pruned run (any depth)."""
    root = tmp_path_factory.mktemp("experiment")
    for label, optimizer, options, store, budget in RUNS:
        folder = root / ("nested" if label == "tpe-pruned" else "") / label
        config = RunConfig(optimizer=optimizer, options=options, dataset="cifar10-valid", store=store,
                           budget=Budget.parse(budget), seed=3)
        execute_run(config, folder, root=curves_root if store == "curves" else data_root)
    return root


def expected_history(trials: pd.DataFrame) -> list[dict]:
    """What DeepCAVE should hold: one trial per (config, budget, seed), the last repeat's values.

    The budget is the fidelity a completed trial reached, and the one a pruned trial was asked for
    (so that no budget holds only pruned trials, which DeepCAVE's pages cannot draw).
    """
    history: dict[tuple, dict] = {}
    for row in trials.to_dict("records"):
        seed = int(row["data_seed"]) if row["data_seed"].lstrip("-").isdigit() else -1
        budget = float(row["fidelity_asked"] if row["status"] == "pruned" else row["fidelity"])
        history[(row["arch_str"], budget, seed)] = {**row, "deepcave_seed": seed, "deepcave_budget": budget}
    return list(history.values())


def check_dataframe_run(loaded: dict, trials: pd.DataFrame, run_id: str, cost_upper: float) -> None:
    assert loaded["converters"] == ["DataFrameRun"] and loaded["name"] == run_id
    objectives = [(o["name"], o["lower"], o["upper"], o["optimize"]) for o in loaded["objectives"]]
    assert objectives[:2] == [("valid_acc", 0, 100, "upper"), ("cost_s", 0, cost_upper, "lower")]
    assert objectives[2][0] == "Time"
    expected = expected_history(trials)
    assert len(loaded["trials"]) == len(expected)
    assert sorted(loaded["budgets"]) == sorted({t["deepcave_budget"] for t in expected})
    assert sorted(loaded["seeds"]) == sorted({t["deepcave_seed"] for t in expected})
    for got, want in zip(loaded["trials"], expected):
        assert got["config"] == dict(zip(HP_NAMES, Cell.from_arch_str(want["arch_str"]).op_names))
        assert got["budget"] == want["deepcave_budget"] and got["seed"] == want["deepcave_seed"]
        # DeepCAVE rounds times to 2 decimals, relative to the first trial's start (0 here).
        assert got["start_time"] == pytest.approx(round(want["sim_start_s"], 2), abs=0.011)
        assert got["end_time"] == pytest.approx(round(want["sim_end_s"], 2), abs=0.011)
        extra = got["additional"]
        assert extra["origin"] == want["origin"] and extra["arch_str"] == want["arch_str"]
        assert extra["cell_index"] == want["index"] and extra["canonical_id"] == want["canonical_id"]
        assert str(extra["data_seed"]) == want["data_seed"] and extra["run_seed"] == want["seed"]
        assert extra["observed_valid_acc"] == pytest.approx(want["valid_acc"])
        assert extra["observed_cost_s"] == pytest.approx(want["cost_s"])
        assert "incumbent_test_acc" in extra and extra["fidelity"] == want["fidelity"]  # the epoch reached
        if want["status"] == "ok":
            assert got["status"] == "SUCCESS"
            assert got["costs"][:2] == pytest.approx([want["valid_acc"], want["cost_s"]])
        else:  # DeepCAVE empties the objectives of non-success trials; the extra columns keep them
            assert got["status"] == "PRUNED" and got["costs"] == [None, None, None]


def test_deepcave_loaders_read_every_export(experiment, tmp_path):
    """Every run exports, and DeepCAVE 1.4.1's own loaders read back exactly what was recorded."""
    require(deepcave=True)
    out = tmp_path / "deepcave"
    written = export_deepcave(experiment, out)
    manifest = json.loads((out / MANIFEST).read_text())
    cost_upper = float(manifest["objectives"][1].split("; ")[1].split("]")[0])
    loaded = probe(*written)
    sources = {entry["name"]: entry for entry in manifest["runs"]}
    assert manifest["skipped"] == [], "SMAC's folder holds no trials: does the runner call optimizer.close()?"
    formats = [sources[p.relative_to(out).as_posix()]["format"] for p in written]
    assert formats.count("SMAC3v2") == 1 and formats.count("DataFrame") == len(RUNS) == len(written) - 1
    # SMAC's copies (objective "cost") sit one folder down, apart from the runs a selection of the top level merges.
    assert {p.parent == out for p in written if sources[p.relative_to(out).as_posix()]["format"] == "SMAC3v2"} == {False}
    statuses = set()
    for path in written:
        entry, got = sources[path.relative_to(out).as_posix()], loaded[str(path)]
        assert "error" not in got, got
        if entry["format"] == "SMAC3v2":
            history = json.loads((Path(entry["source"]) / "runhistory.json").read_text())["data"]
            told = [t for t in history if t["status"] != 0]  # 0: asked, never told (the budget ran out)
            assert got["converters"] == ["SMAC3v2Run"] and len(got["trials"]) == len(told) > 0
            assert all(t["origin"] for t in got["trials"]), "SMAC3v2 keeps SMAC's config origins"
            assert all(t["status"] == "SUCCESS" and t["end_time"] > t["start_time"] for t in got["trials"])
            # DeepCAVE 1.4.1's SMAC3v2 converter restarts its clock at every trial (it never keeps
            # its first start time), so every trial starts at 0: why DataFrame is the main format.
            assert all(t["start_time"] == 0 for t in got["trials"])
            continue
        trials = pd.read_parquet(Path(entry["source"]) / "trials.parquet")
        check_dataframe_run(got, trials, path.name, cost_upper)
        assert entry["trials"] == len(trials) and entry["deepcave_trials"] == len(got["trials"])
        statuses |= set(trials["status"])
    assert statuses == {"ok", "pruned"}, "the pruned run must really hold a pruned trial"


def hpo2nas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(out: subprocess.CompletedProcess, needle: str) -> None:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpo2nas: error:") and needle in lines[0], out.stderr


def test_cli_export_then_refuses_existing_out_without_force(tmp_path, data_root):
    run = make_run(tmp_path, data_root)
    out = tmp_path / "export"
    first = hpo2nas("export", "deepcave", run, "--out", out)
    assert first.returncode == 0, first.stderr
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert_one_line_error(hpo2nas("export", "deepcave", run, "--out", out), "already exists")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert hpo2nas("export", "deepcave", run, "--out", out, "--force").returncode == 0
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _break_no_run_json(run: Path) -> None:
    (run / "run.json").unlink()


def _break_running(run: Path) -> None:
    record = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**record, "status": "running"}))


def _break_no_parquet(run: Path) -> None:
    (run / "trials.parquet").unlink()


def _break_corrupt_parquet(run: Path) -> None:
    (run / "trials.parquet").write_bytes(b"PAR1 not really")


def _break_missing_column(run: Path) -> None:
    pd.read_parquet(run / "trials.parquet").drop(columns=["sim_end_s"]).to_parquet(run / "trials.parquet")


def _break_corrupt_run_json(run: Path) -> None:
    (run / "run.json").write_text("{not json")


@pytest.mark.parametrize("damage, needle", [
    (_break_no_run_json, "run.json is missing"),
    (_break_running, "partial run"),
    (_break_no_parquet, "partial run"),
    (_break_corrupt_parquet, "corrupt trials file"),
    (_break_missing_column, "column sim_end_s is missing"),
    (_break_corrupt_run_json, "run.json: not JSON"),
])
def test_bad_run_folder_exits_2_and_writes_nothing(tmp_path, data_root, damage, needle):
    """One bad run folder in an experiment fails the whole export, and nothing is written."""
    experiment = tmp_path / "experiment"
    make_run(experiment, data_root, "good")
    damage(make_run(experiment, data_root, "bad"))
    out = tmp_path / "export"
    assert_one_line_error(hpo2nas("export", "deepcave", experiment, "--out", out), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment"]


def test_no_runs_or_missing_folder_exit_2(tmp_path):
    assert_one_line_error(hpo2nas("export", "deepcave", tmp_path, "--out", tmp_path / "x"), "no run folders")
    assert_one_line_error(hpo2nas("export", "deepcave", tmp_path / "nope", "--out", tmp_path / "x"), "not a folder")
    assert sorted(tmp_path.iterdir()) == []


def test_force_never_replaces_a_foreign_folder_or_the_runs(tmp_path, data_root):
    run = make_run(tmp_path, data_root)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    assert_one_line_error(hpo2nas("export", "deepcave", run, "--out", precious, "--force"), "not a DeepCAVE export")
    assert (precious / "notes.txt").read_text() == "mine"
    assert_one_line_error(hpo2nas("export", "deepcave", run, "--out", tmp_path, "--force"), "not a DeepCAVE export")
    assert (run / "trials.parquet").exists()


def test_multi_objective_run_carries_every_objective(tmp_path, data_root):
    """A valid_acc+params+latency run: DeepCAVE's loader sees each objective (what its Pareto plugin plots)."""
    require(deepcave=True)
    config = RunConfig(optimizer="optuna-nsga2", options={"population_size": 4}, dataset="cifar10-valid",
                       budget=Budget.parse("8evals"), seed=0, objectives=("valid_acc", "params", "latency"))
    execute_run(config, tmp_path / "runs" / "mo", root=data_root)
    trials = pd.read_parquet(tmp_path / "runs" / "mo" / "trials.parquet")
    (written,) = export_deepcave(tmp_path / "runs", tmp_path / "deepcave")
    got = probe(written)[str(written)]
    names = [(o["name"], o["optimize"]) for o in got["objectives"]]
    assert names == [("valid_acc", "upper"), ("cost_s", "lower"), ("params", "lower"), ("latency", "lower"),
                     ("Time", "lower")]
    expected = expected_history(trials)
    assert len(got["trials"]) == len(expected)
    for loaded, want in zip(got["trials"], expected):
        assert loaded["costs"][:4] == pytest.approx([want["valid_acc"], want["cost_s"], want["params"], want["latency"]])
        assert loaded["additional"]["mean_params"] == pytest.approx(want["mean_params"])

"""Run folders as users hold them: one run, a runs/ folder, or an experiment folder, named by their labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.running.budget import Budget
from harness.exports.deepcave import MANIFEST
from harness.exports.optuna import export_optuna
from harness.running.records import find_runs, read_run, run_id_for
from harness.running.results import RunResult
from harness.running.runner import RunConfig, execute_run

HPO2NAS = Path(sys.executable).with_name("hpo2nas")  # the installed console script, as a user runs it
LABELS = ("tpe-plain", "tpe-median")


def cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(HPO2NAS), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=env)


def _config(label: str, **options: object) -> RunConfig:
    return RunConfig(optimizer="optuna-tpe", label=label, options=dict(options), dataset="cifar10-valid",
                     budget=Budget.parse("6evals"), seed=0)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, data_root) -> Path:
    """An experiment folder as compare writes it: runs/<run_id>/, the pooled trials.parquet, a report."""
    root = tmp_path_factory.mktemp("experiment")
    frames = []
    for label, options in zip(LABELS, ({}, {"pruner": "median"})):
        config = _config(label, **options)
        result = execute_run(config, root / "runs" / run_id_for(config.to_dict()), root=data_root)
        frames.append(pd.read_parquet(result.folder / "trials.parquet"))
    pd.concat(frames).to_parquet(root / "trials.parquet")
    (root / "report.md").write_text("# report\n")
    return root


def test_every_folder_a_user_holds_finds_the_same_runs(experiment):
    """An experiment folder (with its pooled trials.parquet), its runs/ folder and each run folder all work."""
    runs = find_runs(experiment)
    assert runs == find_runs(experiment / "runs") and len(runs) == 2
    assert all(find_runs(run) == [run] for run in runs)
    assert experiment not in runs  # the pooled table at the root is not a run


def test_the_label_names_the_run_everywhere(experiment, tmp_path):
    """Run ids, DeepCAVE run names and Optuna study names all start with the spec's label."""
    ids = sorted(read_run(run).run_id for run in find_runs(experiment))
    assert [i.split("-cifar10-valid-")[0] for i in ids] == sorted(LABELS)
    assert sorted(export_optuna(experiment, str(tmp_path / "studies.journal"))) == ids
    out = cli("export", "deepcave", experiment)  # no --out: <experiment>/deepcave
    assert out.returncode == 0, out.stderr
    manifest = json.loads((experiment / "deepcave" / MANIFEST).read_text())
    assert sorted(entry["name"] for entry in manifest["runs"]) == ids


def test_export_deepcave_of_one_run_goes_beside_it(experiment):
    """A single run folder exports to a sibling <run>-deepcave, never into the run's own records."""
    run = find_runs(experiment)[0]
    before = sorted(p.name for p in run.iterdir())
    out = cli("export", "deepcave", run)
    assert out.returncode == 0, out.stderr
    assert (run.parent / f"{run.name}-deepcave" / MANIFEST).is_file()
    assert sorted(p.name for p in run.iterdir()) == before


def test_resume_of_a_finished_run_says_so_and_changes_nothing(tmp_path, data_root):
    run = tmp_path / "run"
    execute_run(_config("tpe"), run, root=data_root)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    out = cli("run", "--resume", "--out", run)
    assert out.returncode == 0, out.stderr
    assert "already complete" in out.stdout and "6 trials" in out.stdout
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"}


HILL_CLIMB = '''
from adapters import NUM_CELLS, Cell
from adapters.protocols import Suggestion


class HillClimb:
    """A user's own optimizer in their own folder: walk the cell indices upwards."""

    name = "hill-climb"
    multi_fidelity = False
    defaults = {}

    def setup(self, problem):
        self.next = 7

    def ask(self):
        self.next += 1
        return Suggestion(cell=Cell.from_index(self.next % NUM_CELLS), origin="hill")

    def tell(self, suggestion, observation):
        pass
'''


def test_a_users_module_resolves_from_the_working_directory(tmp_path):
    """`hpo2nas run --optimizer myopt:HillClimb` in the user's folder, without PYTHONPATH."""
    (tmp_path / "myopt.py").write_text(HILL_CLIMB)
    out = cli("run", "--optimizer", "myopt:HillClimb", "--budget", "4evals", "--out", "run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    trials = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    assert trials["index"].tolist() == [8, 9, 10, 11] and set(trials["origin"]) == {"hill"}


def test_run_result_is_short_and_carries_incumbent_and_trials(tmp_path, data_root):
    result = execute_run(_config("tpe"), tmp_path / "run", root=data_root)
    text = repr(result)
    assert "\n" not in text and len(text) < 160 + len(str(result.folder)) and "tpe on cifar10-valid seed 0: 6 trials" in text
    last = result.rows[-1]
    assert result.incumbent.index == last["incumbent_index"]
    assert result.incumbent.valid_acc == pytest.approx(last["incumbent_valid_acc"])
    assert result.incumbent.regret == pytest.approx(last["regret_valid"])
    frame = result.trials
    assert isinstance(frame, pd.DataFrame) and len(frame) == 6 and set(frame["optimizer"]) == {"tpe"}
    assert frame["valid_acc"].tolist() == [row["valid_acc"] for row in result.rows]
    again = RunResult.from_folder(tmp_path / "run")
    assert again.incumbent == result.incumbent and len(again.rows) == 6 and repr(again) == text


def test_query_answers_the_same_twice_and_defaults_like_run(data_root):
    """The default is the seed mean: deterministic, --dataset as in run, no 'n/a' sizes."""
    first, second = cli("query", "6111"), cli("query", "6111")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "dataset cifar10-valid" in first.stdout and "seed mean" in first.stdout
    assert "n/a" not in first.stdout and "params" in first.stdout
    assert cli("query", "6111", "--seed-mean").stdout == first.stdout
    drawn = [cli("query", "6111", "--draw-seed", "3", "--json").stdout for _ in range(2)]
    assert drawn[0] == drawn[1] and json.loads(drawn[0])["seed"] != "mean"

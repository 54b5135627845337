"""Every Optuna-sampler run is an Optuna study in a real Optuna storage, written while it runs.

The studies are opened the way a user opens them (``optuna.load_study``) and compared with
the run's own records; a run killed with SIGKILL resumes from its study to exactly the
trials, in trials.parquet and in the study, of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from _optuna_tools import assert_study_is_records
from optuna.trial import TrialState

from adapters.optimizers.optuna_study import JOURNAL_NAME, open_storage, same_trial
from harness.running.budget import Budget
from harness.running.records import load_trials
from harness.running.run_folder import RunFolder
from harness.running.runner import RunConfig, execute_run
from adapters.types import BadInputError


def load(storage: str, folder: Path) -> optuna.Study:
    """The run's study, found by the name its run.json gives."""
    body = json.loads((folder / "run.json").read_text())
    return optuna.load_study(study_name=body["optimizer_settings"]["study_name"], storage=open_storage(storage))


def test_live_study_has_every_trial_with_attributes_and_pruned_curves(curves_root, tmp_path, monkeypatch):
    """A pruned TPE run's journal holds each trial as recorded; pruned trials keep their curves."""
    monkeypatch.setenv("HPO2NAS_DATA", str(curves_root))
    config = RunConfig(optimizer="optuna-tpe", options={"pruner": "median"}, dataset="cifar10-valid",
                       budget=Budget.parse("8full"), seed=1, store="curves")
    folder = execute_run(config, tmp_path / "run").folder
    records = load_trials(folder)
    study = load(str(folder / JOURNAL_NAME), folder)
    assert_study_is_records(study, records)
    body = json.loads((folder / "run.json").read_text())
    assert study.study_name == body["run_id"] and study.user_attrs["run_id"] == body["run_id"]
    assert body["optimizer_settings"]["storage"] == str(folder / JOURNAL_NAME)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, "the median pruner stopped no trial: the test shows nothing"
    for trial in pruned:  # every epoch reported up to the one it stopped at
        assert sorted(trial.intermediate_values) == list(range(1, trial.user_attrs["fidelity"] + 1))
        assert trial.value == trial.intermediate_values[trial.user_attrs["fidelity"]]


def test_sqlite_storage_and_a_second_fresh_run_is_refused(data_root, tmp_path):
    """--storage takes an RDB URL; a fresh run never adds to a study that already has trials."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    config = RunConfig(optimizer="optuna-random", dataset="cifar10-valid", budget=Budget.parse("12evals"), seed=0,
                       storage=url)
    folder = execute_run(config, tmp_path / "a").folder
    assert not (folder / JOURNAL_NAME).exists()
    assert_study_is_records(load(url, folder), load_trials(folder))
    with pytest.raises(BadInputError, match="already holds study"):
        execute_run(config, tmp_path / "b")
    assert not (tmp_path / "b").exists()  # refused before its first trial: nothing half-made


def test_non_optuna_runs_write_no_study(data_root, tmp_path):
    config = RunConfig(optimizer="re", dataset="cifar10-valid", budget=Budget.parse("5evals"), seed=0)
    assert not (execute_run(config, tmp_path / "re").folder / JOURNAL_NAME).exists()


def _cli(*args: str, root: Path) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "harness", *args], {**os.environ, "HPO2NAS_DATA": str(root)}


def _stored_trials(journal: Path) -> int:
    """Trials in a journal so far (one CREATE_TRIAL line each; operation 4 in Optuna 5's journal)."""
    try:
        return sum(1 for line in journal.read_bytes().splitlines() if line.startswith(b'{"op_code":4'))
    except FileNotFoundError:
        return 0


def test_resume_after_sigkill_from_the_study(curves_root, tmp_path):
    """Killed with SIGKILL past a checkpoint, a pruned TPE run resumes from its journal (load_study plus the
    pickled sampler) and ends with exactly the records and the study of an uninterrupted run."""
    args = ["run", "--optimizer", "optuna-tpe", "--set", "pruner=median", "--store", "curves", "--budget", "60evals",
            "--seed", "4", "--checkpoint-every", "7"]
    killed = tmp_path / "killed"
    cmd, env = _cli(*args, "--out", str(killed), root=curves_root)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def checkpointed() -> int:
        return len(RunFolder(killed, {"optimizer": "", "dataset": "", "seed": 0}).recorded_trials())

    # Kill where the study is ahead of the runner's last checkpoint (a trial count that is not a
    # multiple of 7): the process is stopped while both are read, so the check is not a race.
    deadline = time.time() + 120
    while time.time() < deadline:
        if _stored_trials(killed / JOURNAL_NAME) >= 20:
            proc.send_signal(signal.SIGSTOP)
            if 0 < checkpointed() < _stored_trials(killed / JOURNAL_NAME):
                break
            proc.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (killed / "journal.bin").exists() and not (killed / "trials.parquet").exists(), "killed too late"
    # The resume restores the sampler at the checkpoint and re-asks the trials beyond it, which
    # must match the stored ones.
    assert 0 < checkpointed() < _stored_trials(killed / JOURNAL_NAME)
    cmd, env = _cli("run", "--resume", "--out", str(killed), root=curves_root)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    cmd, env = _cli(*args, "--out", str(tmp_path / "clean"), root=curves_root)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0

    resumed, clean = load_trials(killed), load_trials(tmp_path / "clean")
    varying = ["wall_s", "overhead_s"]
    pd.testing.assert_frame_equal(resumed.drop(columns=varying), clean.drop(columns=varying))
    assert (resumed["status"] == "pruned").any()
    resumed_study = load(str(killed / JOURNAL_NAME), killed).trials
    clean_study = load(str(tmp_path / "clean" / JOURNAL_NAME), tmp_path / "clean").trials
    assert len(resumed_study) == len(clean_study) == len(clean)
    assert all(same_trial(a, b) for a, b in zip(resumed_study, clean_study, strict=True))

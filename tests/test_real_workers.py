"""Real workers on one Optuna study in a real, throwaway PostgreSQL cluster (Debian's postgresql).

The cluster (tests/_postgres.py) runs as an unprivileged user (initdb refuses root), listens
only on a unix socket in a temporary folder, and is stopped and removed afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from _postgres import postgres_bin, throwaway_postgres
from adapters.optimizers.optuna_study import open_storage, rdb_url
from harness.running.budget import Budget
from harness.running.real_workers import StudySettings, create_study, study_summary
from harness.running.run_config import RunConfig


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL cluster on a unix socket for this module; removed afterwards."""
    pytest.importorskip("psycopg2")
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (Debian package postgresql) are not installed; make test installs them")
    with throwaway_postgres(bindir) as url:
        yield url


def _worker(url: str, study: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", "worker", "--storage", url, "--study", study], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_four_workers_one_killed(postgres_url, data_root, default_bench):
    """4 workers share one study; one is killed with SIGKILL mid-trial. Its trial is failed by the
    heartbeat and retried, the study completes, every trial is unique and the budget holds."""
    import optuna
    from optuna.trial import TrialState

    budget = 40
    settings = StudySettings(run=RunConfig(optimizer="optuna-tpe", dataset="cifar10-valid",
                                           budget=Budget.parse(f"{budget}evals"), seed=1),
                             heartbeat_s=1, grace_s=2, time_scale=1e-3)  # a trial takes ~2 s of real time
    create_study(postgres_url, "killed", settings)
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    procs = [_worker(postgres_url, "killed", env) for _ in range(4)]
    study = optuna.load_study(study_name="killed", storage=open_storage(postgres_url))
    victim = procs[0]
    deadline = time.time() + 240  # workers take seconds to import on a busy machine
    while time.time() < deadline:  # kill it while it runs a trial, after some trials completed
        trials = study.get_trials(deepcopy=False)
        mine = [t for t in trials if t.state == TrialState.RUNNING and t.user_attrs.get("worker_pid") == victim.pid]
        if mine and sum(t.state == TrialState.COMPLETE for t in trials) >= 4:
            victim.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    else:
        for proc in procs:
            proc.kill()
        pytest.fail(f"the victim never ran a trial: {procs[0].communicate()[1].decode()[-3000:]}")
    victim.wait()
    # The trial it died in: still RUNNING (or already failed by the heartbeat). Read after its death, not
    # before the kill: on a loaded machine the RUNNING trial seen a moment earlier may have completed since.
    dead = [t.number for t in study.get_trials(deepcopy=False)
            if t.user_attrs.get("worker_pid") == victim.pid and t.state != TrialState.COMPLETE]
    assert len(dead) == 1, dead
    killed_trial = dead[0]
    for proc in procs[1:]:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    trials = study.get_trials(deepcopy=False)
    states = {t.number: t.state for t in trials}
    assert states[killed_trial] == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed_trial]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == budget  # the budget holds exactly: 40 trials ran, the killed one once (as its retry)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert len({t.number for t in complete}) == budget
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert all(t.number == killed_trial or t.user_attrs.get("over_budget") for t in failed)
    summary = study_summary(postgres_url, "killed")
    assert summary["complete"] == budget and summary["budget_charged"] == budget


def test_run_processes_seconds_budget(postgres_url, data_root, default_bench, tmp_path):
    """`hpo2nas run --storage --study --processes` runs the workers; the charged seconds stay within the budget."""
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    cmd = [sys.executable, "-m", "harness", "run", "--optimizer", "optuna-random", "--budget", "30000s",
           "--storage", postgres_url, "--study", "seconds", "--processes", "3", "--out", str(tmp_path / "out")]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Warning" not in out.stderr and "warning" not in out.stderr, out.stderr[-2000:]  # success is quiet
    summary = study_summary(postgres_url, "seconds")
    assert summary["budget_charged"] <= 30000 and summary["complete"] >= 10
    assert (tmp_path / "out" / "study.json").exists()


def test_not_an_optuna_sampler(postgres_url):
    from adapters.types import BadInputError

    with pytest.raises(BadInputError, match="not an Optuna sampler"):
        create_study(postgres_url, "re", StudySettings(run=RunConfig(optimizer="re", dataset="cifar10-valid",
                                                                     budget=Budget.parse("5evals"), seed=0)))


def test_documented_url_form_runs_and_exports(postgres_url, data_root, default_bench, tmp_path):
    """The plain postgresql:// URL that docs/optuna.md shows works for run --storage and export optuna.

    SQLAlchemy 2.1 alone maps it to psycopg 3, which is not installed ("Failed to import DB access
    module"); the storage opener gives it the locked psycopg2 driver instead.
    """
    import optuna

    assert postgres_url.startswith("postgresql://") and rdb_url(postgres_url).startswith("postgresql+psycopg2://")
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    for optimizer, storage in (("optuna-tpe", ["--storage", postgres_url]), ("re", [])):
        run = [sys.executable, "-m", "harness", "run", "--optimizer", optimizer, "--budget", "4evals", *storage,
               "--out", str(tmp_path / optimizer)]
        out = subprocess.run(run, env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
    export = [sys.executable, "-m", "harness", "export", "optuna", str(tmp_path / "re"), "--storage", postgres_url]
    out = subprocess.run(export, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    studies = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(open_storage(postgres_url))}
    assert {name.split("-")[0]: n for name, n in studies.items() if name.startswith(("optuna-tpe-", "re-"))} == \
        {"optuna": 4, "re": 4}  # the TPE run's own study, and the RE run exported

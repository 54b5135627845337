"""Bad input found by hand (issue 11): each is one line on stderr and exit code 2, nothing written.

Also the run folder's lock: two runs on one ``--out`` cannot interleave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

import pytest

from adapters.errors import RunCaveat
from adapters.optimizers import make_optimizer
from adapters.types import BadInputError, finite_float
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run


def _cli(*args: str, data_root, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(data_root), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _one_line_exit_2(out: subprocess.CompletedProcess, message: str) -> None:
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "infinity", "NaN", float("nan"), float("inf"), True, None])
def test_finite_float_refuses_non_finite(text):
    """NaN, infinity and overflows are refused wherever a float is parsed."""
    with pytest.raises(BadInputError, match="speed"):
        finite_float(text, "speed")


@pytest.mark.parametrize("text", ["1e309s", "1e309evals", "1e400full"])
def test_budget_must_be_finite(text):
    """A budget that overflows to infinity is refused by the parser and by the value object itself."""
    with pytest.raises(BadInputError, match="finite"):
        Budget.parse(text)
    for amount in (float("inf"), float("nan")):
        with pytest.raises(BadInputError, match="budget"):
            Budget("seconds", amount)
    with pytest.raises(BadInputError, match="budget"):
        RunConfig.from_dict({"optimizer": "re", "dataset": "cifar10-valid", "seed": 0,
                             "budget": {"kind": "evals", "amount": "lots", "include_overhead": False}})


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("optuna-tpe", {"n_startup_trials": "-3"}, "n_startup_trials must be at least 0"),
        ("dehb", {"mutation_factor": "nan"}, "finite"),
        ("zc", {"ridge": "inf"}, "finite"),
        ("zc", {"ridge": float("nan")}, "finite"),  # a spec's TOML may hold nan
        ("re", {"population_size": 2.5}, "must be an integer"),
        ("dehb", {"de_pop_size": 10**9}, "at most 15625"),
        ("optuna-qmc", {"qmc_type": 3}, "must be text"),
    ],
)
def test_options_are_checked_through_one_mechanism(name, options, message):
    """--set strings and spec values alike are coerced, made finite and range-checked."""
    with pytest.raises(BadInputError, match=message):
        make_optimizer(name, options)


def test_reported_inputs_are_one_line_exit_2(data_root, tmp_path):
    """The four inputs of issue 11 that slipped through: each is one line and exit 2, nothing written."""
    _one_line_exit_2(_cli("run", "--optimizer", "re", "--budget", "1e309s", "--out", str(tmp_path / "a"),
                          data_root=data_root), "finite")
    _one_line_exit_2(_cli("run", "--optimizer", "optuna-tpe", "--set", "n_startup_trials=-3", "--budget", "3evals",
                          "--out", str(tmp_path / "b"), data_root=data_root), "n_startup_trials")
    for out in ("/proc/hpo2nas-test/run", "/proc/hpo2nas-test", "/dev/null/run"):
        _one_line_exit_2(_cli("run", "--optimizer", "re", "--budget", "3evals", "--out", out, data_root=data_root),
                         "cannot write the run folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_refused_run_leaves_no_folder(data_root, tmp_path):
    """A run refused after its folder was checked (unknown store) removes the folder it made."""
    out = tmp_path / "deep" / "run"
    _one_line_exit_2(_cli("run", "--optimizer", "re", "--budget", "3evals", "--store", "nope", "--out", str(out),
                          data_root=data_root), "no store named 'nope'")
    assert not out.exists()


def test_zc_says_which_proxies_auto_left_out(tmp_path, monkeypatch):
    """On a table with fewer full proxies than cifar10-valid's, zc warns a RunCaveat and its notes name them."""
    import numpy as np

    from benchmarks.zerocost import _table
    from benchmarks.zerocost._weighting import auto_proxies, coverage_gap

    # cifar100's shipped table, with grasp never computed: its sample is then incomplete
    with np.load(_table.table_path("cifar100"), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["grasp"] = np.full_like(arrays["grasp"], np.nan)
    np.savez(tmp_path / "partial.npz", **arrays)
    shipped = _table.table_path
    monkeypatch.setattr(_table, "table_path", lambda d: tmp_path / "partial.npz" if d == "cifar100" else shipped(d))
    table = _table.load_table("cifar100")
    gap = coverage_gap(table)
    assert "grasp" in gap and coverage_gap(_table.load_table("cifar10-valid")) == []
    config = RunConfig(optimizer="zc", dataset="cifar100", budget=Budget.parse("3evals"), seed=0)
    with pytest.warns(RunCaveat, match=", ".join(auto_proxies(table))):
        execute_run(config, tmp_path / "zc")
    notes = json.loads((tmp_path / "zc" / "run.json").read_text())["notes"]
    assert any(all(name in note for name in gap) for note in notes), notes


def test_progress_line_shows_a_caveat(capsys, monkeypatch):
    """A RunCaveat warned during the run joins the progress bar's title."""
    from harness.cli import run_progress

    monkeypatch.setenv("COLUMNS", "200")
    config = RunConfig(optimizer="zc", dataset="cifar100", budget=Budget.parse("3evals"), seed=0)
    with run_progress(config) as progress:
        warnings.warn(RunCaveat("proxies=auto: params, flops only"), stacklevel=1)
        progress(1, 0.5, 70.0)
    err = capsys.readouterr().err
    assert "zc on cifar100 [proxies=auto: params, flops only]" in err


def test_two_runs_on_one_folder_cannot_interleave(data_root, tmp_path):
    """The second run on a busy --out exits 2 at once with one line; the first completes normally.

    (The lock dies with its holder: test_runner's SIGKILL test resumes a killed run at once.)
    """
    out = tmp_path / "run"
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    args = [sys.executable, "-m", "harness", "run", "--optimizer", "re", "--budget", "20000evals", "--out", str(out)]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "run.json").exists():
        time.sleep(0.02)
    assert first.poll() is None, "the first run finished before the second started"
    start = time.perf_counter()
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    refused_after = time.perf_counter() - start
    still_running = first.poll() is None
    _one_line_exit_2(second, "in use by another hpo2nas run")
    assert f"pid {first.pid}" in second.stderr
    assert still_running, "the second run was not refused while the first held the folder"
    assert refused_after < 30
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    body = json.loads((out / "run.json").read_text())
    assert body["status"] == "complete" and body["n_trials"] == 20000


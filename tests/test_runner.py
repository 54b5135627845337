"""The runner's budget rule, simulated clock, incumbent, records, determinism and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from adapters import NUM_CELLS, Cell
from benchmarks import open_benchmark
from harness.running.budget import Budget
from adapters.protocols import Suggestion
from harness.running.records import TRIAL_COLUMNS
from harness.running.run_folder import RunFolder
from harness.running.runner import RunConfig, execute_run, run_trials
from adapters.types import SEED_MEAN, BadInputError


class ScriptedOptimizer:
    """Asks a fixed list of cells: lets tests control exactly what the budget sees."""

    name = "scripted"
    multi_fidelity = False
    defaults: dict = {}

    def __init__(self, cells):
        self.cells = list(cells)
        self.told = []

    def setup(self, problem):
        pass

    def ask(self):
        return Suggestion(cell=Cell.from_index(self.cells[len(self.told)]), origin="script")

    def tell(self, suggestion, observation):
        self.told.append((suggestion.cell.index, observation))

    def report(self, suggestion, fidelity, valid_acc):
        return False

    def settings(self):
        return {}

    def notes(self):
        return []


def _config(**kw):
    base = dict(optimizer="scripted", dataset="cifar10-valid", budget=Budget.parse("100evals"), seed=0)
    return RunConfig(**{**base, **kw})


def test_trial_that_does_not_fit_ends_the_run(default_bench, tmp_path):
    """A run stops at the first trial whose cost exceeds what is left, even if a cheaper one follows."""
    times = default_bench.lookup(np.arange(NUM_CELLS), "cifar10-valid", "train_time_s", seed=SEED_MEAN)
    cheap, dear = int(np.nanargmin(times)), int(np.nanargmax(times))
    budget = Budget("seconds", times[cheap] * 3 + 1)  # fits 3 cheap trials, never the dear one
    opt = ScriptedOptimizer([cheap, cheap, dear, cheap, cheap])
    config = _config(budget=budget, data_seeds="mean")
    result = run_trials(config, opt, default_bench, RunFolder(tmp_path, config.to_dict()))
    assert [t["index"] for t in result.rows] == [cheap, cheap]
    assert result.budget_used <= budget.amount


def test_simulated_clock_and_costs(default_bench, tmp_path):
    """Each trial starts when the previous ended and lasts its train time; the total never overshoots."""
    config = _config(optimizer="re", budget=Budget.parse("100000s"), seed=4)
    result = execute_run(config, tmp_path / "run")
    trials = result.rows
    assert trials and sum(t["cost_s"] for t in trials) <= 100000
    for prev, cur in zip(trials, trials[1:]):
        assert cur["sim_start_s"] == pytest.approx(prev["sim_end_s"])
    for t in trials:
        assert t["sim_end_s"] - t["sim_start_s"] == pytest.approx(t["cost_s"])
        expected = default_bench.query(t["index"], "cifar10-valid", seed=int(t["data_seed"])).train_time_s
        assert t["cost_s"] == pytest.approx(expected)


def test_incumbent_and_regret(default_bench, tmp_path):
    """The incumbent is the best observed cell so far; regret is against the known optimum."""
    result = execute_run(_config(optimizer="random", budget=Budget.parse("300evals"), seed=2), tmp_path / "run")
    best_so_far = -1.0
    optimum = default_bench.best("cifar10-valid").valid_acc
    for t in result.rows:
        if t["valid_acc"] > best_so_far:
            best_so_far, best_index = t["valid_acc"], t["index"]
        assert t["incumbent_index"] == best_index
        mean = default_bench.query(best_index, "cifar10-valid", seed=SEED_MEAN).valid_acc
        assert t["incumbent_valid_acc"] == pytest.approx(mean)
        assert t["regret_valid"] == pytest.approx(optimum - mean) and t["regret_valid"] >= 0
    last = result.rows[-1]  # the report's test column: the incumbent's seed-mean test accuracy (cifar10 ori-test)
    assert last["incumbent_test_acc"] == default_bench.query(last["incumbent_index"], "cifar10-valid", seed=SEED_MEAN).test_acc
    assert last["incumbent_test_acc"] is not None


def test_records_schema(tmp_path):
    """trials.parquet has every documented column; run.json has versions, settings, store and command."""
    out = tmp_path / "run"
    execute_run(_config(optimizer="re", budget=Budget.parse("30evals"), seed=1), out)
    frame = pd.read_parquet(out / "trials.parquet")
    assert list(frame.columns) == list(TRIAL_COLUMNS) and len(frame) == 30
    body = json.loads((out / "run.json").read_text())
    assert body["status"] == "complete" and body["schema_version"] == 1
    assert body["optimizer_settings"] == {"population_size": 10, "tournament_size": 3}
    assert body["versions"]["smac"] and body["versions"]["optuna"] and body["store"]["checksum"]
    assert body["config"]["budget"]["text"] == "30evals" and "command_line" in body
    assert not (out / "journal.bin").exists()


@pytest.mark.parametrize("name", ["random", "re", "adapters.examples.grid:GridSearch"])
def test_determinism(name, tmp_path):
    """The same seed gives the identical trajectory, data seeds included; another seed differs."""
    runs = [execute_run(_config(optimizer=name, budget=Budget.parse("200000s"), seed=s), tmp_path / f"r{i}")
            for i, s in enumerate((5, 5, 6))]
    key = lambda r: [(t["index"], t["data_seed"], t["valid_acc"]) for t in r.rows]  # noqa: E731
    assert key(runs[0]) == key(runs[1])
    assert key(runs[0]) != key(runs[2])


def test_random_without_replacement_never_repeats(tmp_path):
    """replace=False visits distinct cells."""
    result = execute_run(_config(optimizer="random", options={"replace": "false"}, budget=Budget.parse("3000evals")),
                         tmp_path / "run")
    assert len({t["index"] for t in result.rows}) == 3000


def test_re_mutates_one_edge(tmp_path):
    """After the initial population every RE child differs from some earlier cell in exactly one edge."""
    trials = execute_run(_config(optimizer="re", budget=Budget.parse("60evals"), seed=3), tmp_path / "run").rows
    assert [t["origin"] for t in trials[:10]] == ["initial population"] * 10
    seen = [Cell.from_index(t["index"]) for t in trials[:10]]
    for t in trials[10:]:
        child = Cell.from_index(t["index"])
        assert any(sum(a != b for a, b in zip(child.ops, p.ops)) == 1 for p in seen)
        seen.append(child)


def test_random_search_known_answer(default_bench, tmp_path):
    """Random search with replacement matches the exact expected best-of-N of the seed-mean table."""
    n, runs = 20, 300
    values = np.sort(default_bench.lookup(np.arange(NUM_CELLS), "cifar10-valid"))
    k = np.arange(1, NUM_CELLS + 1)
    expected = float(np.sum(values * ((k / NUM_CELLS) ** n - ((k - 1) / NUM_CELLS) ** n)))
    finals = []
    for seed in range(runs):
        config = _config(optimizer="random", budget=Budget.parse(f"{n}evals"), seed=seed, data_seeds="mean")
        from adapters.optimizers import make_optimizer

        result = run_trials(config, make_optimizer("random"), default_bench, RunFolder(tmp_path / str(seed), config.to_dict()))
        finals.append(max(t["valid_acc"] for t in result.rows))
    finals = np.array(finals)
    stderr = finals.std(ddof=1) / np.sqrt(runs)
    assert abs(finals.mean() - expected) < 4 * stderr, (finals.mean(), expected, stderr)


def test_multi_fidelity_optimizer_refused_without_axis(flat_store, tmp_path):
    """A multi-fidelity optimizer on a store without a fidelity axis is a clear input error."""
    opt = ScriptedOptimizer([0])
    opt.multi_fidelity = True
    config = _config(store=flat_store)
    with pytest.raises(BadInputError, match="no fidelity axis"):
        run_trials(config, opt, open_benchmark(flat_store), RunFolder(tmp_path, config.to_dict()))


def test_schedule_axis_refuses_continued_promotions(default_bench, tmp_path):
    """The 12- and 200-epoch schedules are separate runs: continuing one into the other is refused."""
    config = _config(continue_promotions=True)
    with pytest.raises(BadInputError, match="continue_promotions needs an epoch axis"):
        run_trials(config, ScriptedOptimizer([0]), default_bench, RunFolder(tmp_path, config.to_dict()))


def test_continue_promotions_charges_only_new_epochs(curves_root, tmp_path):
    """With continue_promotions a re-asked cell pays only the new epochs, on the same data seed."""
    bench = open_benchmark("curves", root=curves_root)

    class Promoter(ScriptedOptimizer):
        def ask(self):
            fid = (50, 200)[len(self.told) % 2]
            return Suggestion(cell=Cell.from_index(self.cells[len(self.told)]), fidelity=fid, origin="promotion")

    for cont in (False, True):
        config = _config(store="curves", continue_promotions=cont, budget=Budget.parse("2evals"))
        trials = run_trials(config, Promoter([7, 7, 7]), bench, RunFolder(tmp_path / str(cont), config.to_dict())).rows
        t50 = bench.query(7, "cifar10-valid", 50, seed=0).train_time_s
        t200 = bench.query(7, "cifar10-valid", 200, seed=0).train_time_s
        assert trials[0]["cost_s"] == pytest.approx(t50)
        assert trials[1]["cost_s"] == pytest.approx(t200 - t50 if cont else t200)
        assert trials[1]["continued_from"] == (50 if cont else 0)


def test_full_fidelity_budget(curves_root, tmp_path):
    """A 'full' budget charges fidelity/max per trial."""
    bench = open_benchmark("curves", root=curves_root)

    class Low(ScriptedOptimizer):
        def ask(self):
            return Suggestion(cell=Cell.from_index(len(self.told)), fidelity=50)

    config = _config(store="curves", budget=Budget.parse("2full"))
    trials = run_trials(config, Low(range(100)), bench, RunFolder(tmp_path, config.to_dict())).rows
    assert len(trials) == 8 and all(t["budget_charged"] == 0.25 for t in trials)


def _cli(*args, env_root):
    env = {**os.environ, "HPO2NAS_DATA": str(env_root)}
    return [sys.executable, "-m", "harness", *args], env


@pytest.mark.parametrize("workers", [1, 4])
def test_resume_after_sigkill(data_root, tmp_path, workers):
    """A run killed with SIGKILL mid-run resumes to exactly the trials of an uninterrupted run
    (with 4 workers, trials running at the kill are asked again and end where they would have)."""
    args = ["run", "--optimizer", "re", "--budget", "40000evals", "--seed", "9", "--checkpoint-every", "500",
            "--workers", str(workers)]
    cmd, env = _cli(*args, "--out", str(tmp_path / "killed"), env_root=data_root)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "killed" / "journal.bin"
    deadline = time.time() + 60
    while time.time() < deadline and (not journal.exists() or journal.stat().st_size < 100_000):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.exists() and not (tmp_path / "killed" / "trials.parquet").exists(), "killed too late"
    cmd, env = _cli("run", "--resume", "--out", str(tmp_path / "killed"), env_root=data_root)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    cmd, env = _cli(*args, "--out", str(tmp_path / "clean"), env_root=data_root)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    resumed = pd.read_parquet(tmp_path / "killed" / "trials.parquet").drop(columns=["wall_s", "overhead_s"])
    clean = pd.read_parquet(tmp_path / "clean" / "trials.parquet").drop(columns=["wall_s", "overhead_s"])
    pd.testing.assert_frame_equal(resumed, clean)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizer", "nope", "--budget", "10evals"], "unknown optimizer"),
        (["--optimizer", "re", "--budget", "0evals"], "budget must be positive"),
        (["--optimizer", "re", "--budget", "ten"], "malformed budget"),
        (["--optimizer", "re", "--budget", "10evals", "--dataset", "mnist"], "unknown dataset"),
        (["--optimizer", "re", "--budget", "10evals", "--set", "population_size=x"], "must be an integer"),
    ],
)
def test_run_bad_input(data_root, tmp_path, args, message):
    """Bad run input exits 2 with a one-line reason and writes nothing."""
    cmd, env = _cli("run", *args, "--out", str(tmp_path / "out"), env_root=data_root)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "trials.parquet").exists()


def test_output_folder_with_different_run(data_root, tmp_path):
    """A folder holding a different run is refused; the same run needs --resume."""
    out = tmp_path / "out"
    execute_run(_config(optimizer="re", budget=Budget.parse("10evals")), out)
    with pytest.raises(BadInputError, match="different run"):
        execute_run(_config(optimizer="random", budget=Budget.parse("10evals")), out)
    with pytest.raises(BadInputError, match="pass --resume"):
        execute_run(_config(optimizer="re", budget=Budget.parse("10evals")), out)

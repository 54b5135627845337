"""Simulated workers: the event-driven clock, the budget rules with W > 1, W = 1 against a plain
sequential ask/tell loop for every optimizer, determinism whatever the machine's speed."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from adapters import NUM_CELLS, Cell
from adapters.optimizers import OPTIMIZERS, make_optimizer
from adapters.optimizers._evolution import RegularizedEvolution
from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.types import SEED_MEAN, BadInputError, RandomSeed
from benchmarks import open_benchmark
from harness.running.budget import Budget
from harness.running.run_folder import RunFolder
from harness.running.expected import expected_trials
from harness.running.runner import RunConfig, execute_run, run_trials

NAMES = sorted(OPTIMIZERS) + ["adapters.examples.grid:GridSearch"]
DATASET = "cifar10-valid"


class Timed:
    """Asks a fixed list of cells and logs every ask and tell, to check the order of events."""

    name = "timed"
    multi_fidelity = False
    defaults: dict = {}
    pending_trials = True

    def __init__(self, cells):
        self.cells = list(cells)
        self.events: list[tuple[str, int]] = []
        self.asked = 0

    def setup(self, problem):
        self.problem = problem

    def ask(self):
        self.asked += 1
        self.events.append(("ask", self.asked - 1))
        return Suggestion(cell=Cell.from_index(self.cells[self.asked - 1]), origin="script", token=self.asked - 1)

    def tell(self, suggestion, observation):
        self.events.append(("tell", suggestion.token))


def _times(bench) -> np.ndarray:
    return bench.lookup(np.arange(NUM_CELLS), DATASET, "train_time_s", seed=SEED_MEAN)


def _run(bench, optimizer, tmp_path, budget: str, workers: int):
    config = RunConfig(optimizer="timed", dataset=DATASET, budget=Budget.parse(budget), seed=0, data_seeds="mean",
                       workers=workers)
    return run_trials(config, optimizer, bench, RunFolder(tmp_path, config.to_dict()))


def test_event_order_and_clocks(default_bench, tmp_path):
    """Trials are told in order of finish time (ties by worker id); a free worker asks at once,
    before the trials still running are told; both clocks are recorded."""
    times = _times(default_bench)
    order = np.argsort(times)
    short, mid, long_ = (int(order[i]) for i in (100, 7000, 15000))
    assert times[short] < times[mid] < times[long_]
    opt = Timed([long_, short, short, mid, short, short, short, short, short])  # the 9th ask does not fit
    result = _run(default_bench, opt, tmp_path, "8evals", workers=3)
    trials = result.rows
    ends = [t["sim_end_s"] for t in trials]
    assert ends == sorted(ends)
    for a, b in zip(trials, trials[1:]):
        if a["sim_end_s"] == b["sim_end_s"]:
            assert a["worker"] < b["worker"]
    # Workers 1 and 2 (both 'short') finish together: both are told before either asks again.
    assert opt.events[:5] == [("ask", 0), ("ask", 1), ("ask", 2), ("tell", 1), ("tell", 2)]
    assert opt.events[5:7] == [("ask", 3), ("ask", 4)]
    assert sorted(t["trial"] for t in trials) == list(range(8))
    for t in trials:
        assert t["sim_end_s"] - t["sim_start_s"] == pytest.approx(t["cost_s"])
        assert t["worker"] in (0, 1, 2)
    # At no instant do more than 3 trials run.
    for t in trials:
        overlapping = sum(u["sim_start_s"] <= t["sim_start_s"] < u["sim_end_s"] for u in trials)
        assert overlapping <= 3
    compute = np.cumsum([t["cost_s"] for t in trials])
    assert [t["sim_compute_s"] for t in trials] == pytest.approx(compute.tolist())
    assert result.compute_s == pytest.approx(compute[-1])
    assert 0 < result.utilisation <= 1


def test_seconds_budget_is_wall_clock(default_bench, tmp_path):
    """With W workers a seconds budget is simulated wall-clock: a trial starts only if it ends
    within it, and the first that would not ends the asking (no skipping ahead to a cheaper one)."""
    times = _times(default_bench)
    cheap, dear = int(np.nanargmin(times)), int(np.nanargmax(times))
    amount = times[cheap] * 3 + 1  # each worker fits 3 cheap trials in a row, never the dear one
    opt = Timed([cheap] * 6 + [dear] + [cheap] * 20)
    result = _run(default_bench, opt, tmp_path, f"{amount}s", workers=2)
    assert [t["index"] for t in result.rows] == [cheap] * 6
    assert max(t["sim_end_s"] for t in result.rows) <= amount
    assert result.budget_used == pytest.approx(times[cheap] * 3)
    assert sum(t["cost_s"] for t in result.rows) > amount  # twice the compute of one worker


def test_evals_budget_counts_trials_started(default_bench, tmp_path):
    """An evaluations budget counts trials started: W = 4 with 10 evals runs exactly 10 trials."""
    result = _run(default_bench, Timed(range(100)), tmp_path, "10evals", workers=4)
    assert len(result.rows) == 10 and {t["worker"] for t in result.rows} == {0, 1, 2, 3}


def test_more_workers_more_trials_in_the_same_wall_clock(tmp_path):
    """Random search on 4 workers fits about 4x the trials of 1 worker into the same seconds budget."""
    runs = {w: execute_run(RunConfig(optimizer="random", dataset=DATASET, budget=Budget.parse("200000s"), seed=1,
                                     workers=w), tmp_path / f"w{w}") for w in (1, 4)}
    ratio = len(runs[4].rows) / len(runs[1].rows)
    assert 3.2 < ratio <= 4.2, ratio
    assert runs[4].utilisation > 0.9


def test_same_trajectory_whatever_the_machine_speed(tmp_path):
    """The same seed gives the same trajectory with W = 4 even when asks take random wall time."""

    class SlowRE(RegularizedEvolution):
        name = "re"

        def ask(self):
            time.sleep(random.random() * 0.002)
            return super().ask()

    key = lambda r: [(t["trial"], t["worker"], t["index"], t["data_seed"], t["sim_end_s"]) for t in r.rows]  # noqa: E731
    config = RunConfig(optimizer="re", dataset=DATASET, budget=Budget.parse("60evals"), seed=4, workers=4)
    bench = open_benchmark()
    slow = run_trials(config, SlowRE(), bench, RunFolder(tmp_path / "slow", config.to_dict()))
    fast = run_trials(config, RegularizedEvolution(), bench, RunFolder(tmp_path / "fast", config.to_dict()))
    assert key(slow) == key(fast)


def test_bad_worker_count():
    with pytest.raises(BadInputError, match="workers"):
        RunConfig(optimizer="re", dataset=DATASET, budget=Budget.parse("1evals"), seed=0, workers=0)


def test_pruner_refused_with_workers(curves_root, tmp_path, monkeypatch):
    """An optimizer that cannot run with pending trials is refused with the reason, before any file."""
    monkeypatch.setenv("HPO2NAS_DATA", str(curves_root))
    config = RunConfig(optimizer="optuna-tpe", options={"pruner": "median"}, dataset=DATASET, store="curves",
                       budget=Budget.parse("5evals"), seed=0, workers=2)
    with pytest.raises(BadInputError, match="cannot run with 2 workers.*pruner"):
        execute_run(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- W = 1 is today's sequential loop, for every optimizer ------------------------------------


def _sequential(name: str, bench, budget: Budget, seed: int, workdir):
    """A plain sequential ask/evaluate/tell loop: what the runner did before it had workers."""
    space = bench.fidelity_space(DATASET)
    opt = make_optimizer(name)
    expected = expected_trials(budget, bench, DATASET, space.max)["n"]
    opt.setup(SearchProblem(fidelity=space, seed=seed, workdir=workdir, max_trials=budget.max_trials(),
                            expected_trials=expected, dataset=DATASET))
    policy, clock, rows = RandomSeed(seed), 0.0, []
    while True:
        s = opt.ask()
        index = s.cell.index
        fid = s.fidelity if s.fidelity is not None else space.max
        first = bench.query(index, DATASET, fid, policy)
        cost = first.train_time_s + s.extra_cost_s
        if not budget.fits(clock if budget.kind == "seconds" else len(rows), budget.cost(cost, fid / space.max)):
            return rows
        status, stop, value = "ok", fid, first.valid_acc
        if s.intermediate:
            for epoch in (e for e in space.values if e <= fid):
                if opt.report(s, epoch, bench.query(index, DATASET, epoch, first.seed).valid_acc) and epoch < fid:
                    stopped = bench.query(index, DATASET, epoch, first.seed)
                    status, stop, value, cost = "pruned", epoch, stopped.valid_acc, stopped.train_time_s + s.extra_cost_s
                    break
        opt.tell(s, Observation(valid_acc=value, fidelity=stop, cost_s=cost, status=status))
        rows.append((index, stop, first.seed, value, clock, clock + cost, status, s.origin))
        clock += cost


@pytest.mark.parametrize("name", NAMES)
def test_one_worker_is_the_sequential_loop(name, data_root, curves_root, tmp_path, monkeypatch):
    """With W = 1 the event-driven runner records exactly the sequential loop's trials and clock."""
    store = "curves" if make_optimizer(name).multi_fidelity else "default"
    root = curves_root if store == "curves" else data_root
    monkeypatch.setenv("HPO2NAS_DATA", str(root))
    budget = Budget.parse("8evals" if store == "curves" else "20000s")
    config = RunConfig(optimizer=name, dataset=DATASET, budget=budget, seed=3, store=store)
    trials = execute_run(config, tmp_path / "run").rows
    expected = _sequential(name, open_benchmark(store, root=root), budget, 3, tmp_path / "ref")
    got = [(t["index"], t["fidelity"], t["data_seed"], t["valid_acc"], t["sim_start_s"], t["sim_end_s"], t["status"],
            t["origin"]) for t in trials]
    assert len(got) >= 4 and got == expected
    assert all(t["worker"] == 0 and t["sim_compute_s"] == t["sim_end_s"] for t in trials)


# --- specs and the report's parallel section ---------------------------------------------------


def test_spec_workers_expand_labels(tmp_path, default_bench):
    """A spec's ``workers = [1, 4]`` runs every optimizer at each W under the label NAME@W."""
    from harness.compare import plan_runs
    from harness.running.spec import load_spec

    spec_file = tmp_path / "par.toml"
    spec_file.write_text('name = "par"\ndatasets = ["cifar10-valid"]\nworkers = [1, 4]\n'
                         '[profiles.quick]\nseeds = [0]\nbudget = "10evals"\n[optimizers.random]\n[optimizers.re]\n')
    spec = load_spec(spec_file)
    runs, excluded = plan_runs(spec, spec.profile("quick"), default_bench)
    assert not excluded
    assert sorted((r.label, r.config.workers) for r in runs) == [("random@1", 1), ("random@4", 4), ("re@1", 1),
                                                                 ("re@4", 4)]
    spec_file.write_text(spec_file.read_text().replace("[1, 4]", "[0]"))
    with pytest.raises(BadInputError, match="workers"):
        load_spec(spec_file)


def test_parallel_report_margins_against_the_serial_reference(tmp_path):
    """With labels NAME@W the report's margins are against the reference at the fewest workers."""
    from harness.compare import compare
    from harness.running.spec import load_spec

    spec_file = tmp_path / "par.toml"
    body = ('name = "par"\ndatasets = ["cifar10-valid"]\nworkers = [1, 2]\n{ref}output = "{out}"\n'
            '[profiles.quick]\nseeds = [0, 1]\nbudget = "8evals"\n[optimizers.random]\n[optimizers.re]\n')
    spec_file.write_text(body.format(ref='reference = "re"\n', out=tmp_path / "out"))
    report = compare(load_spec(spec_file), "quick").report.read_text()
    assert "margin vs re@1 (pp)" in report and "not computed" not in report
    spec_file.write_text(body.format(ref='reference = "nope"\n', out=tmp_path / "out"))
    with pytest.raises(BadInputError, match="'reference' must name one of the optimizers"):
        load_spec(spec_file)


def test_parallel_section(tmp_path):
    """The section reports per W the trials, time to the regret target, speed-up and utilisation."""
    import pandas as pd

    from harness.reporting.parallel_report import parallel_section, parallel_table
    from harness.running.records import load_trials

    frames = []
    for workers in (1, 4):
        for seed in (0, 1):
            config = RunConfig(optimizer="random", label=f"random@{workers}", dataset=DATASET,
                               budget=Budget.parse("60000s"), seed=seed, workers=workers)
            frames.append(load_trials(execute_run(config, tmp_path / f"w{workers}s{seed}").folder))
    trials = pd.concat(frames, ignore_index=True)
    base_of = {"random@1": "random", "random@4": "random"}
    table = parallel_table(trials, base_of, target=2.0).set_index("workers")
    assert table.loc[4, "trials"] > 3 * table.loc[1, "trials"]
    assert table.loc[1, "utilisation"] == pytest.approx(1.0) and 0.8 < table.loc[4, "utilisation"] <= 1.0
    assert table.loc[1, "speedup"] == pytest.approx(1.0)
    assert table.loc[4, "time_to_target_s"] <= table.loc[1, "time_to_target_s"]
    blocks = parallel_section(trials, base_of, 2.0, "x-valid", tmp_path)
    assert (tmp_path / "parallel_regret_random.png").stat().st_size > 1000 and len(blocks) == 4


def test_finals_are_the_last_result_told_not_the_last_trial_asked():
    """With W > 1 the highest trial number can finish first: the final incumbent is the last told."""
    import pandas as pd

    from harness.reporting.parallel_report import parallel_table
    from harness.reporting.stats import run_finals

    base = {"run_id": "r", "optimizer": "random@2", "seed": 0, "workers": 2, "status": "ok", "fidelity": 200,
            "canonical_id": 0, "incumbent_test_acc": None, "sim_compute_s": 10.0}
    rows = [  # trial 1 (asked last) ends at t=5; trial 0 ends at t=9 and is the last told
        {**base, "trial": 1, "worker": 1, "sim_end_s": 5.0, "regret_valid": 2.0, "incumbent_valid_acc": 89.0,
         "incumbent_index": 11},
        {**base, "trial": 0, "worker": 0, "sim_end_s": 9.0, "regret_valid": 0.5, "incumbent_valid_acc": 91.0,
         "incumbent_index": 22},
    ]
    trials = pd.DataFrame(rows).sort_values("trial")  # the order a report may hand over
    finals = run_finals(trials)
    assert finals.loc[("random@2", 0), "incumbent_index"] == 22 and finals.loc[("random@2", 0), "regret_valid"] == 0.5
    table = parallel_table(trials, {"random@2": "random"}, target=1.0)
    assert table.loc[0, "final_regret"] == [0.5]


def test_speedup_is_a_lower_bound_when_one_worker_never_reaches_the_target():
    import pandas as pd

    from harness.reporting.parallel_report import parallel_table

    def run(label, workers, ends, regrets):
        return pd.DataFrame({"optimizer": label, "seed": 0, "workers": workers, "trial": range(len(ends)),
                             "worker": 0, "sim_end_s": ends, "regret_valid": regrets,
                             "sim_compute_s": [workers * e for e in ends]})

    trials = pd.concat([run("rs@1", 1, [100.0, 400.0], [3.0, 2.0]), run("rs@4", 4, [50.0, 100.0], [3.0, 0.5])])
    table = parallel_table(trials, {"rs@1": "rs", "rs@4": "rs"}, target=1.0).set_index("workers")
    assert np.isnan(table.loc[1, "speedup"]) and not table.loc[1, "speedup_at_least"]
    assert table.loc[4, "speedup"] == pytest.approx(400.0 / 100.0) and table.loc[4, "speedup_at_least"]


def test_figures_order_worker_counts_as_numbers():
    """Legends and styles list random@1, random@4, random@16, not the text order 1, 16, 4."""
    from harness.reporting.plot_style import label_order, styles_for

    labels = ["random@16", "re@1", "random@4", "random@1"]
    assert label_order(labels) == ["random@1", "random@4", "random@16", "re@1"]
    styles = styles_for(labels)
    assert list(styles) == ["random@1", "random@4", "random@16", "re@1"]
    assert len({(s.color, s.dashes, s.marker) for s in styles.values()}) == len(labels)

"""One contract suite for every optimizer adapter (as Optuna tests every sampler).

Each registered optimizer, the grid example loaded as ``module:Class`` and the example Optuna
sampler loaded both as ``optuna:MODULE:Class`` and as a local OptunaHub package, must build with
its defaults, reject unknown options and values outside each option's declared range, ask for
valid cells on the store's axis, survive a
short run through the runner, be deterministic for a seed, and resume an interrupted run to the
trials of an unbroken one.
"""

from __future__ import annotations

import pytest

from adapters import NB201, Cell
from adapters.optimizers import OPTIMIZERS, OptimizerBase, make_optimizer
from adapters.optimizers._base import Between
from benchmarks import open_benchmark
from _runs import comparable, resumed_after_stop
from harness.running.budget import Budget
from adapters.protocols import SearchProblem, optimizer_notes, optimizer_settings
from harness.running.runner import RunConfig, execute_run
from adapters.types import BadInputError

NAMES = sorted(OPTIMIZERS) + [
    "adapters.examples.grid:GridSearch",
    "optuna:adapters.examples.local_search:LocalSearchSampler",
    "optunahub:adapters/examples/local_search:LocalSearchSampler",
]
#: Trials per contract run: the GP-based optimizers cost up to ~2 s per trial here.
SHORT = 6


def _store_for(name: str) -> str:
    return "curves" if make_optimizer(name).multi_fidelity else "default"


@pytest.fixture
def roots(data_root, curves_root):
    return {"default": data_root, "curves": curves_root}


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_defaults_and_reports_settings(name):
    """make_optimizer(name) works with no options, and settings() covers every default."""
    opt = make_optimizer(name)
    assert set(type(opt).defaults) <= set(optimizer_settings(opt))
    assert isinstance(optimizer_notes(opt), list)
    assert isinstance(type(opt).multi_fidelity, bool)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_is_bad_input(name):
    """An unknown option is a BadInputError naming it."""
    with pytest.raises(BadInputError, match="no_such_option"):
        make_optimizer(name, {"no_such_option": "1"})


@pytest.mark.parametrize("name", NAMES)
def test_asks_valid_cells_on_the_axis(name, roots, tmp_path):
    """ask() returns a Cell and a fidelity on the store's axis (or None for the highest)."""
    store = _store_for(name)
    bench = open_benchmark(store, root=roots[store])
    space = bench.fidelity_space("cifar10-valid")
    opt = make_optimizer(name)
    opt.setup(SearchProblem(fidelity=space, seed=0, workdir=tmp_path, max_trials=SHORT))
    suggestion = opt.ask()
    assert isinstance(suggestion.config, tuple) and isinstance(suggestion.cell, Cell)
    assert suggestion.cell.index == NB201.key(suggestion.config)
    assert suggestion.fidelity is None or suggestion.fidelity in space.values
    assert isinstance(suggestion.origin, str) and suggestion.origin


@pytest.mark.parametrize("name", NAMES)
def test_short_run_is_deterministic(name, roots, tmp_path, monkeypatch):
    """Two short runs with one seed record identical trials through the runner."""
    store = _store_for(name)
    monkeypatch.setenv("HPO2NAS_DATA", str(roots[store]))
    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse(f"{SHORT}evals"), seed=3, store=store)
    first = execute_run(config, tmp_path / "a").rows
    second = execute_run(config, tmp_path / "b").rows
    assert len(first) == SHORT
    assert [(t["index"], t["fidelity"], t["origin"]) for t in first] == [
        (t["index"], t["fidelity"], t["origin"]) for t in second
    ]




@pytest.mark.parametrize("name", NAMES)
def test_resume_by_replay_gives_the_trials_of_an_unbroken_run(name, roots, tmp_path, monkeypatch):
    """A run stopped after 5 of its trials (4 checkpointed) and resumed records exactly the trials of a
    run that was never stopped: the optimizer restores its own state or is replayed through ask/tell."""
    store = _store_for(name)
    monkeypatch.setenv("HPO2NAS_DATA", str(roots[store]))
    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse(f"{SHORT + 2}evals"), seed=3,
                       store=store, checkpoint_every=2)
    resumed = resumed_after_stop(config, tmp_path / "broken", 5)
    unbroken = execute_run(config, tmp_path / "unbroken").rows
    assert len(unbroken) == SHORT + 2
    assert resumed == comparable(unbroken)


def _outside(limit: Between, integer: bool) -> list[float]:
    """Values just outside a range: one step below and above it (a step of 1 for integers)."""
    step = 1 if integer else 1e-6
    values = []
    if limit.low is not None:
        values.append(limit.low if limit.low_open else limit.low - step)
    if limit.high is not None:
        values.append(limit.high if limit.high_open else limit.high + step)
    return values


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_option_is_range_checked(name):
    """Every numeric option declares a range; values outside it, NaN and infinity are refused (as --set text too)."""
    cls = OPTIMIZERS[name]
    assert issubclass(cls, OptimizerBase)
    for key, default in cls.defaults.items():
        if isinstance(default, bool):
            bad = ["maybe", 2]
        elif isinstance(default, (int, float)):
            limit = cls.limits.get(key)
            assert isinstance(limit, Between), f"{name}: numeric option {key} declares no range in limits"
            assert limit.admits(default), f"{name}: default {key}={default} is outside its own range {limit}"
            integer = isinstance(default, int)
            bad = _outside(limit, integer) + (["2.5", 2.5] if integer else ["nan", "inf", "-inf", "1e309", float("nan")])
            assert _outside(limit, integer) or not integer, f"{name}: integer option {key} has an unbounded range"
        elif key in cls.limits:
            bad = ["no-such-choice"]
        else:
            continue  # free text checked at set-up (a dataset or proxy name)
        for value in bad:
            for form in (value, str(value)) if not isinstance(value, str) else (value,):
                with pytest.raises(BadInputError, match=key):
                    make_optimizer(name, {key: form})


@pytest.mark.parametrize("name", NAMES)
def test_workers_run_deterministically_or_are_refused(name, roots, tmp_path, monkeypatch):
    """Every adapter states whether it can be asked with trials pending (``pending_trials``).

    If it can, a run on 3 simulated workers starts exactly the budget's trials, uses the
    workers and is deterministic for a seed; if not, W > 1 is refused with the reason.
    """
    opt = make_optimizer(name)
    assert isinstance(getattr(opt, "pending_trials", False), bool)
    store = _store_for(name)
    monkeypatch.setenv("HPO2NAS_DATA", str(roots[store]))
    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse(f"{SHORT + 2}evals"), seed=3,
                       store=store, workers=3)
    if not getattr(opt, "pending_trials", False):
        with pytest.raises(BadInputError, match="cannot run with 3 workers"):
            execute_run(config, tmp_path / "a")
        return
    first = execute_run(config, tmp_path / "a").rows
    second = execute_run(config, tmp_path / "b").rows
    assert sorted(t["trial"] for t in first) == list(range(SHORT + 2))
    assert {t["worker"] for t in first} == {0, 1, 2}
    key = lambda trials: [(t["trial"], t["worker"], t["index"], t["fidelity"], t["sim_end_s"]) for t in trials]  # noqa: E731
    assert key(first) == key(second)

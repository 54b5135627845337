"""Optuna samplers and pruners behind the ask/tell protocol, run through the real runner.

Startup phases are shortened by options so every sampler's own (non-random) step is
exercised within a few trials; GP costs up to ~1 s a trial here.
"""

from __future__ import annotations

import json
import logging
import warnings

import pytest

from adapters.optimizers import make_optimizer
from benchmarks import open_benchmark
from harness.running.budget import Budget
from adapters.protocols import SearchProblem
from harness.running.runner import RunConfig, execute_run
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace

N = 6
#: name -> (options, origin of each of the N trials)
CASES = {
    "optuna-tpe": ({"n_startup_trials": 3}, ["random (startup)"] * 3 + ["acquisition"] * 3),
    "optuna-gp": ({"n_startup_trials": 3}, ["random (startup)"] * 3 + ["acquisition"] * 3),
    "optuna-nsga2": ({"population_size": 4}, ["random (initial population)"] * 4 + ["evolution"] * 2),
    "optuna-random": ({}, ["random"] * N),
    "optuna-qmc": ({}, ["random (first trial)"] + ["quasi-random"] * (N - 1)),
    "optuna-cmaes": ({}, ["random (fallback)"] * N),
}


@pytest.fixture
def optuna_log(caplog):
    """Optuna logs through its own stderr handler and does not propagate: listen on its logger."""
    logger = logging.getLogger("optuna")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def _run(name, tmp_path, tag, *, seed=0, options=None, store="default", evals=N):
    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget("evals", evals), seed=seed,
                       store=store, options=options or {})
    result = execute_run(config, tmp_path / tag)
    return result.rows, json.loads((result.folder / "run.json").read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_runs_deterministically_and_quietly(name, default_bench, tmp_path, optuna_log):
    """N trials with the sampler's own origins; same seed same trials, another seed others; no warnings or logs."""
    options, origins = CASES[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, record = _run(name, tmp_path, "a", options=options)
        again, _ = _run(name, tmp_path, "b", options=options)
        other, _ = _run(name, tmp_path, "c", seed=1, options=options)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in optuna_log.records] == []  # no study INFO, no per-trial fallback warnings
    assert [t["origin"] for t in first] == origins
    assert [(t["index"], t["origin"]) for t in first] == [(t["index"], t["origin"]) for t in again]
    assert [t["index"] for t in first] != [t["index"] for t in other]
    assert record["optimizer_settings"]["sampler"].endswith("Sampler") and record["multi_fidelity"] is False


def test_cmaes_is_labelled_random_search(default_bench, tmp_path):
    """CMA-ES says once that it falls back to random sampling, and draws exactly optuna-random's cells."""
    cmaes, record = _run("optuna-cmaes", tmp_path, "cmaes", evals=10)
    random, _ = _run("optuna-random", tmp_path, "random", evals=10)
    assert len(record["notes"]) == 1
    assert record["notes"][0].startswith("CmaEsSampler falls back to independent random sampling on this all-categorical space")
    assert [t["index"] for t in cmaes] == [t["index"] for t in random]


def test_qmc_is_labelled_low_discrepancy(default_bench, tmp_path):
    """QMC's note says it is a real QMC design on categoricals, not a fallback."""
    _, record = _run("optuna-qmc", tmp_path, "qmc", evals=2)
    assert len(record["notes"]) == 1 and "not random sampling" in record["notes"][0]


def test_options_arrive_as_strings():
    """--set strings: a pruner makes the instance (not the class) multi-fidelity; bad values are BadInputError."""
    opt = make_optimizer("optuna-tpe", {"pruner": "hyperband", "reduction_factor": "2", "n_startup_trials": "4"})
    assert opt.multi_fidelity and not type(opt).multi_fidelity
    assert opt.options == {"pruner": "hyperband", "reduction_factor": 2, "n_startup_trials": 4,
                           "constant_liar": type(opt).defaults["constant_liar"]}
    assert make_optimizer("optuna-gp").multi_fidelity is False
    for bad in ({"pruner": "asha"}, {"reduction_factor": "1"}, {"reduction_factor": "x"}):
        with pytest.raises(BadInputError):
            make_optimizer("optuna-random", bad)


def test_pruner_needs_a_fidelity_axis(flat_store, tmp_path):
    """On a store without a fidelity axis a pruner is refused before any trial."""
    with pytest.raises(BadInputError, match="fidelity axis"):
        _run("optuna-tpe", tmp_path, "run", options={"pruner": "hyperband"}, store=flat_store)
    opt = make_optimizer("optuna-random", {"pruner": "sh"})
    with pytest.raises(BadInputError, match="needs a fidelity axis"):
        opt.setup(SearchProblem(fidelity=FidelitySpace("epoch", (200,)), seed=0, workdir=tmp_path))


@pytest.mark.parametrize("pruner", ["hyperband", "median"])
def test_pruner_on_the_schedule_axis_pays_each_schedule(pruner, default_bench, tmp_path):
    """On the default's 12/200-epoch schedules a pruned trial pays its 12-epoch run; one let through pays
    that run plus a full 200-epoch run from scratch (never a continuation)."""
    trials, _ = _run("optuna-tpe", tmp_path, "run", options={"pruner": pruner}, evals=40)
    pruned = [t for t in trials if t["status"] == "pruned"]
    full = [t for t in trials if t["status"] == "ok"]
    assert pruned and full and {t["fidelity"] for t in pruned} == {12} and {t["fidelity"] for t in full} == {200}
    for t in trials:
        short = default_bench.query(t["index"], "cifar10-valid", 12, seed=SEED_MEAN)
        assert t["continued_from"] == 0 and t["fidelity_asked"] == 200
        if t["status"] == "pruned":
            assert t["data_seed"] == "mean" and t["valid_acc"] == short.valid_acc
            assert t["cost_s"] == pytest.approx(short.train_time_s)
        else:
            run = default_bench.query(t["index"], "cifar10-valid", 200, seed=t["data_seed"])
            assert t["valid_acc"] == run.valid_acc
            assert t["cost_s"] == pytest.approx(short.train_time_s + run.train_time_s)


@pytest.mark.parametrize("pruner", ["hyperband", "sh", "median"])
def test_pruners_stop_early_and_pay_only_epochs_trained(pruner, curves_root, tmp_path, monkeypatch):
    """Pruned trials stop below the top epoch and cost the cumulative train time there; the rest reach it."""
    monkeypatch.setenv("HPO2NAS_DATA", str(curves_root))
    trials, record = _run("optuna-tpe", tmp_path, "run", options={"pruner": pruner}, store="curves", evals=30)
    again, _ = _run("optuna-tpe", tmp_path, "again", options={"pruner": pruner}, store="curves", evals=30)
    bench = open_benchmark("curves", root=curves_root)
    top = bench.fidelity_space("cifar10-valid").max
    pruned = [t for t in trials if t["status"] == "pruned"]
    done = [t for t in trials if t["status"] == "ok"]
    assert len(trials) == 30 and pruned and done
    assert all(t["fidelity"] < top for t in pruned) and all(t["fidelity"] == top for t in done)
    for t in trials:
        at_stop = bench.query(t["index"], "cifar10-valid", t["fidelity"], t["data_seed"])
        assert t["cost_s"] == pytest.approx(at_stop.train_time_s)
        assert t["valid_acc"] == pytest.approx(at_stop.valid_acc)
    assert [(t["index"], t["fidelity"]) for t in trials] == [(t["index"], t["fidelity"]) for t in again]
    assert record["multi_fidelity"] is True
    settings = record["optimizer_settings"]["pruner_settings"]
    if pruner != "median":
        assert settings["min_resource"] == 1 and settings["reduction_factor"] == 3
    if pruner == "hyperband":
        assert settings["max_resource"] == top


def test_gp_leaves_torch_thread_count_as_it_found_it():
    """OptunaGP fits on one torch thread, and every ask (startup and acquisition) restores the caller's count."""
    import torch

    from adapters.protocols import Observation

    before = torch.get_num_threads()
    torch.set_num_threads(2 if before != 2 else 3)
    try:
        caller = torch.get_num_threads()
        opt = make_optimizer("optuna-gp", {"n_startup_trials": 2})
        opt.setup(SearchProblem(fidelity=FidelitySpace("epoch", (200,)), seed=0))
        for step in range(4):
            suggestion = opt.ask()
            assert torch.get_num_threads() == caller
            opt.tell(suggestion, Observation(valid_acc=50.0 + step, fidelity=200, cost_s=1.0))
        assert suggestion.origin == "acquisition"
    finally:
        torch.set_num_threads(before)

"""Proxy weighting and the zero-cost optimizers ("zc", "re-zc") through the runner."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import NUM_CELLS, canonical_ids
from benchmarks.zerocost._table import ZeroCostTable, load_table
from benchmarks.zerocost._weighting import (
    SAMPLE_CELLS,
    ProxyScorer,
    auto_proxies,
    full_coverage,
    heldout_weighting,
    transfer_weighting,
)
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run


def _synthetic_table() -> tuple[ZeroCostTable, np.ndarray]:
    """Two proxies over all cells: 'good' orders cells like the target, 'noise' does not."""
    rng = np.random.default_rng(0)
    target = rng.random(NUM_CELLS)
    columns = {"good": target + 0.05 * rng.random(NUM_CELLS), "noise": rng.random(NUM_CELLS)}
    return ZeroCostTable("cifar10-valid", columns, {}), target


def test_fit_puts_weight_on_the_informative_proxy():
    table, target = _synthetic_table()
    scorer = ProxyScorer.from_table(table, ["good", "noise"])
    assert np.allclose(scorer.weights, 0.5)  # equal before any result
    picked = np.arange(0, NUM_CELLS, 300)
    scorer.fit(picked, target[picked])
    assert scorer.weights[0] > 10 * abs(scorer.weights[1])


def test_heldout_weighting_reports_weighted_and_single_proxies():
    table, target = _synthetic_table()
    result = heldout_weighting(table, target, ["good", "noise"], n_fit=50, seed=1)
    assert result["n_fit"] == 50 and result["n_test"] == NUM_CELLS - 50
    assert result["rho_weighted"] > 0.95 > result["rho_equal_weights"]


def test_scorer_skips_cells_without_every_proxy():
    table, _ = _synthetic_table()
    partial = dict(table.columns)
    partial["noise"] = partial["noise"].copy()
    partial["noise"][:100] = np.nan
    scorer = ProxyScorer.from_table(ZeroCostTable("cifar10-valid", partial, {}), ["good", "noise"])
    assert len(scorer.cells) == NUM_CELLS - 100 and scorer.position(5) is None


def test_auto_uses_the_full_coverage_proxies():
    assert {"params", "flops"} <= set(full_coverage(load_table("cifar10-valid")))


@pytest.mark.parametrize(("covered", "expected"), [(SAMPLE_CELLS, ["good", "noise"]), (SAMPLE_CELLS - 1, ["good"])])
def test_auto_takes_every_proxy_once_the_sample_is_done(covered, expected):
    """A partly filled table: every proxy over its sample once that is complete, else full coverage."""
    table, _ = _synthetic_table()
    partial = dict(table.columns)
    partial["noise"] = np.full(NUM_CELLS, np.nan)
    partial["noise"][:covered] = 1.0
    assert auto_proxies(ZeroCostTable("cifar100", partial, {})) == expected


@pytest.mark.parametrize("dataset", ["cifar100", "ImageNet16-120"])
def test_zc_reads_the_table_of_the_run_dataset(dataset, tmp_path):
    """zc on another dataset ranks by that dataset's table, not cifar10-valid's."""
    import json

    config = RunConfig(optimizer="zc", dataset=dataset, budget=Budget.parse("3evals"), seed=0)
    execute_run(config, tmp_path / "zc")
    settings = json.loads((tmp_path / "zc" / "run.json").read_text())["optimizer_settings"]
    assert settings["proxies_used"] == auto_proxies(load_table(dataset))
    assert settings["candidates"] == int(np.logical_and.reduce(
        [load_table(dataset).has(p) for p in settings["proxies_used"]]).sum())


def test_zc_run_evaluates_distinct_top_cells(tmp_path):
    """zc evaluates distinct isomorphism classes, refits its weights, and beats chance by far."""
    config = RunConfig(optimizer="zc", dataset="cifar10-valid", budget=Budget.parse("15evals"), seed=0)
    trials = execute_run(config, tmp_path / "zc").rows
    classes = [int(canonical_ids()[t["index"]]) for t in trials]
    assert len(set(classes)) == len(trials) == 15
    assert {t["origin"] for t in trials} == {"zero-cost rank"}
    assert max(t["valid_acc"] for t in trials) > 85.0


def test_re_zc_starts_from_the_top_zero_cost_cells(tmp_path):
    config = RunConfig(optimizer="re-zc", dataset="cifar10-valid", budget=Budget.parse("12evals"), seed=0,
                       options={"population_size": 5})
    trials = execute_run(config, tmp_path / "re").rows
    assert [t["origin"] for t in trials[:5]] == ["zero-cost warm start"] * 5
    assert trials[5]["origin"] == "mutation"


@pytest.mark.parametrize("name", ["zc", "re-zc"])
def test_unknown_proxy_is_bad_input(name, tmp_path):
    from adapters.types import BadInputError

    config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse("3evals"), seed=0,
                       options={"proxies": "nope"})
    with pytest.raises(BadInputError, match="nope"):
        execute_run(config, tmp_path / "x")


def test_proxy_time_charged_only_when_asked(tmp_path):
    """charge_proxy_time adds the proxies' table time to the first trial's cost, and only then."""
    from harness.running.budget import Budget
    from harness.running.runner import RunConfig, execute_run

    runs = {}
    for charge in (False, True):
        config = RunConfig(optimizer="zc", options={"charge_proxy_time": charge, "proxies": "synflow,params"}, dataset="cifar10-valid",
                           budget=Budget.parse("3evals"), seed=0)
        runs[charge] = execute_run(config, tmp_path / str(charge)).rows
    plain, charged = runs[False], runs[True]
    assert [t["index"] for t in plain] == [t["index"] for t in charged]
    from adapters.optimizers import make_optimizer
    from benchmarks import open_benchmark
    from adapters.protocols import SearchProblem

    zc = make_optimizer("zc", {"proxies": "synflow,params"})
    zc.setup(SearchProblem(fidelity=open_benchmark().fidelity_space("cifar10-valid"), seed=0))
    proxy_s = zc.settings()["proxy_cost_s"]
    assert proxy_s > 0
    assert charged[0]["cost_s"] == pytest.approx(plain[0]["cost_s"] + proxy_s)
    assert [t["cost_s"] for t in charged[1:]] == [t["cost_s"] for t in plain[1:]]


def test_smac_zc_initial_puts_the_top_zero_cost_cells_in_its_initial_design(tmp_path):
    """The warm start's cells head SMAC's initial design, and the run records which proxies chose them."""
    import json

    from adapters.optimizers._zerocost import zero_cost_top_cells

    options = {"zc_initial": 3, "zc_proxies": "synflow,params", "n_initial": 2}
    config = RunConfig(optimizer="smac-hpo", dataset="cifar10-valid", budget=Budget.parse("5evals"), seed=0,
                       options=options)
    trials = execute_run(config, tmp_path / "smac").rows
    top, names = zero_cost_top_cells(3, 0, "cifar10-valid", "synflow,params")
    assert names == ("synflow", "params")
    assert [t["index"] for t in trials[:3]] == top  # the warm start comes first, then SMAC's own design
    assert {t["origin"] for t in trials[:3]} == {"Initial design: zero-cost warm start"}
    assert all(t["origin"] != "Initial design: zero-cost warm start" for t in trials[3:])
    settings = json.loads((tmp_path / "smac" / "run.json").read_text())["optimizer_settings"]
    assert settings["zc_proxies_used"] == ["synflow", "params"]


def test_weighting_command_prints_a_labelled_offline_table(capsys):
    from harness.cli import main

    with pytest.raises(SystemExit) as done:
        main(["zerocost", "weighting", "--proxies", "synflow,params", "--fit", "20", "--seeds", "2"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("OFFLINE ANALYSIS")
    row = [line for line in out.splitlines() if line.startswith("| synflow, params (15,625) | 20 |")]
    assert len(row) == 1
    weighted = float(row[0].split("|")[3].split()[0])
    assert 0.6 < weighted < 0.9  # synflow and params each rank cells at about 0.7


def test_transfer_weighting_scores_source_weights_on_the_target():
    """Weights fitted where 'good' is informative transfer to a like target, and fail on a reversed one."""
    table, target = _synthetic_table()
    like = transfer_weighting(table, target, table, target, ["good", "noise"], n_fit=50, seed=1)
    assert like["rho_transferred"] > 0.95 and like["rho_native"] > 0.95
    assert like["source_cells"] == NUM_CELLS and like["n_test"] == NUM_CELLS - 50
    reversed_target = ZeroCostTable("cifar100", {"good": -table.columns["good"], "noise": table.columns["noise"]}, {})
    flipped = transfer_weighting(table, target, reversed_target, target, ["good", "noise"], n_fit=50, seed=1)
    assert flipped["rho_transferred"] < -0.9 < 0.9 < flipped["rho_native"]


def test_transfer_command_prints_a_labelled_offline_table(capsys):
    from harness.cli import main

    with pytest.raises(SystemExit) as done:
        main(["zerocost", "transfer", "--targets", "ImageNet16-120", "--proxies", "params,flops", "--fit", "20",
              "--seeds", "1"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("OFFLINE ANALYSIS") and "| ImageNet16-120 | params, flops (15,625) | 20 |" in out

"""A user's own Optuna sampler: ``optuna:MODULE:Class`` and a local OptunaHub package, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from adapters import Cell
from adapters.optimizers import make_optimizer
from adapters.types import BadInputError

MODULE = "optuna:adapters.examples.local_search:LocalSearchSampler"
HUB = "optunahub:adapters/examples/local_search:LocalSearchSampler"


def _run(args: list[str], root) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(root)}
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("spec", [MODULE, HUB])
def test_example_sampler_runs_with_its_options_as_keywords(spec, data_root, tmp_path):
    """--set reaches the sampler's __init__; after its random start every trial changes one edge of the best."""
    out = tmp_path / "run"
    done = _run(["--optimizer", spec, "--set", "n_startup_trials=4", "--budget", "15evals", "--seed", "2",
                 "--out", str(out)], data_root)
    assert done.returncode == 0, done.stderr
    trials = pd.read_parquet(out / "trials.parquet")
    settings = json.loads((out / "run.json").read_text())["optimizer_settings"]
    assert settings["sampler"] == "LocalSearchSampler" and settings["n_startup_trials"] == 4
    assert trials["origin"].tolist() == ["independent sampling (random)"] * 4 + ["relative sampling (model)"] * 11
    for n in range(4, len(trials)):
        best = trials.iloc[trials["valid_acc"].iloc[:n].idxmax()]
        changed = sum(a != b for a, b in zip(Cell.from_index(int(best["index"])).ops,
                                             Cell.from_index(int(trials["index"].iloc[n])).ops, strict=True))
        assert changed == 1
    assert (out / "optuna.journal").exists()  # the same live study as the shipped samplers


def test_both_syntaxes_run_the_same_sampler(data_root, tmp_path):
    """The module and the OptunaHub package are one sampler: equal seeds ask for equal cells."""
    cells = []
    for name, spec in (("module", MODULE), ("hub", HUB)):
        assert _run(["--optimizer", spec, "--budget", "12evals", "--out", str(tmp_path / name)], data_root).returncode == 0
        cells.append(pd.read_parquet(tmp_path / name / "trials.parquet")["index"].tolist())
    assert cells[0] == cells[1]


def test_any_optuna_sampler_by_module_path():
    """A library sampler works too; its keyword defaults become options, typed from the default."""
    opt = make_optimizer("optuna:optuna.samplers:TPESampler", {"n_startup_trials": "3", "multivariate": "True"})
    assert opt.options["n_startup_trials"] == 3 and opt.options["multivariate"] is True


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("optuna:adapters.examples.grid:GridSearch", {}, "not a subclass of optuna.samplers.BaseSampler"),
        ("optuna:no.such.module:Sampler", {}, "cannot load sampler"),
        ("optunahub:docs:LocalSearchSampler", {}, "not an OptunaHub package"),
        ("optuna:LocalSearchSampler", {}, "use optuna:MODULE:Class"),
        (MODULE, {"n_changes": "x"}, "must be an integer"),
        (MODULE, {"n_changes": "0"}, "must be at least 1"),
    ],
)
def test_bad_sampler_specs_are_bad_input(spec, options, message, tmp_path):
    with pytest.raises(BadInputError, match=message):
        opt = make_optimizer(spec, options)
        opt.sampler_factory(0)

"""The behaviour guard of refactors: ``make run``'s spec, reduced, still gives the same trials.

``tests/data/fingerprint.json`` was taken before the runner was split into parts (issue 23).
It holds, per run, a hash of every trial's cell, fidelity, value and status in the order the
trials were told (``trials``), and a hash of how each was priced and scheduled: fidelity
asked, where it continued from, data seed, budget charge and simulated start and end
(``pricing``). The reduced spec is ``experiments/nb201_cifar10.toml``'s quick profile with
every optimizer (smac-bb included), one seed and a smaller budget; a few runs beyond it cover
what that spec does not reach: several simulated workers, evals and full-fidelity budgets,
seed-mean data, and an epoch axis with per-epoch pruning and continued promotions.

A change that alters any trial fails here. Regenerate only for an intended change of
behaviour, and say so in the commit::

    HPO2NAS_WRITE_FINGERPRINT=1 .venv/bin/python -m pytest tests/test_fingerprint.py -q
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks import open_benchmark
from harness.running.budget import Budget
from harness.compare import plan_runs
from harness.running.runner import RunConfig, execute_run
from harness.running.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "experiments" / "nb201_cifar10.toml"
FINGERPRINT = Path(__file__).parent / "data" / "fingerprint.json"
#: The reduced quick profile: one seed, about 24 full 200-epoch trainings (model-based picks after the initial designs).
SEED, BUDGET = 0, "45000s"
DATASET = "cifar10-valid"

#: Runs beyond the spec's grid: (label, store, RunConfig fields).
EXTRA: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("random@4", "default", dict(optimizer="random", budget="60000s", workers=4)),
    ("re@4", "default", dict(optimizer="re", budget="60000s", workers=4)),
    ("optuna-tpe@3", "default", dict(optimizer="optuna-tpe", budget="40000s", workers=3)),
    ("re-evals", "default", dict(optimizer="re", budget="15evals", seed=2)),
    ("random-full-mean", "default", dict(optimizer="random", budget="6full", data_seeds="mean")),
    ("tpe-median-curves", "curves", dict(optimizer="optuna-tpe", options={"pruner": "median"}, budget="20000s")),
    ("dehb-continue-curves", "curves", dict(optimizer="dehb", budget="20000s", continue_promotions=True)),
    ("smac-hb-curves", "curves", dict(optimizer="smac-hb", budget="15000s")),
)

_TRIAL_FIELDS = ("index", "fidelity", "valid_acc", "status")
_PRICING_FIELDS = ("trial", "worker", "fidelity_asked", "continued_from", "data_seed", "cost_s", "budget_charged",
                   "sim_start_s", "sim_end_s")


def _digest(trials: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    rows = [[_plain(t[f]) for f in fields] for t in trials]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """A JSON value that is equal exactly when the trial value is (floats by their full repr)."""
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value if value is None or isinstance(value, (int, str, bool)) else str(value)


def _grid(data_root: Path) -> list[tuple[str, RunConfig]]:
    """The spec's quick grid, reduced to one seed and a smaller budget, with nothing skipped."""
    spec = load_spec(SPEC)
    quick = spec.profile("quick")
    profile = replace(quick, seeds=(SEED,), budget=Budget.parse(BUDGET), skip={})
    runs, excluded = plan_runs(spec, profile, open_benchmark(spec.store, root=data_root))
    assert not excluded, f"the reduced spec should run every optimizer: {excluded}"
    return [(run.label, run.config) for run in runs]


def _extra() -> list[tuple[str, str, RunConfig]]:
    out = []
    for label, store, fields in EXTRA:
        fields = {"seed": SEED, **fields, "budget": Budget.parse(fields["budget"])}
        out.append((label, store, RunConfig(dataset=DATASET, store=store, label=label, **fields)))
    return out


def _fingerprint(data_root: Path, curves_root: Path, out: Path) -> dict[str, dict[str, Any]]:
    roots = {"default": data_root, "curves": curves_root}
    planned = [(label, "default", config) for label, config in _grid(data_root)] + _extra()
    prints = {}
    for label, store, config in planned:
        trials = execute_run(config, out / label, root=roots[store]).rows
        prints[label] = {"n_trials": len(trials), "trials": _digest(trials, _TRIAL_FIELDS),
                         "pricing": _digest(trials, _PRICING_FIELDS)}
    return prints


def test_trials_match_the_fingerprint_taken_before_the_refactor(data_root, curves_root, tmp_path):
    """Every run of the reduced spec (and the extra runs) tells the same trials, priced the same, as before."""
    prints = _fingerprint(data_root, curves_root, tmp_path)
    if os.environ.get("HPO2NAS_WRITE_FINGERPRINT"):
        FINGERPRINT.parent.mkdir(exist_ok=True)
        FINGERPRINT.write_text(json.dumps({"spec": SPEC.name, "seed": SEED, "budget": BUDGET, "runs": prints},
                                          indent=1) + "\n")
        pytest.skip(f"wrote {FINGERPRINT}")
    expected = json.loads(FINGERPRINT.read_text())["runs"]
    assert sorted(prints) == sorted(expected)
    changed = {label: (expected[label], prints[label]) for label in prints if prints[label] != expected[label]}
    assert not changed, f"runs whose trials changed (expected, got): {changed}"

"""Real runs for the report tests: small execute_run calls on the default store, made once per session.

The report and transfer tests read the same runs, so they are cached here by their
arguments (pytest's session fixtures live in conftest.py, which these tests leave alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from harness.running.budget import Budget
from harness.running.records import load_trials
from harness.running.runner import RunConfig, execute_run

OPTIMIZERS = ("random", "re", "optuna-random")
SEEDS = (0, 1, 2, 3)
BUDGET = "100000s"
DATASET = "cifar10-valid"

_CACHE: dict[tuple, pd.DataFrame] = {}


def make_trials(
    root: Path,
    factory: pytest.TempPathFactory,
    optimizers: Sequence[str] = OPTIMIZERS,
    seeds: Sequence[int] = SEEDS,
    budget: str = BUDGET,
) -> pd.DataFrame:
    """Run every optimizer on every seed on cifar10-valid and return the concatenated trials.parquet."""
    key = (str(root), tuple(optimizers), tuple(seeds), budget)
    if key not in _CACHE:
        out = factory.mktemp("runs")
        frames = []
        for optimizer in optimizers:
            for seed in seeds:
                config = RunConfig(optimizer=optimizer, dataset=DATASET, budget=Budget.parse(budget), seed=seed)
                frames.append(load_trials(execute_run(config, out / f"{optimizer}-s{seed}", root=root).folder))
        _CACHE[key] = pd.concat(frames, ignore_index=True)
    return _CACHE[key].copy()

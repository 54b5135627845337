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


def resumed_after_stop(config: RunConfig, folder: Path, stop_at: int) -> list[dict]:
    """Run ``config`` into ``folder``, stop it (as a kill would) after ``stop_at`` trials are told, resume it,
    and return the resumed run's trials keyed for comparison (the measured wall times left out)."""

    class Stopped(Exception):
        pass

    def stop(trials: int, used: float, incumbent: float | None) -> None:
        if trials == stop_at:
            raise Stopped

    with pytest.raises(Stopped):
        execute_run(config, folder, progress=stop)
    return comparable(execute_run(config, folder, resume=True).rows)


def comparable(rows: list[dict]) -> list[dict]:
    """Trial rows without what is measured on the machine (wall and overhead time), for equality checks."""
    return [{k: v for k, v in row.items() if k not in ("wall_s", "overhead_s")} for row in rows]

"""Shared by the DeepCAVE tests: what they need from the machine, and small runs to export."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.running.budget import Budget
from harness.dashboards.deepcave import deepcave_python
from harness.running.runner import RunConfig, execute_run


def require(*programs: str, deepcave: bool = False) -> None:
    """Skip where the machine lacks a part, but fail in CI, where ``make test`` installs them all."""
    missing = [p for p in programs if shutil.which(p) is None]
    if deepcave and not deepcave_python().exists():
        missing.append(str(deepcave_python()))
    if missing:
        reason = f"missing {', '.join(missing)}: `make test` installs them (scripts/ensure-debian.sh, .venv-deepcave)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


def make_run(parent: Path, data_root: Path, name: str = "run", optimizer: str = "random", evals: int = 3) -> Path:
    """A real, complete run folder of the default store (a few trials: fast)."""
    folder = parent / name
    config = RunConfig(optimizer=optimizer, dataset="cifar10-valid", budget=Budget.parse(f"{evals}evals"), seed=0)
    execute_run(config, folder, root=data_root)
    return folder

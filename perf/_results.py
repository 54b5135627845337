"""Where a perf script's figures go, and its ``--smoke`` flag, shared by every script in perf/.

A smoke run (``--smoke``) runs each code path of a script at the smallest size, in seconds, so
``tests/test_perf_smoke.py`` catches a script that breaks; its figures mean nothing, so they go
to a throwaway folder instead of ``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "add_smoke", "results_path", "smoke_spec", "write_results"]


def add_smoke(parser: argparse.ArgumentParser) -> None:
    """The ``--smoke`` flag, worded alike in every script."""
    parser.add_argument("--smoke", action="store_true",
                        help="every code path at the smallest size, in seconds (figures to a temporary folder)")


def results_path(name: str, smoke: bool) -> Path:
    """``results/NAME`` in the repository, or a throwaway folder's NAME for a smoke run."""
    folder = Path(tempfile.mkdtemp(prefix="hpo2nas-perf-smoke-")) if smoke else ROOT / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def write_results(path: Path, record: Any) -> Path:
    """Write ``record`` as JSON atomically (temp file, then rename); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def smoke_spec(folder: Path) -> Path:
    """A spec for a smoke run of a script that times ``hpo2nas compare``: random search, one seed, 3 trials."""
    spec = folder / "smoke.toml"
    spec.write_text('name = "smoke"\ndatasets = ["cifar10-valid"]\n[profiles.quick]\nseeds = [0]\nbudget = "3evals"\n'
                    "[optimizers.random]\n")
    return spec

"""The data and query commands end to end, in a subprocess, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def hpo2nas(*args: str, env_root) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(env_root)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_query_json(data_root):
    """query --json prints one object with the required fields and the known optimum."""
    out = hpo2nas("query", "333132", "--dataset", "cifar10-valid", "--seed-mean", "--json", env_root=data_root)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["index"] == 6111 and record["valid_acc"] == pytest.approx(91.607, abs=1e-3)
    assert record["test_acc"] == pytest.approx(94.373, abs=1e-3) and record["seed"] == "mean"
    assert record["split"]["valid_acc"].startswith("x-valid") and record["split"]["test_acc"].startswith("ori-test")


def test_query_per_seed_shows_the_seed_mean_test_accuracy(data_root):
    """The default store has test accuracy as seed means only: a per-seed query says so and shows the mean."""
    out = hpo2nas("query", "333132", "--dataset", "cifar10-valid", "--seed", "1", env_root=data_root)
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.strip().startswith("test_acc"))
    assert "n/a for seed 1; seed mean 94.373 (the store has no per-seed value)" in line
    as_json = json.loads(hpo2nas("query", "333132", "--dataset", "cifar10-valid", "--seed", "1", "--json",
                                 env_root=data_root).stdout)
    assert as_json["test_acc"] is None and as_json["seed"] == 1


def test_best_and_list_and_verify(data_root):
    """data best/list/verify succeed on the default store."""
    best = hpo2nas("data", "best", "--dataset", "imagenet16", "--json", env_root=data_root)
    assert json.loads(best.stdout)["index"] == 10676
    listing = hpo2nas("data", "list", env_root=data_root)
    assert listing.returncode == 0 and "default" in listing.stdout
    assert hpo2nas("data", "verify", env_root=data_root).returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("query", "99999", "--dataset", "cifar10-valid"),
        ("query", "|bad|", "--dataset", "cifar10-valid"),
        ("query", "1", "--dataset", "cifar10"),
        ("query", "1", "--dataset", "cifar10-valid", "--seed", "1", "--seed-mean"),
        ("data", "import", "/no/such/file.csv"),
        ("data", "best", "--dataset", "mnist"),
        ("data", "import", "/etc/hostname", "--format", "nope"),
    ],
)
def test_bad_input_exits_2_with_one_line(data_root, args):
    """Bad input: exit code 2, one line on stderr, no traceback."""
    out = hpo2nas(*args, env_root=data_root)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpo2nas: error:"), out.stderr
    assert "Traceback" not in out.stderr


def test_the_guide_lists_the_optimizers_as_the_cli_does(data_root):
    """docs/running.md shows `hpo2nas optimizers` verbatim, so its defaults cannot go stale."""
    from pathlib import Path

    out = hpo2nas("optimizers", env_root=data_root)
    assert out.returncode == 0, out.stderr
    guide = (Path(__file__).parents[1] / "docs" / "running.md").read_text()
    listed = guide.split("```text\n", 1)[1].split("```", 1)[0]
    assert listed == out.stdout

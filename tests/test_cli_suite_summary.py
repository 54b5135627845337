"""``hpo2nas data summary --benchmark NAME [--json]`` end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest


def hpo2nas(*args: str, root) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(root)}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env, timeout=300)


def test_transnas_summary_json_gives_every_tasks_optimum(data_root) -> None:
    """Seven tasks, 4,096 cells each, each with its own metric, direction and the shipped file's maximum."""
    from benchmarks.suites._transnas import shipped_path

    out = hpo2nas("data", "summary", "--benchmark", "transnas-micro", "--json", root=data_root)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["benchmark"] == "transnas-micro" and len(body["tasks"]) == 7
    with np.load(shipped_path()) as data:
        for task, entry in body["tasks"].items():
            (metric,) = entry["metrics"].values()
            assert entry["configs"] == 4096 and entry["budget_kinds"] == ["evaluations"]
            assert metric["best"] == float(data[task].max()) and metric["direction"] == "max"
    assert body["tasks"]["room_layout"]["objective"] == "valid_neg_loss"


def test_nb201_summary_json_and_the_unchanged_default(data_root, default_bench) -> None:
    """nb201 is the default: the plain command prints what it always did; --json adds params and latency optima."""
    plain = hpo2nas("data", "summary", root=data_root)
    assert plain.returncode == 0 and plain.stdout.startswith("store 'default'")
    body = json.loads(hpo2nas("data", "summary", "--json", root=data_root).stdout)
    entry = body["tasks"]["cifar10-valid"]
    assert entry["configs"] == 15625 and entry["metrics"]["valid_acc"]["row"] == 6111
    assert entry["metrics"]["params_m"]["direction"] == "min"


@pytest.mark.parametrize("args,words", [
    (("--benchmark", "nb101"), "unknown benchmark 'nb101'"),
    (("--benchmark", "hpolib", "--store", "other"), "--store reads NB201 stores only"),
])
def test_bad_benchmark_input_is_one_line_and_exit_2(data_root, args, words) -> None:
    out = hpo2nas("data", "summary", *args, "--json", root=data_root)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], out.stderr

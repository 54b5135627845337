"""Experiment specs and the Dask-backed compare, end to end on a small spec."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from harness.compare import compare
from harness.running.spec import load_spec
from adapters.types import BadInputError

SMALL = """
name = "small"
store = "flat"
datasets = ["cifar10-valid"]
output = "{out}"
[profiles.quick]
seeds = [0, 1, 2]
budget = "40000s"
[profiles.quick.skip]
optuna-tpe = "left out on purpose by this test"
[optimizers.random]
[optimizers.re]
population_size = 5
[optimizers.optuna-tpe]
[optimizers.tpe-hyperband]
optimizer = "optuna-tpe"
pruner = "hyperband"
"""


def _spec(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(text.format(out=tmp_path / "out")))
    return path


def test_shipped_specs_validate():
    """Every spec in experiments/ loads and validates."""
    for path in sorted(Path("experiments").glob("*.toml")):
        spec = load_spec(path)
        assert spec.profiles and spec.optimizers


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("budget = \"40000s\"", "budget = \"-5s\""), "malformed budget"),
        (("seeds = [0, 1, 2]", "seeds = []"), "non-empty list"),
        (("[optimizers.random]", "[optimizers.random]\nreplace = \"maybe\""), "must be true or false"),
        (("[optimizers.random]", "[optimizers.nope]"), "unknown optimizer 'nope'"),
        (("name = \"small\"", "name = \"small\"\ncolour = 1"), "unknown key 'colour'; allowed:"),
        (("optuna-tpe = ", "smac-xyz = "), "skip names unknown optimizer 'smac-xyz'"),
        (("data_seeds", "data_seeds"), None),
    ],
)
def test_spec_errors_name_the_bad_key(tmp_path, edit, message):
    """Invalid specs fail with a message naming the key and the allowed values."""
    text = SMALL.replace(*edit)
    if message is None:
        text = text.replace('datasets = ["cifar10-valid"]', 'datasets = ["cifar10-valid"]\ndata_seeds = "often"')
        message = "must be one of random, mean"
    with pytest.raises(BadInputError, match=message.replace("(", r"\(")):
        load_spec(_spec(tmp_path, text))


def test_compare_end_to_end_on_dask(tmp_path, flat_store):
    """A small spec runs on a 2-worker LocalCluster, excludes what cannot run, resumes without redoing."""
    spec = load_spec(_spec(tmp_path))
    seen = []
    result = compare(spec, "quick", progress=lambda done, total: seen.append((done, total)))
    excluded = dict(result.excluded)
    assert "left out on purpose" in excluded["optuna-tpe"]
    assert "no fidelity axis" in excluded["tpe-hyperband"]
    trials = pd.read_parquet(result.out / "trials.parquet")
    assert set(trials["optimizer"]) == {"random", "re"}
    assert trials.groupby("optimizer")["seed"].nunique().to_dict() == {"random": 3, "re": 3}
    assert seen[-1] == (6, 6)
    runs = sorted((result.out / "runs").iterdir())
    assert len(runs) == 6 and all(json.loads((r / "run.json").read_text())["status"] == "complete" for r in runs)
    stamps = {r.name: (r / "trials.parquet").stat().st_mtime_ns for r in runs}
    # an interrupted compare: one run's folder lost; the rerun redoes only that one
    import shutil

    shutil.rmtree(runs[0])
    assert "were complete from an earlier one" not in result.report.read_text()
    again = compare(spec, "quick")
    assert sorted(p.name for p in (again.out / "runs").iterdir()) == sorted(stamps)
    for r in runs[1:]:
        assert (r / "trials.parquet").stat().st_mtime_ns == stamps[r.name]
    timing = ["wall_s", "overhead_s"]  # real optimizer time differs between reruns; nothing else may
    rerun = pd.read_parquet(again.out / "trials.parquet").drop(columns=timing).sort_values(["run_id", "trial"])
    pd.testing.assert_frame_equal(rerun.reset_index(drop=True),
                                  trials.drop(columns=timing).sort_values(["run_id", "trial"]).reset_index(drop=True))
    if result.report is not None:
        assert result.report.exists() and "random" in result.report.read_text()
        # the rerun's wall time is its own, and its report says so
        assert "(this invocation; 5 of the 6 runs were complete from an earlier one)" in again.report.read_text()


def test_compare_on_an_existing_cluster(tmp_path, flat_store):
    """--scheduler: the grid runs on an existing Dask cluster; workers get the store from the client."""
    from dask.distributed import LocalCluster

    text = SMALL.replace("seeds = [0, 1, 2]", "seeds = [7, 8]").replace("[optimizers.re]\npopulation_size = 5\n", "")
    spec = load_spec(_spec(tmp_path, text))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = compare(spec, "quick", scheduler=cluster.scheduler_address)
    trials = pd.read_parquet(result.out / "trials.parquet")
    assert set(trials["optimizer"]) == {"random"} and set(trials["seed"]) == {7, 8}
    assert (result.out / "report.md").exists()

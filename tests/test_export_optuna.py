"""``hpo2nas export optuna``: every optimizer's runs as Optuna studies that ``optuna.load_study`` opens.

Each registered optimizer runs a few trials (multi-fidelity ones on the synthetic curves
store), the folder is exported into a new journal and into SQLite, and each study must hold
exactly the rows of its trials.parquet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import optuna
import pytest
from _optuna_tools import assert_study_is_records

from adapters.files import TEMP_MARK
from adapters.optimizers import OPTIMIZERS, make_optimizer
from adapters.optimizers.optuna_study import JOURNAL_NAME, open_storage
from harness.running.budget import Budget
from harness.exports.optuna import export_optuna
from harness.running.records import load_trials
from harness.running.runner import RunConfig, execute_run
from adapters.types import BadInputError

#: Every registered optimizer, the shipped example, and one multi-objective run.
RUNS = [(name, ("valid_acc",)) for name in sorted(OPTIMIZERS)] + [
    ("adapters.examples.grid:GridSearch", ("valid_acc",)),
    ("optuna-tpe", ("valid_acc", "params")),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_root, curves_root) -> Path:
    out = tmp_path_factory.mktemp("runs")
    for name, objectives in RUNS:
        store = "curves" if make_optimizer(name).multi_fidelity else "default"
        config = RunConfig(optimizer=name, dataset="cifar10-valid", budget=Budget.parse("4evals"), seed=0,
                           store=store, objectives=objectives)
        folder = out / f"{name.replace(':', '_')}-{len(objectives)}"
        execute_run(config, folder, root=curves_root if store == "curves" else data_root)
    return out


def _run_ids(runs: Path) -> dict[str, Path]:
    return {json.loads((folder / "run.json").read_text())["run_id"]: folder for folder in runs.iterdir()}


def _check_export(runs: Path, url: str) -> None:
    names = export_optuna(runs, url)
    ids = _run_ids(runs)
    assert sorted(names) == sorted(ids)
    storage = open_storage(url)
    for run_id, folder in ids.items():
        config = json.loads((folder / "run.json").read_text())["config"]
        study = optuna.load_study(study_name=run_id, storage=storage)
        assert study.user_attrs["run_id"] == run_id and study.user_attrs["optimizer"] == config["label"]
        assert_study_is_records(study, load_trials(folder), tuple(config.get("objectives", ["valid_acc"])))


def test_every_optimizer_exports_exactly_its_rows(runs, tmp_path):
    _check_export(runs, str(tmp_path / "studies.journal"))


def test_sqlite_export(runs, tmp_path):
    """An RDB storage takes the same studies (three runs: SQLite commits each trial on its own)."""
    some = tmp_path / "some"
    for name in ("smac-hpo-1", "dehb-1", "optuna-tpe-2"):
        shutil.copytree(runs / name, some / name)
    _check_export(some, f"sqlite:///{tmp_path / 'studies.db'}")


def test_export_equals_the_live_study_of_an_optuna_run(runs, tmp_path):
    """An exported Optuna run is its live study but for the intermediate values (records keep one)."""
    folder = next(f for f in runs.iterdir() if f.name == "optuna-tpe-1")
    run_id = json.loads((folder / "run.json").read_text())["run_id"]
    export_optuna(folder, str(tmp_path / "one.journal"))
    live = optuna.load_study(study_name=run_id, storage=open_storage(str(folder / JOURNAL_NAME)))
    exported = optuna.load_study(study_name=run_id, storage=open_storage(str(tmp_path / "one.journal")))
    assert live.user_attrs == exported.user_attrs
    for a, b in zip(live.trials, exported.trials, strict=True):
        assert (a.params, a.values, a.state, a.user_attrs, a.datetime_start, a.datetime_complete) == (
            b.params, b.values, b.state, b.user_attrs, b.datetime_start, b.datetime_complete)
        assert b.intermediate_values == {b.user_attrs["fidelity"]: b.value}


def test_all_or_nothing(runs, tmp_path):
    """A corrupt run or a study name already taken writes nothing at all."""
    bad = tmp_path / "bad"
    (bad / "broken").mkdir(parents=True)
    good = next(runs.iterdir())
    shutil.copytree(good, bad / good.name)
    (bad / "broken" / "run.json").write_text(json.dumps({"run_id": "x", "status": "complete", "config": {}}))
    (bad / "broken" / "trials.parquet").write_bytes(b"not parquet")
    with pytest.raises(BadInputError, match="corrupt .*broken"):
        export_optuna(bad, str(tmp_path / "new.journal"))
    assert not any(p.name.endswith("journal") or TEMP_MARK in p.name for p in tmp_path.iterdir())

    url = f"sqlite:///{tmp_path / 'taken.db'}"
    export_optuna(good, url)
    with pytest.raises(BadInputError, match="already holds 1 of these studies"):
        export_optuna(runs, url)
    assert len(optuna.get_all_study_names(storage=url)) == 1

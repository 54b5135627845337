"""Live searches from the CLI (issue 25): real trainings behind the runner, on synthetic data the tests make.

Every run here trains NB201 networks for real (tiny: 8x8 images, 256 of them, one torch thread);
nothing is mocked and nothing is downloaded. The done-when test runs TPE with the median pruner
and DEHB, 20 trials each, then both exports; the others check the real-time budget, failed
trainings, kill -9 and resume, ``live agree`` and the one-line refusals.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from harness.running.run_folder import RunFolder

LIVE = ("--benchmark", "live", "--dataset", "synthetic", "--train-set", "device=cpu", "--train-set", "threads=1",
        "--train-set", "batch_size=64")


def _cli(*args: str, data_root: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "HPO2NAS_DATA": str(data_root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _ok(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _one_line_error(out: subprocess.CompletedProcess, *words: str) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("hpo2nas: error:"), out.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def _checkpoint(run: Path, row: pd.Series) -> dict:
    """The live checkpoint of one trial's (cell, training seed) in the run folder."""
    [path] = run.glob(f"live/*/{int(row['index']):05d}-seed{row['data_seed']}.pt")
    return torch.load(path, map_location="cpu", weights_only=False)


def _epoch_seconds(state: dict, after: int, upto: int) -> float:
    return sum(r["train_s"] + r["valid_s"] for r in state["records"] if after < r["epoch"] <= upto)


def _studies(journal: Path) -> dict[str, list[str]]:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(journal)))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return {s.study_name: [t.state.name for t in optuna.load_study(study_name=s.study_name, storage=storage).trials]
            for s in optuna.get_all_study_summaries(storage)}


SPEC = """
name = "live_done_when"
benchmark = "live"
datasets = ["synthetic"]
output = "{out}"
export_deepcave = true
reference = "tpe-median"
[benchmark_options.settings]
epochs = 9
batch_size = 64
device = "cpu"
threads = 1
[profiles.quick]
seeds = [0]
budget = "20evals"
[optimizers.tpe-median]
optimizer = "optuna-tpe"
pruner = "median"
[optimizers.dehb]
"""


def test_live_search_prunes_real_trainings_and_reports(tmp_path, data_root):
    """Done when: TPE with the median pruner and DEHB, 20 live trials each, prune real trainings; report and both exports."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spec = tmp_path / "live.toml"
    spec.write_text(SPEC.format(out=tmp_path / "out"))
    out = tmp_path / "out" / "quick"
    text = _ok(_cli("compare", str(spec), data_root=data_root))
    assert "2 runs, 40 trials" in text
    [tpe] = (out / "runs").glob("tpe-median-*")
    [dehb] = (out / "runs").glob("dehb-*")

    trials = pd.read_parquet(tpe / "trials.parquet")
    assert len(trials) == 20
    pruned = trials[trials["status"] == "pruned"]
    assert len(pruned) >= 3, trials[["index", "fidelity", "status"]]
    for _, row in trials.iterrows():
        state = _checkpoint(tpe, row)
        # the training really stopped where the pruner said: the checkpoint holds no later epoch
        assert len(state["records"]) == row["fidelity"] and row["fidelity_asked"] == 9
        # charged the measured seconds of the epochs it trained, nothing more
        assert row["cost_s"] == pytest.approx(_epoch_seconds(state, 0, row["fidelity"]))
        assert row["device"].startswith("cpu") and row["images_per_s"] > 0 and row["train_wall_s"] >= row["cost_s"]
    assert (pruned["fidelity"] < 9).all() and pruned["cost_s"].median() < trials.loc[trials["status"] == "ok", "cost_s"].median()
    record = json.loads((tpe / "run.json").read_text())
    assert record["config"]["benchmark"] == "live"
    assert record["config"]["benchmark_options"]["settings"]["epochs"] == 9  # every setting recorded, not only overrides
    assert set(record["config"]["benchmark_options"]["settings"]) >= {"lr", "momentum", "weight_decay", "nesterov", "seed"}

    curves = pd.read_parquet(dehb / "trials.parquet")
    assert len(curves) == 20 and set(curves["fidelity"]) <= {1, 3, 9} and curves["fidelity"].nunique() >= 2

    report = (out / "report.md").read_text()
    assert "Live training: every optimizer is charged" in report and "| dehb |" in report and "| tpe-median |" in report
    assert (out / "regret_time_synthetic.png").stat().st_size > 0
    exported = {p.parent.name: pd.read_csv(p) for p in (out / "deepcave").glob("*/trials.csv")}
    assert len(exported) == 2
    by_status = pd.concat(exported.values())["status"].value_counts()
    assert by_status["PRUNED"] == len(pruned) and by_status["SUCCESS"] == 40 - len(pruned)
    assert all("images_per_s" in frame.columns for frame in exported.values())
    journal = tmp_path / "studies.journal"
    _ok(_cli("export", "optuna", str(out), "--storage", str(journal), data_root=data_root))
    states = _studies(journal)
    assert len(states) == 2 and sorted(map(len, states.values())) == [20, 20]
    assert sum(s.count("PRUNED") for s in states.values()) == len(pruned)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # "under 2 minutes on 2 cores", measured as CPU time so that other jobs on a shared machine do not count
    assert (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) < 2 * 120


def test_seconds_budget_charges_measured_time(tmp_path, data_root):
    """A seconds budget charges each trial's measured epoch seconds; the clock is their sum; it stops once spent."""
    run = tmp_path / "run"
    _ok(_cli("run", *LIVE, "--train-set", "epochs=2", "--optimizer", "random", "--budget", "3s", "--out", str(run),
             data_root=data_root))
    trials = pd.read_parquet(run / "trials.parquet")
    record = json.loads((run / "run.json").read_text())
    assert trials["budget_charged"].tolist() == trials["cost_s"].tolist()
    assert trials["sim_end_s"].iloc[-1] == pytest.approx(trials["cost_s"].sum()) == pytest.approx(record["budget_used"])
    assert (trials["sim_start_s"] < 3).all()  # every trial started with budget left
    epochs = []
    for _, row in trials.iterrows():
        state = _checkpoint(run, row)
        assert row["cost_s"] == pytest.approx(_epoch_seconds(state, 0, 2))
        epochs += [r["train_s"] + r["valid_s"] for r in state["records"]]
    # it stopped because the next trial, planned at the median measured epoch times its 2 epochs, did not fit
    assert record["budget_used"] + 2 * float(np.median(epochs)) > 3


def test_failed_trainings_are_recorded_and_the_search_goes_on(tmp_path, data_root):
    """A NaN loss (a huge learning rate) is a failed trial with its reason; Optuna stores FAIL, SMAC goes on."""
    runs = tmp_path / "runs"
    for optimizer, budget in (("optuna-tpe", "4evals"), ("smac-hpo", "3evals")):
        _ok(_cli("run", *LIVE, "--train-set", "epochs=2", "--train-set", "lr=1e9", "--optimizer", optimizer,
                 "--budget", budget, "--out", str(runs / optimizer), data_root=data_root))
    tpe = pd.read_parquet(runs / "optuna-tpe" / "trials.parquet")
    smac = pd.read_parquet(runs / "smac-hpo" / "trials.parquet")
    assert (len(tpe), len(smac)) == (4, 3)
    for frame in (tpe, smac):
        assert (frame["status"] == "failed").all() and frame["valid_acc"].isna().all()
        assert frame["reason"].str.contains("the training loss became nan").all()
        assert (frame["cost_s"] > 0).all() and frame["incumbent_index"].isna().all()
    assert _studies(runs / "optuna-tpe" / "optuna.journal") == {
        json.loads((runs / "optuna-tpe" / "run.json").read_text())["run_id"]: ["FAIL"] * 4}
    journal = tmp_path / "export.journal"
    _ok(_cli("export", "optuna", str(runs), "--storage", str(journal), data_root=data_root))
    assert sorted(map(tuple, _studies(journal).values())) == [("FAIL",) * 3, ("FAIL",) * 4]
    _ok(_cli("export", "deepcave", str(runs), "--out", str(tmp_path / "dc"), data_root=data_root))
    assert set(pd.read_csv(next((tmp_path / "dc").glob("optuna-tpe*/trials.csv")))["status"]) == {"CRASHED"}


def _partial(run: Path, recorded: list[dict]) -> tuple[Path, dict] | None:
    """A checkpoint of a training in progress (no recorded trial owns it, some epochs done), if there is one."""
    owned = {f"{int(r['index']):05d}-seed{r['data_seed']}.pt" for r in recorded}
    for path in run.glob("live/*/*.pt"):
        if path.name not in owned:
            try:
                state = torch.load(path, map_location="cpu", weights_only=False)
            except Exception:  # noqa: BLE001 - replaced between glob and load: look again
                continue
            if 1 <= len(state["records"]) < state["settings"]["epochs"]:
                return path, state
    return None


def test_kill_9_resumes_without_retraining_or_double_counting(tmp_path, data_root):
    """kill -9 mid-training: resume keeps finished trials as they were and continues the partial training, charged once."""
    run = tmp_path / "run"
    args = ("run", *LIVE, "--train-set", "epochs=8", "--optimizer", "re", "--budget", "6evals",
            "--checkpoint-every", "1", "--out", str(run))
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        found = None
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            if (run / "run.json").exists():
                recorded = RunFolder(run, json.loads((run / "run.json").read_text())["config"]).recorded_trials()
                found = _partial(run, recorded) if len(recorded) >= 2 else None
            time.sleep(0.02)
        assert found is not None, "the run ended before a kill could land mid-training"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    partial_path, partial = found
    recorded = RunFolder(run, json.loads((run / "run.json").read_text())["config"]).recorded_trials()
    assert _partial(run, recorded) is not None  # the kill landed mid-training (checked again after the kill)
    finished = {p.name: p.read_bytes() for p in run.glob("live/*/*.pt") if p != partial_path}
    partial = torch.load(partial_path, map_location="cpu", weights_only=False)

    _ok(_cli("run", "--resume", "--out", str(run), data_root=data_root))
    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == 6
    before = pd.DataFrame(recorded)
    kept = ["index", "fidelity", "valid_acc", "cost_s", "train_wall_s", "images_per_s", "device"]
    pd.testing.assert_frame_equal(trials[kept].iloc[: len(before)].reset_index(drop=True), before[kept])
    assert {p.name: p.read_bytes() for p in run.glob("live/*/*.pt") if p.name in finished} == finished  # not retrained
    resumed = trials.iloc[len(before)]
    assert f"{int(resumed['index']):05d}-seed{resumed['data_seed']}.pt" == partial_path.name
    final = torch.load(partial_path, map_location="cpu", weights_only=False)
    done = len(partial["records"])
    assert final["records"][:done] == partial["records"]  # continued from the checkpoint, not retrained
    # charged once: the epochs before the kill at their measured seconds, the new ones, and not the lost one
    assert resumed["cost_s"] == pytest.approx(_epoch_seconds(final, 0, 8))
    assert resumed["fidelity"] == len(final["records"]) == 8


def test_live_agree_on_synthetic_data(tmp_path, data_root, default_bench):
    """`hpo2nas live agree` trains cells across the table's range and states its reduced setting first."""
    out = tmp_path / "agree"
    text = _ok(_cli("live", "agree", "--cells", "3", "--epochs", "2", "--dataset", "synthetic", "--table-dataset",
                    "cifar10-valid", "--train-set", "batch_size=64", "--train-set", "threads=1", "--out", str(out),
                    data_root=data_root))
    lines = text.splitlines()
    assert lines[0].startswith("REDUCED setting (not NB201's): 2 epochs")
    assert any(line.startswith("Spearman ") and "mean difference" in line for line in lines)
    result = json.loads((out / "agree.json").read_text())
    assert len(result["cells"]) == 3 and result["reduced"] and result["statuses"] == ["ok"] * 3
    assert result["table_acc"] == sorted(result["table_acc"])


@pytest.mark.parametrize("extra, words", [
    (("--train-set", "bogus=1"), ("unknown live setting 'bogus'",)),
    (("--train-set", "lr=fast"), ("--train-set lr=fast", "expected float")),
    (("--train-set", "epochs=0"), ("epochs must be a positive integer",)),
    (("--train-set", "device=tpu"), ("device must be auto, cpu, cuda or cuda:N",)),
    (("--workers", "2"), ("2 simulated workers", "trains in real time")),
])
def test_bad_training_settings_are_one_line(tmp_path, data_root, extra, words):
    """An unknown setting, a bad value or simulated workers: one line, exit 2, and no run folder."""
    out = tmp_path / "run"
    _one_line_error(_cli("run", *LIVE, *extra, "--optimizer", "random", "--budget", "2evals", "--out", str(out),
                         data_root=data_root), *words)
    assert not out.exists()


def test_missing_or_malformed_data_is_one_line(tmp_path, data_root):
    """A dataset that is not there, or not what it claims, is named in one line (exit 2); nb201 takes no --data-dir."""
    base = ("run", "--benchmark", "live", "--optimizer", "random", "--budget", "2evals")
    out = tmp_path / "run"
    _one_line_error(_cli(*base, "--dataset", "cifar10-valid", "--out", str(out), data_root=data_root), "give --data-dir")
    _one_line_error(_cli(*base, "--dataset", "cifar10-valid", "--data-dir", str(tmp_path), "--out", str(out),
                         data_root=data_root), "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"not a pickle")
    _one_line_error(_cli(*base, "--dataset", "cifar10-valid", "--data-dir", str(tmp_path), "--out", str(out),
                         data_root=data_root), "data_batch_1", "not a readable pickled batch")
    _one_line_error(_cli(*base, "--dataset", "mnist", "--out", str(out), data_root=data_root), "unknown live dataset")
    _one_line_error(_cli("run", "--optimizer", "random", "--budget", "2evals", "--data-dir", str(tmp_path),
                         "--out", str(out), data_root=data_root), "for --benchmark live")
    assert not out.exists()


def test_real_workers_train_live_trials_on_one_study(tmp_path, data_root):
    """`--processes 2` on a journal study: each worker opens the live benchmark from the study's settings, trains,
    and charges what it measured; the checkpoints go to --out."""
    out = tmp_path / "out"
    journal = tmp_path / "study.journal"
    text = _ok(_cli("run", *LIVE, "--train-set", "epochs=2", "--optimizer", "optuna-tpe", "--budget", "4evals",
                    "--storage", str(journal), "--study", "live", "--processes", "2", "--out", str(out),
                    data_root=data_root))
    summary = json.loads(text.strip().splitlines()[-1])
    assert summary["complete"] == 4 and summary["budget_charged"] == 4 and summary["exit_codes"] == [0, 0]
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="live", storage=JournalStorage(JournalFileBackend(str(journal))))
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    settings = study.user_attrs["hpo2nas_settings"]
    assert settings["benchmark"] == "live" and dict(settings["benchmark_options"])["settings"]["epochs"] == 2
    for trial in complete:
        attrs = trial.user_attrs
        assert attrs["device"].startswith("cpu") and attrs["images_per_s"] > 0 and attrs["sim_cost_s"] > 0
        assert len(list(out.glob(f"live/*/{attrs['cell_index']:05d}-seed{attrs['data_seed']}.pt"))) == 1
    assert len(list(out.glob("live/*/*.pt"))) == 4


@pytest.mark.parametrize("extra, message", [
    ({"datasets": ["synthetic", "cifar10-valid"]}, "a live spec trains on one dataset"),
    ({"benchmark_options": {"foo": 1}}, "unknown key 'foo'"),
    ({"benchmark_options": {"settings": {"lr": "x"}}}, "live setting lr must be a finite number"),
    ({"benchmark_options": {"data_dir": "/data"}}, "takes no --data-dir"),
    ({"benchmark": "tables"}, "key 'benchmark' must be one of"),
])
def test_live_spec_is_checked_when_parsed(extra, message):
    """A live spec's benchmark options are validated (and completed) when the spec is read, not mid-compare."""
    from adapters.errors import BadInputError
    from harness.running.spec import parse_spec

    body = {"name": "x", "benchmark": "live", "datasets": ["synthetic"], "profiles": {"q": {"seeds": [0], "budget": "2evals"}},
            "optimizers": {"random": {}}}
    spec = parse_spec({**body, "benchmark_options": {"settings": {"epochs": 3}}})
    assert spec.benchmark_options["settings"]["epochs"] == 3 and spec.benchmark_options["settings"]["lr"] == 0.1
    with pytest.raises(BadInputError, match=message):
        parse_spec({**body, **extra})


def test_time_budgets_take_minutes_and_hours():
    """`--budget 2h` (a live run's two hours) and `30min` are seconds budgets; other suffixes stay malformed."""
    from adapters.errors import BadInputError
    from harness.running.budget import Budget

    assert Budget.parse("2h") == Budget("seconds", 7200.0) and Budget.parse("30min") == Budget("seconds", 1800.0)
    assert str(Budget.parse("1.5h")) == "5400s"
    with pytest.raises(BadInputError, match="malformed budget '2hours'; use e.g. 500000s, 2h"):
        Budget.parse("2hours")

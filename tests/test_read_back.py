"""Files read back (issue 21): each repro of the issue is one line and exit 2, or works, and nothing is lost.

Every file hpo2nas writes and reads again (run.json, the checkpoint journal, trials.parquet, an
Optuna journal, a store's manifest and arrays, a zero-cost checkpoint) is damaged the way the
issue found it damaged; the command that reads it must say which file (and field) in one line.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli_fuzz import invoke

from adapters.files import TEMP_MARK
from harness.running.records import IDENTITY_COLUMNS, TRIAL_COLUMNS, load_trials
from harness.running.run_folder import JOURNAL
from harness.running.runner import RunConfig


class _Stop(Exception):
    """Raised from a progress callback: the run stops as a kill would leave it (journal, status running)."""


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, default_bench, data_root) -> Path:
    """A run folder stopped after 30 of 60 trials: run.json says running, journal.bin holds the trials."""
    from harness.running.budget import Budget
    from harness.running.runner import execute_run

    out = tmp_path_factory.mktemp("interrupted") / "run"
    config = RunConfig(optimizer="re", dataset="cifar10-valid", budget=Budget.parse("60evals"), seed=0,
                       checkpoint_every=5)

    def stop(trials: int, fraction: float, best: float | None) -> None:
        if trials >= 30:
            raise _Stop

    with pytest.raises(_Stop):
        execute_run(config, out, progress=stop, root=data_root)
    assert (out / JOURNAL).exists() and not (out / "trials.parquet").exists()
    return out


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def one_line(code: int, err: str, *needles: str) -> str:
    """Exit 2 with exactly one error line holding every needle; return it."""
    lines = [line for line in err.splitlines() if line.startswith("hpo2nas: error:")]
    assert code == 2 and len(lines) == 1, err
    assert "Traceback" not in err and all(n in lines[0] for n in needles), lines[0]
    return lines[0]


def _edit_run_json(folder: Path, edit) -> None:
    body = json.loads((folder / "run.json").read_text())
    edit(body)
    (folder / "run.json").write_text(json.dumps(body))


@pytest.mark.parametrize(("damage", "needles"), [
    (lambda f: (f / "run.json").write_text("[1]"), ("run.json", "must be an object")),
    (lambda f: (f / "run.json").write_bytes(b"\xff\xfe\x00"), ("run.json", "not UTF-8")),
    (lambda f: _edit_run_json(f, lambda b: b["config"]["budget"].pop("include_overhead")),
     ("run.json", "config.budget.include_overhead", "missing")),
    (lambda f: _edit_run_json(f, lambda b: b["config"].pop("budget")), ("run.json", "config.budget", "missing")),
    (lambda f: _edit_run_json(f, lambda b: b["config"].update(colour=1)), ("run.json", "config.colour", "not a known")),
    (lambda f: _edit_run_json(f, lambda b: b["config"].update(options=[1])), ("run.json", "config.options")),
    (lambda f: _edit_run_json(f, lambda b: b["config"].update(seed=5)),
     ("run.json", "config.seed was changed")),
])
def test_resume_refuses_a_damaged_run_json(interrupted, tmp_path, damage, needles):
    """--resume on a run.json that is not what the run wrote: one line naming the file and the field."""
    run = _copy(interrupted, tmp_path)
    damage(run)
    before = (run / JOURNAL).read_bytes()
    one_line(*invoke(["run", "--resume", "--out", str(run)]), *needles)
    assert (run / JOURNAL).read_bytes() == before


def test_resume_refuses_a_well_formed_frame_of_the_wrong_shape(interrupted, tmp_path):
    """A whole journal frame that unpickles to rows of the wrong shape is refused, not half-replayed."""
    run = _copy(interrupted, tmp_path)
    frame = pickle.dumps([(1, 2)])
    with open(run / JOURNAL, "ab") as fh:
        fh.write(len(frame).to_bytes(8, "little") + frame)
    row = len(TRIAL_COLUMNS) - len(IDENTITY_COLUMNS)  # what the runner records per trial of an NB201 run
    one_line(*invoke(["run", "--resume", "--out", str(run)]), "journal.bin", f"][0]: must be a row of {row} values")


class _MakesFolder:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_resume_never_unpickles_a_class_from_the_journal(interrupted, tmp_path):
    """A whole frame that names a class (unpickling it could run code) is refused in one line, never loaded."""
    run = _copy(interrupted, tmp_path)
    marker = tmp_path / "ran"
    frame = pickle.dumps(_MakesFolder(str(marker)))  # loading it would call os.mkdir
    with open(run / JOURNAL, "ab") as fh:
        fh.write(len(frame).to_bytes(8, "little") + frame)
    one_line(*invoke(["run", "--resume", "--out", str(run)]), "journal.bin", "names posix.mkdir", "plain values")
    assert not marker.exists()


def test_binary_optuna_journal_is_one_line(interrupted, tmp_path, data_root):
    """Binary bytes inside an Optuna journal: worker, export optuna and optuna-dashboard refuse in one line."""
    journal = tmp_path / "studies.journal"
    done = tmp_path / "done"
    assert invoke(["run", "--optimizer", "re", "--budget", "3evals", "--out", str(done)])[0] == 0
    assert invoke(["export", "optuna", str(done), "--storage", str(journal)])[0] == 0
    with open(journal, "ab") as fh:
        fh.write(b"\xff\xfe\n")
    for args in (["worker", "--storage", str(journal), "--study", "x"],
                 ["export", "optuna", str(done), "--storage", str(journal)],
                 ["optuna-dashboard", str(journal), "--port", str(_free_port())]):
        one_line(*invoke(args), "corrupt Optuna journal", "line")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_stray_files(tmp_path, monkeypatch):
    """'://' as storage, an empty --out (the working folder, here not empty) and a worker on a missing
    journal are refused, and leave nothing behind (no journal named ':', no .lock, no empty journal)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    one_line(*invoke(["run", "--optimizer", "optuna-random", "--budget", "3evals", "--out", "o", "--storage", "://"]),
             "unknown URL scheme")
    one_line(*invoke(["run", "--optimizer", "re", "--budget", "3evals", "--out", ""]), "empty value")
    one_line(*invoke(["worker", "--storage", "missing.journal", "--study", "x"]), "no such journal file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _store_copy(data_root: Path, name: str) -> Path:
    target = data_root / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(data_root / "default", target)
    return target


def test_damaged_store_arrays_are_one_line_and_leave_no_run(default_bench, data_root, tmp_path):
    """A truncated objectives.npy and seed means set to NaN are refused at open; no run folder is left."""
    truncated = _store_copy(data_root, "truncated")
    os.truncate(truncated / "cifar10-valid" / "objectives.npy", 1000)
    nan = _store_copy(data_root, "nan")
    means = np.load(nan / "cifar10-valid" / "seed_means.npy")
    means[:] = np.nan
    np.save(nan / "cifar10-valid" / "seed_means.npy", means)
    for store, needle in (("truncated", "objectives.npy"), ("nan", "seed_means.npy")):
        out = tmp_path / store
        one_line(*invoke(["run", "--optimizer", "re", "--budget", "3evals", "--store", store, "--out", str(out)]),
                 f"store '{store}'", needle)
        assert not out.exists()
    shutil.rmtree(truncated)
    shutil.rmtree(nan)


def test_data_list_flags_a_bad_manifest_and_verify_builds_nothing(default_bench, data_root, tmp_path, monkeypatch):
    """data list names the damaged store and lists the rest; data verify --store X never builds the default."""
    bad = _store_copy(data_root, "badmanifest")
    (bad / "manifest.json").write_text("[1]")
    listing = subprocess.run([sys.executable, "-m", "harness", "data", "list"], capture_output=True, text=True,
                             env={**os.environ, "HPO2NAS_DATA": str(data_root)})
    assert listing.returncode == 0, listing.stderr
    assert "badmanifest      DAMAGED: corrupt" in listing.stdout and "\ndefault " in "\n" + listing.stdout
    shutil.rmtree(bad)
    root = tmp_path / "root"
    shutil.copytree(data_root / "default", root / "mine")
    monkeypatch.setenv("HPO2NAS_DATA", str(root))
    assert invoke(["data", "verify", "--store", "mine"])[0] == 0
    assert sorted(p.name for p in root.iterdir()) == ["mine"]


def test_checkpoint_that_is_not_one_is_refused_untouched(tmp_path):
    """A text or binary file given as a zero-cost checkpoint is refused in one line and left byte for byte."""
    from benchmarks.zerocost._table import run_job

    notes = tmp_path / "notes.txt"
    for content in (b"a\nlast line", b"\x00\xff\xfe binary\n\x80tail"):
        notes.write_bytes(content)
        with pytest.raises(ValueError, match="is not a zero-cost checkpoint"):
            run_job("cifar10-valid", ["synflow"], notes, limit=0)
        assert notes.read_bytes() == content


SPEC = """
name = "readback"
datasets = ["cifar10-valid"]
output = "{out}"
[profiles.quick]
seeds = [0, 1]
budget = "{budget}"
[optimizers.re]
population_size = 5
"""


def _spec(tmp_path: Path, budget: str = "20evals") -> Path:
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(SPEC.format(out=tmp_path / "out", budget=budget)))
    return spec


def _compare(spec: Path, out: Path, data_root: Path, tmp: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "HPO2NAS_DATA": str(data_root), "TMPDIR": str(tmp)}
    return subprocess.Popen([sys.executable, "-m", "harness", "compare", str(spec), "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_compare_redoes_damaged_runs_and_is_locked(default_bench, data_root, tmp_path):
    """A second compare on one --out is refused while the first runs; a damaged run is named and redone,
    a stray folder is left alone, and a killed compare's staging folder is removed."""
    spec, out, tmp = _spec(tmp_path), tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    first = _compare(spec, out, data_root, tmp)
    deadline = time.monotonic() + 120
    while not (out / ".lock").exists() or (out / ".lock").read_text() != str(first.pid):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    one_line(*invoke(["compare", str(spec), "--out", str(out)]), "in use by another hpo2nas compare", str(first.pid))
    assert first.wait(timeout=300) == 0, first.communicate()
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 2
    (runs[0] / "trials.parquet").write_bytes(b"PAR1 damaged")
    (out / "runs" / "stray").mkdir()
    (out / "runs" / "stray" / "run.json").write_text("[1]")
    killed = out / "runs" / f".{runs[1].name}{TEMP_MARK}999999-0000"  # a compare SIGKILLed while swapping in
    killed.mkdir()
    again = _compare(spec, out, data_root, tmp)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert f"redoing damaged run {runs[0].name}: corrupt trials file" in stderr
    assert len(load_trials(runs[0])) == 20
    assert (out / "runs" / "stray" / "run.json").read_text() == "[1]" and not killed.exists()
    assert not list(tmp.glob("hpo2nas-run-*"))


def test_sigterm_of_compare_leaves_no_temporary_folders(default_bench, data_root, tmp_path):
    """SIGTERM while runs are in flight: the workers' temporary run folders are all removed."""
    spec, out, tmp = _spec(tmp_path, budget="3000evals"), tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    proc = _compare(spec, out, data_root, tmp)
    deadline = time.monotonic() + 120
    while not list(tmp.glob("hpo2nas-run-*")):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert not list(tmp.glob("hpo2nas-run-*"))

"""Fuzz of the files hpo2nas reads back (issue 21): truncation, appended bytes, overwritten bytes,
wrong shapes and edited fields, for run.json, journal.bin, trials.parquet, Optuna journals, store
manifests and arrays, and zero-cost checkpoints.

Each example damages one file of a real record and runs the command that reads it back. The
outcome must be exit 0 (the damage was a torn tail, or harmless) or exit 2 with one error line,
never a traceback; a refused zero-cost checkpoint must be left byte for byte. The CLI runs
in-process (see ``test_cli_fuzz.invoke``), so the whole module takes well under a minute.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_fuzz import invoke, no_half_written_files

from adapters.errors import BadInputError
from adapters.files import TEMP_MARK
from harness.running.budget import Budget
from harness.running.run_folder import JOURNAL
from harness.running.runner import RunConfig, execute_run

FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: JSON values a hand edit might leave in a field.
ODD_VALUES = st.sampled_from([None, [1], {}, "", "x", -1, 0, 2**64, 1e308, True, [[1, 2]], {"a": 1}])


@st.composite
def damage(draw, *, json_file: bool = False):
    """A function that damages the bytes of a file: truncate, append, overwrite (and, for JSON, edit a field)."""
    kinds = ["truncate", "append", "overwrite"] + (["edit", "drop", "add"] if json_file else [])
    kind = draw(st.sampled_from(kinds))
    where = draw(st.floats(0, 1))
    junk = draw(st.binary(min_size=1, max_size=16) | st.sampled_from([b"\xff\xfe", b"\n", b"\x00" * 8, b"{}\n"]))
    value = draw(ODD_VALUES)
    pick = draw(st.integers(0, 10**6))

    def apply(data: bytes) -> bytes:
        at = int(where * len(data))
        if kind == "truncate":
            return data[:at]
        if kind == "append":
            return data + junk
        if kind == "overwrite":
            return data[:at] + junk + data[at + len(junk):]
        body = json.loads(data)
        paths = list(_paths(body))
        path = paths[pick % len(paths)]
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if kind == "edit":
            parent[path[-1]] = value
        elif kind == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[f"{path[-1]}_extra"] = value
        return json.dumps(body).encode()

    apply.__name__ = f"{kind}@{where:.2f}"
    return apply


def _paths(body, prefix=()):
    """Every key path in a JSON value (the fields an edit may hit)."""
    items = body.items() if isinstance(body, dict) else enumerate(body) if isinstance(body, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def refused_or_worked(code: int, err: str) -> None:
    """Exit 0, or exit 2 with exactly one error line; never a traceback."""
    assert "Traceback" not in err, err
    assert code in (0, 2), err
    if code == 2:
        assert sum(line.startswith("hpo2nas: error:") for line in err.splitlines()) == 1, err


@pytest.fixture(scope="module")
def work(tmp_path_factory, default_bench, data_root) -> Path:
    """An interrupted run (run.json running, journal.bin), a finished one, and an exported Optuna journal."""
    work = tmp_path_factory.mktemp("fuzz-files")
    config = RunConfig(optimizer="re", dataset="cifar10-valid", budget=Budget.parse("24evals"), seed=0,
                       checkpoint_every=4)

    def stop(trials: int, fraction: float, best: float | None) -> None:
        if trials >= 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute_run(config, work / "interrupted", progress=stop, root=data_root)
    execute_run(config, work / "finished", root=data_root)
    assert invoke(["export", "optuna", str(work / "finished"), "--storage", str(work / "studies.journal")])[0] == 0
    return work


def _damaged_copy(source: Path, target: Path, name: str, apply) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    path = target / name
    path.write_bytes(apply(path.read_bytes()))
    return target


@FUZZ
@given(name=st.sampled_from(["run.json", JOURNAL]), data=st.data())
def test_resume_reads_back_damaged_records(work, name, data):
    """run --resume over a damaged run.json or journal.bin: exit 0 or one line, and whole records after."""
    apply = data.draw(damage(json_file=name == "run.json"), label="damage")
    run = _damaged_copy(work / "interrupted", work / "case", name, apply)
    code, err = invoke(["run", "--resume", "--out", str(run)])
    refused_or_worked(code, err)
    if code == 0:  # resumed: the records it wrote read back whole
        no_half_written_files(run)
    assert not [p for p in run.iterdir() if TEMP_MARK in p.name]


@FUZZ
@given(name=st.sampled_from(["run.json", "trials.parquet"]), data=st.data())
def test_exports_read_back_damaged_records(work, name, data):
    """export optuna over a finished run with a damaged run.json or trials.parquet: exit 0 or one line."""
    apply = data.draw(damage(json_file=name == "run.json"), label="damage")
    run = _damaged_copy(work / "finished", work / "case", name, apply)
    target = work / "export.journal"
    target.unlink(missing_ok=True)
    refused_or_worked(*invoke(["export", "optuna", str(run), "--storage", str(target)]))


@FUZZ
@given(apply=damage())
def test_optuna_journal_read_back_damaged(work, apply):
    """optuna-dashboard's and a worker's reading of a damaged Optuna journal: exit 0 or one line."""
    journal = work / "case.journal"
    journal.write_bytes(apply((work / "studies.journal").read_bytes()))
    code, err = invoke(["worker", "--storage", str(journal), "--study", "none-such"])
    refused_or_worked(code, err)
    assert code == 2  # no study of that name, or the damage: never a worker loop on a foreign study


@FUZZ
@given(name=st.sampled_from(["manifest.json", "cifar10-valid/objectives.npy", "cifar10-valid/cell_info.npy",
                             "cifar10-valid/seed_means.npy"]), resign=st.booleans(), data=st.data())
def test_stores_read_back_damaged(work, data_root, name, resign, data):
    """query over a store with a damaged manifest or array (also edits whose manifest checksum was redone)."""
    apply = data.draw(damage(json_file=name == "manifest.json"), label="damage")
    store = data_root / "fuzzed-store"
    _damaged_copy(data_root / "default", store, name, apply)
    if resign and name == "manifest.json":
        _resign(store / "manifest.json")
    refused_or_worked(*invoke(["query", "6111", "--dataset", "cifar10-valid", "--seed-mean", "--store", store.name]))


@FUZZ
@given(shape=st.sampled_from([(15625, 3), (15625, 3, 3), (10,), (15625, 2, 2), ()]))
def test_store_arrays_of_the_wrong_shape(work, data_root, shape):
    """An array replaced by one of another shape (checksum redone in the manifest) is one line, exit 2."""
    store = data_root / "fuzzed-store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(data_root / "default", store)
    np.save(store / "cifar10-valid" / "seed_means.npy", np.zeros(shape, dtype=np.float32))
    manifest = json.loads((store / "manifest.json").read_text())
    digest = hashlib.sha256((store / "cifar10-valid" / "seed_means.npy").read_bytes()).hexdigest()
    manifest["datasets"]["cifar10-valid"]["files"]["seed_means.npy"] = digest
    (store / "manifest.json").write_text(json.dumps(manifest))
    _resign(store / "manifest.json")
    code, err = invoke(["query", "6111", "--dataset", "cifar10-valid", "--seed-mean", "--store", store.name])
    refused_or_worked(code, err)
    assert code == 2 and "seed_means.npy has shape" in err


def _resign(path: Path) -> None:
    """Recompute a manifest's own checksum, as someone editing it on purpose would."""
    from benchmarks._store import _manifest_checksum

    try:
        body = json.loads(path.read_bytes())
    except ValueError:
        return
    if isinstance(body, dict):
        body["checksum"] = _manifest_checksum({k: v for k, v in body.items() if k != "checksum"})
        path.write_text(json.dumps(body))


CHECKPOINT_ROWS = [
    {"index": 7, "values": {"synflow": 1.5}, "seconds": {"synflow": 0.1},
     "settings": {"dataset": "cifar10-valid", "seed": 0, "batch_size": 64, "batch_kind": "patches"}},
    {"index": 9, "values": {"synflow": float("nan")}, "seconds": {},
     "settings": {"dataset": "cifar10-valid", "seed": 0, "batch_size": 64, "batch_kind": "patches"}},
]


@FUZZ
@given(apply=damage())
def test_checkpoints_read_back_damaged(tmp_path, apply):
    """A damaged zero-cost checkpoint is refused untouched, or read with at most its torn last line cut."""
    from benchmarks.zerocost import run_job

    path = tmp_path / "ck.jsonl"
    content = apply("".join(json.dumps(row) + "\n" for row in CHECKPOINT_ROWS).encode())
    path.write_bytes(content)
    try:
        run_job("cifar10-valid", ["synflow"], path, limit=0)
    except BadInputError:  # damaged, or made with other settings than this job's: untouched either way
        assert path.read_bytes() == content
    else:
        assert path.read_bytes() == content[: content.rfind(b"\n") + 1]

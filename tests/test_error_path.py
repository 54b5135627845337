"""The CLI's one error path (issue 21, defect 13; issue 22, item 7): usage errors, library errors,
warnings, Dask task failures and Ctrl-C each end in one line on stderr, and the help is plain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import typer.main

from harness.cli import app
from test_cli_fuzz import invoke


def _cli(*args: str, data_root: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full = {**os.environ, "HPO2NAS_DATA": str(data_root), "COLUMNS": "100", **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness", *args], env=full, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--out"], "hpo2nas run: Option '--out' requires an argument"),
        (["run", "--nope"], "hpo2nas run: No such option: --nope"),
        (["nope"], "No such command 'nope'"),
        (["query", "6111", "--dataset", "cifar10-valid", "--draw-seed", "1e23"], "Invalid value for '--draw-seed'"),
        (["worker", "--study", "s"], "Missing option '--storage'"),
        (["zerocost", "verify", "--sample", "nope"], "hpo2nas zerocost verify: Invalid value for '--sample'"),
        (["run", "--optimizer", "random", "--budget", "5evals", "--out", ""], "hpo2nas run: --out is given an empty value"),
        (["compare", "experiments/nb201_cifar10.toml", "--out="], "hpo2nas compare: --out is given an empty value"),
    ],
)
def test_usage_errors_are_one_line(args, message):
    """typer's usage errors: one line naming the command and pointing at its --help, not a 5-line box."""
    code, err = invoke(args)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("hpo2nas: error: ") and message in err, err
    assert "--help)" in err and "╭" not in err and "Usage:" not in err


def test_help_is_plain_with_a_description_and_a_version(capsys):
    """The top-level help describes the tool; no option shows a type such as `--help <bool>`; --version works."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        from harness.cli import main

        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"hpo2nas {version('hpo2nas')}\n"

    def helps(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from helps(sub, (*path, name))

    root = typer.main.get_command(app)
    for path, command in helps(root, ()):
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        text = capsys.readouterr().out
        assert "<bool>" not in text and "╭" not in text, (path, text)
        if not path:
            assert "Search NAS-Bench-201 with HPO optimizers" in text and "--version" in text
    with pytest.raises(SystemExit) as done:  # a group alone shows its help, as a request, not an error
        main(["data"])
    assert done.value.code == 0 and "Commands:" in capsys.readouterr().out


def test_sigint_prints_interrupted_and_exits_130(data_root, default_bench, tmp_path):
    """Ctrl-C during a run: the last stderr line says so, and the exit code is 130 (the shell's for SIGINT)."""
    env = {**os.environ, "HPO2NAS_DATA": str(data_root)}
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "harness", "run", "--optimizer", "re", "--budget", "200000evals",
           "--checkpoint-every", "50", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*.journal*")) and not (out / "run.json").exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "hpo2nas: interrupted" and "Traceback" not in err, err[-2000:]


FAILING = '''
"""An optimizer that warns (two lines) when set up and fails on its third ask, as a broken library would."""
import warnings

from adapters import Cell
from adapters.protocols import Suggestion


class Failing:
    name = "failing"
    multi_fidelity = False
    defaults = {}

    def setup(self, problem):
        self.asked = 0
        warnings.warn("first line of a library warning\\nsecond line", UserWarning)

    def ask(self):
        self.asked += 1
        if self.asked == 3:
            raise RuntimeError("the library broke\\nwith a second line")
        return Suggestion(cell=Cell.from_index(self.asked), origin="failing")

    def tell(self, suggestion, observation):
        pass


class Warning(Failing):
    def ask(self):
        self.asked += 1
        return Suggestion(cell=Cell.from_index(self.asked), origin="warning")
'''


@pytest.fixture
def failing_module(tmp_path) -> dict:
    """A user optimizer module on PYTHONPATH (Dask's worker processes inherit it)."""
    (tmp_path / "failing_opt.py").write_text(textwrap.dedent(FAILING))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_library_warning_and_failure_are_one_line_each(data_root, default_bench, tmp_path, failing_module):
    """A library's warning prints as one line (not file, line and source), and its failure as one more,
    with exit 2; HPO2NAS_TRACEBACK=1 shows the traceback for a bug report."""
    out = _cli("run", "--optimizer", "failing_opt:Failing", "--budget", "10evals", "--out", str(tmp_path / "r"),
               data_root=data_root, env=failing_module)
    lines = out.stderr.strip().splitlines()
    assert "hpo2nas: warning: first line of a library warning" in lines, out.stderr
    assert not any("second line" in line or "warnings.warn" in line for line in lines), out.stderr
    assert out.returncode == 2 and lines[-1] == ("hpo2nas: error: RuntimeError: the library broke "
                                                 "(HPO2NAS_TRACEBACK=1 shows where)"), out.stderr
    assert "Traceback" not in out.stderr
    debug = _cli("run", "--optimizer", "failing_opt:Failing", "--budget", "10evals", "--out", str(tmp_path / "d"),
                 data_root=data_root, env={**failing_module, "HPO2NAS_TRACEBACK": "1"})
    assert "Traceback" in debug.stderr and "failing_opt.py" in debug.stderr


def test_compare_task_failure_is_one_line(data_root, default_bench, tmp_path, failing_module):
    """A run that fails on its Dask worker: one line naming the run and the error, no Dask log blocks."""
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(f"""
        name = "failing"
        datasets = ["cifar10-valid"]
        output = "{tmp_path / 'out'}"
        [profiles.quick]
        seeds = [0]
        budget = "10evals"
        [optimizers.failing]
        optimizer = "failing_opt:Failing"
    """))
    out = _cli("compare", str(spec), data_root=data_root, env=failing_module)
    assert out.returncode == 2, out.stderr[-3000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("hpo2nas: error:")]
    assert len(errors) == 1 and "failed on its worker: RuntimeError: the library broke" in errors[0], out.stderr
    assert "distributed" not in out.stderr and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert out.stderr.strip().endswith(errors[0])


def test_compare_reports_worker_warnings_once_each(data_root, default_bench, tmp_path, failing_module):
    """A warning raised in runs on Dask workers is one line, with how many runs raised it."""
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(f"""
        name = "warning"
        datasets = ["cifar10-valid"]
        output = "{tmp_path / 'out'}"
        [profiles.quick]
        seeds = [0, 1]
        budget = "5evals"
        [optimizers.warning]
        optimizer = "failing_opt:Warning"
    """))
    out = _cli("compare", str(spec), data_root=data_root, env=failing_module)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "hpo2nas: warning: first line of a library warning (2 of the runs)" in out.stderr.splitlines()
    assert "second line" not in out.stderr and "distributed" not in out.stderr, out.stderr[-3000:]


@pytest.mark.parametrize(("scheduler", "message"), [
    ("not a url", "--scheduler 'not a url' is not a Dask scheduler address"),
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1: nothing listens there"),
    ("tcp://127.0.0.1:port", "cannot reach the Dask scheduler at tcp://127.0.0.1:port: invalid literal"),
])
def test_compare_scheduler_is_checked_in_one_line(data_root, default_bench, tmp_path, scheduler, message):
    """A malformed or unreachable --scheduler: one line, exit 2, and no output folder left behind."""
    spec = Path(__file__).parents[1] / "experiments" / "nb201_cifar10.toml"
    out = _cli("compare", str(spec), "--scheduler", scheduler, "--out", str(tmp_path / "c"), data_root=data_root)
    errors = [line for line in out.stderr.splitlines() if line.startswith("hpo2nas:")]
    assert out.returncode == 2 and len(errors) == 1 and message in errors[0], out.stderr[-2000:]
    assert "Traceback" not in out.stderr and not (tmp_path / "c").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("foo://bar", "unknown URL scheme 'foo'"),
    ("://", "unknown URL scheme ''"),
    ("sqlite:////nonexistent/dir/x.db", "folder /nonexistent/dir does not exist"),
    ("/nonexistent/dir/x.journal", "folder /nonexistent/dir does not exist"),
])
def test_storage_form_is_checked_before_anything_opens(url, message, tmp_path, monkeypatch):
    """A storage of the wrong form is refused by its form alone: no file or folder is created anywhere."""
    from adapters.optimizers.optuna_study import check_storage, rdb_url
    from adapters.types import BadInputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInputError, match=message):
        check_storage(url)
    assert list(tmp_path.iterdir()) == []
    assert rdb_url("postgresql://u@/db?host=/s") == "postgresql+psycopg2://u@/db?host=/s"
    assert rdb_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"  # a named driver stays


def test_a_copytree_failure_is_one_short_line(tmp_path):
    """export deepcave copies SMAC's folders with copytree, which gathers every failed file into one error
    (2 kB on a full disk): the first failure is named and the others counted."""
    import resource
    import shutil

    from adapters.files import os_error_text

    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"f{i}.json").write_bytes(b"x" * 4096)

    def copy_under_a_size_limit() -> None:  # in a child: RLIMIT_FSIZE fails each write as a full disk would
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
        try:
            shutil.copytree(src, tmp_path / "dst")
        except OSError as exc:
            (tmp_path / "message").write_text(os_error_text(exc)[:900])
            os._exit(0)
        os._exit(1)

    pid = os.fork()
    if pid == 0:
        copy_under_a_size_limit()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    message = (tmp_path / "message").read_text()
    assert message.startswith("File too large: ") and message.endswith("(and 29 more files)"), message
    assert len(message) < 300 and "\n" not in message

"""Every command in README.md and docs/*.md runs as written, and every Python example runs.

What counts as a command: every line of a ```bash block (continuation lines joined, trailing
``# comments`` dropped). Syntax summaries and program output use ```text or plain fences and
are not run. Python examples are the ```python blocks, each run as a script.

How it stays affordable: the commands run in document order in one workspace, in smoke mode
(``HPO2NAS_SMOKE=1``, harness/running/smoke.py: budgets cut to 1/50, profiles to two seeds), with the
command text untouched. Identical commands run once. Exceptions are listed below with their
reason and checked to be exactly the commands the docs show, so none is skipped silently:

* ``make`` targets: ``make test`` runs this test; ``make run`` is two of the commands run here.
* commands that need the outside world (a download, a user's own file, a PostgreSQL server):
  offline they must end with exit 0 or the promised one-line error and exit code 2.
* servers (the dashboards): started, checked to listen on 127.0.0.1, then stopped with SIGTERM
  (which they handle as Ctrl-C; SIGINT is ignored where pytest itself runs in the background).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _deepcave_tools import require

ROOT = Path(__file__).resolve().parents[1]
#: README first, then the guide's order, so that each command finds what earlier ones wrote.
DOCS = ("README.md", "docs/data.md", "docs/running.md", "docs/experiments.md", "docs/protocols.md",
        "docs/multiobjective.md", "docs/optuna.md", "docs/deepcave.md", "docs/parallel.md", "docs/zerocost.md",
        "docs/performance.md", "docs/concepts.md", "docs/benchmarks.md", "docs/live.md", "docs/README.md")
NOT_RUN = {
    "make run": "runs `hpo2nas data summary` and `hpo2nas compare experiments/nb201_cifar10.toml --profile quick`, "
                "both run here",
    "make test": "runs the whole suite, this test included",
    "make docs-results": "reruns every results table's compare and rewrites the repository's docs (hours); "
                         "tests/test_docs_results.py runs the script on a small result",
    "make docs-results TABLE=mo-quick": "rewrites the repository's docs; tests/test_docs_results.py covers TABLE=",
    "make docs-results FROM=results/nb201_multiobjective/quick": "rewrites the repository's docs; "
                                                                 "tests/test_docs_results.py covers FROM=",
    ".venv/bin/python perf/bench_suite.py": "the full measurement (minutes); its --smoke form runs here",
}
#: Prefixes of commands that need something outside this machine.
EXTERNAL = (
    "hpo2nas data fetch nats-tss", "hpo2nas data fetch nats-sss", "hpo2nas data fetch mfpbench-nb201",
    "hpo2nas data fetch synetune-nb201",
    "hpo2nas data import NATS-tss-v1_0-3ffb9-simple",  # the user's download
    "hpo2nas run --optimizer optuna-tpe --budget 100evals --out results/tpe3 --storage postgresql://",
    "hpo2nas run --optimizer optuna-tpe --budget 200evals --storage postgresql://",
    "hpo2nas worker --storage postgresql://",
    "hpo2nas run --optimizer optuna-tpe --set pruner=hyperband --store nats",  # the store the fetch makes
    "hpo2nas run --benchmark live --dataset cifar10-valid --data-dir ~/data",  # the user's own images
    "hpo2nas run --benchmark live --dataset imagefolder --data-dir ~/my-images",
    "hpo2nas live agree --cells 10 --epochs 12 --data-dir ~/data",
)
SERVERS = {"hpo2nas dashboard": 8050, "hpo2nas optuna-dashboard": 8080}
#: A table in the columns the docs' `data import ... --format table` example names.
MY_CSV = "arch,seed,epoch,acc\n" + "".join(
    f"{arch},0,{epoch},{50 + epoch / 10 + i}\n"
    for i, arch in enumerate(("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
                              "nor_conv_1x1~2|", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    for epoch in (1, 2))


def _strip_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` after whitespace; the docs quote none)."""
    cut = re.search(r"\s#", line)
    return (line[:cut.start()] if cut else line).strip()


def _blocks(path: Path) -> list[tuple[str, int, str]]:
    """(language, first line number, text) of every fenced block."""
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip(), number + 1, []
            else:
                blocks.append((lang, start, "\n".join(body)))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _examples() -> list[tuple[str, str, str]]:
    """(where, kind, text) of every command and Python example, in document order, each once."""
    found: dict[str, tuple[str, str, str]] = {}
    for doc in DOCS:
        for lang, start, text in _blocks(ROOT / doc):
            if lang == "python":
                found.setdefault(text, (f"{doc}:{start}", "python", text))
            elif lang in ("bash", "sh"):
                pending, first = "", 0
                for offset, line in enumerate(text.splitlines()):
                    first = first if pending else start + offset
                    if line.rstrip().endswith("\\"):  # a continued command: join the next line
                        pending += line.rstrip()[:-1] + " "
                        continue
                    command = _strip_comment(pending + line.strip())
                    pending = ""
                    if command:
                        found.setdefault(command, (f"{doc}:{first}", "command", re.sub(r"\s+", " ", command)))
    return list(found.values())


EXAMPLES = _examples()


def test_the_docs_show_commands_and_every_exception_is_one_of_them():
    """The extraction finds the docs' commands, each runs the CLI, and every listed exception exists."""
    assert set(DOCS) == {"README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))}, "a page is not run"
    commands = [text for _, kind, text in EXAMPLES if kind == "command"]
    assert len(commands) > 40 and sum(kind == "python" for _, kind, _ in EXAMPLES) >= 3
    assert all(c.startswith(("hpo2nas ", "make ", ".venv/bin/python ")) for c in commands), \
        [c for c in commands if not c.startswith(("hpo2nas ", "make ", ".venv/bin/python "))]
    assert {c for c in commands if c.startswith("make ")} <= set(NOT_RUN) and set(NOT_RUN) <= set(commands)
    for prefix in EXTERNAL:
        assert any(c.startswith(prefix) for c in commands), f"no documented command starts with {prefix!r}"
    placeholders = [c for c in commands if re.search(r"\b(DIR|SPEC|FILE|HOST|PORT)\b|\[--", c)]
    assert not placeholders, "syntax summaries belong in ```text blocks"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, data_root) -> tuple[Path, dict[str, str]]:
    """A user's folder: the repository's specs and example packages beside it, and their own files."""
    home = tmp_path_factory.mktemp("docs-user")
    for name in ("experiments", "adapters", "scripts", "perf", ".venv"):  # what the docs' paths name
        (home / name).symlink_to(ROOT / name)
    (home / "my.csv").write_text(MY_CSV)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HOME=str(home), HPO2NAS_DATA=str(data_root), HPO2NAS_SMOKE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    return home, env


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _serve(command: str, default_port: int, home: Path, env: dict[str, str]) -> None:
    given = re.search(r"--port (\d+)", command)
    port = int(given.group(1)) if given else default_port
    assert not _listening(port), f"port {port} is taken by another program; the docs' command needs it"
    proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=home, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while not _listening(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert proc.poll() is None and _listening(port), proc.communicate(timeout=30)[0] if proc.poll() else "timeout"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode in (0, 130), output
    assert not _listening(port), "the server outlived SIGTERM"


@pytest.mark.parametrize("where, kind, text", EXAMPLES, ids=[w for w, _, _ in EXAMPLES])
def test_documented_example_runs(workspace, where, kind, text):
    """The example runs as written (in smoke mode) and ends as the docs promise."""
    home, env = workspace
    if kind == "python":
        out = subprocess.run([sys.executable, "-c", text], cwd=home, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return
    if text in NOT_RUN:
        pytest.skip(f"{text}: {NOT_RUN[text]}")
    server = next((s for s in SERVERS if text.startswith(s + " ")), None)
    if server is not None:
        if server == "hpo2nas dashboard":
            require(deepcave=True)
        _serve(text, SERVERS[server], home, env)
        return
    out = subprocess.run(["bash", "-c", text], cwd=home, env=env, capture_output=True, text=True, timeout=600)
    if text.startswith(EXTERNAL):
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 0 or (out.returncode == 2 and len(lines) == 1 and
                                       lines[0].startswith("hpo2nas: error:")), out.stderr[-3000:]
        return
    assert out.returncode == 0, f"{where}: {text}\n{out.stderr[-3000:]}"

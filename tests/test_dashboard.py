"""``hpo2nas dashboard`` end to end: real redis, real DeepCAVE, real headless Chromium.

The dashboard is started as a user starts it, the page is rendered by Debian's Chromium,
and Ctrl-C (SIGINT) must stop everything: no process of redis or DeepCAVE may be left, and
nothing may ever have listened on anything but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import time
import urllib.parse
from pathlib import Path

import pytest
from _browser import descendants, free_port, listening, loopback_v4, render, start_cli_server
from _deepcave_tools import make_run, require

from harness.export_deepcave import MANIFEST, export_deepcave

RESULTS = Path(__file__).resolve().parents[1] / "results"


def test_dashboard_shows_runs_on_loopback_and_ctrl_c_leaves_nothing(tmp_path, data_root):
    require("redis-server", "chromium", deepcave=True)
    runs = tmp_path / "runs"
    make_run(runs, data_root, "re", optimizer="re", evals=12)
    make_run(runs, data_root, "random", evals=5)
    export = tmp_path / "export"
    export_deepcave(runs, export)
    manifest = {entry["name"]: entry for entry in json.loads((export / MANIFEST).read_text())["runs"]}
    run_name = next(name for name in manifest if name.startswith("re-"))

    port = free_port()
    dashboard, lines = start_cli_server("dashboard", str(export), "--port", str(port))
    started: set[int] = set()
    try:
        output = []
        deadline = time.monotonic() + 240
        while not any(line.startswith("DeepCAVE http") for line in output):
            assert dashboard.poll() is None and time.monotonic() < deadline, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        started = descendants(dashboard.pid)
        groups = {os.getpgid(pid) for pid in started}
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in started)
        assert "redis-server" in commands and "server.py" in commands and "worker.py" in commands

        # Both servers listen, and only on 127.0.0.1 (no IPv6 wildcard either).
        sockets = listening(started)
        assert len(sockets) >= 2 and all(proto == "tcp" and loopback_v4(addr) for proto, addr in sockets), sockets

        # The General page lists the exported runs as selected; the Overview loads one of them.
        general = render(f"http://127.0.0.1:{port}/", tmp_path / "chromium")
        assert "Selected Runs" in general and all(name in general for name in manifest)
        run_id = hashlib.md5(f"DataFrame:{export / run_name}".encode()).hexdigest()  # DeepCAVE's Run.id
        inputs = urllib.parse.quote(json.dumps({"run": {"value": run_id}}))
        RESULTS.mkdir(exist_ok=True)
        shot = RESULTS / "deepcave-dashboard.png"
        overview = render(f"http://127.0.0.1:{port}/plugins/overview/?inputs={inputs}", tmp_path / "chromium", shot)
        assert run_name in overview
        assert f"Total trials: {manifest[run_name]['deepcave_trials']}" in overview
        assert shot.stat().st_size > 10_000

        os.kill(dashboard.pid, signal.SIGINT)
        assert dashboard.wait(timeout=60) == 0
    finally:
        if dashboard.poll() is None:
            os.killpg(dashboard.pid, signal.SIGKILL)
            dashboard.wait()
        leftovers = {pid for pid in started if Path(f"/proc/{pid}").exists()}
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"left behind: {leftovers}"
    for group in groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


def test_deepcave_environment_is_configurable(tmp_path, monkeypatch):
    """HPO2NAS_DEEPCAVE_PYTHON picks the DeepCAVE Python; a missing one is a clear BadInputError naming it."""
    from harness.dashboard import DEEPCAVE_PYTHON_ENV, deepcave_python, serve_dashboard
    from adapters.types import BadInputError

    monkeypatch.delenv(DEEPCAVE_PYTHON_ENV, raising=False)
    assert deepcave_python() == Path(__file__).resolve().parents[1] / ".venv-deepcave" / "bin" / "python"
    missing = tmp_path / "elsewhere" / "bin" / "python"
    monkeypatch.setenv(DEEPCAVE_PYTHON_ENV, str(missing))
    assert deepcave_python() == missing
    with pytest.raises(BadInputError, match=f"{missing} is missing.*{DEEPCAVE_PYTHON_ENV}"):
        serve_dashboard(tmp_path)

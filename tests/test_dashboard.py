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
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from _deepcave_tools import make_run, require

from harness.export_deepcave import MANIFEST, export_deepcave

RESULTS = Path(__file__).resolve().parents[1] / "results"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1400,1000",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def listening(pids: set[int]) -> list[tuple[str, str]]:
    """(protocol, local address) of every listening TCP socket that one of ``pids`` holds."""
    inodes = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    found = []
    for proto in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append((proto, fields[1]))
    return found


def loopback_v4(address: str) -> bool:
    host = address.split(":")[0]
    return host == "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def render(url: str, profile: Path, screenshot: Path | None = None) -> str:
    """The page's DOM after Chromium ran its scripts (and a screenshot of it)."""
    args = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom"]
    if screenshot is not None:
        args.insert(-1, f"--screenshot={screenshot}")
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


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
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "harness", "dashboard", str(export), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(dashboard.stdout, lines), daemon=True).start()
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

"""Helpers for tests that drive a real server with Debian's headless Chromium (DeepCAVE, optuna-dashboard).

They read /proc to find a server's processes and listening sockets, and render pages the way a
user's browser would, optionally logging every network request Chromium makes.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

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


def page_requests(net_log: Path) -> set[str]:
    """Every URL that a page asked for, from a Chromium net log (``--log-net-log``).

    A request a page makes (scripts, fonts, API calls) names the page's origin as its
    initiator; Chromium's own background requests (its update and account services) and the
    navigations the test itself asks for name none ("not an origin").
    """
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {
        event["params"]["url"] for event in log["events"]
        if event["type"] == start_job and event.get("params", {}).get("initiator", "not an origin") != "not an origin"
    }


def loopback_v4(address: str) -> bool:
    host = address.split(":")[0]
    return host == "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def render(url: str, profile: Path, screenshot: Path | None = None, net_log: Path | None = None) -> str:
    """The page's DOM after Chromium ran its scripts (and a screenshot of it; every request in ``net_log``)."""
    args = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom"]
    if screenshot is not None:
        args.insert(-1, f"--screenshot={screenshot}")
    if net_log is not None:
        args.insert(-1, f"--log-net-log={net_log}")
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli_server(*args: str) -> tuple[subprocess.Popen, queue.Queue]:
    """``python -m harness ARGS`` in its own process session, its output lines fed to a queue.

    Both dashboard tests start their server this way, so Ctrl-C can be sent to the session.
    SIGINT is reset to its default in the child: a suite started in the background by a
    non-interactive shell (``cmd &``) inherits SIGINT ignored, and Python then never installs
    its KeyboardInterrupt handler, so the server would not see the test's Ctrl-C at all.
    """
    server = subprocess.Popen([sys.executable, "-m", "harness", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True,
                              preexec_fn=_default_sigint)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(server.stdout, lines), daemon=True).start()
    return server, lines

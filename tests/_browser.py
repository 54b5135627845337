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
import time
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



def until_serving(server: subprocess.Popen, lines: queue.Queue, prefix: str, timeout_s: float) -> list[str]:
    """A started server's output lines up to the first that starts with ``prefix`` (where it serves).

    Fails the test, with everything the server said, if it exits or ``timeout_s`` passes first
    (a dashboard's start takes seconds, DeepCAVE's with its redis tens of seconds).
    """
    output: list[str] = []
    deadline = time.monotonic() + timeout_s
    while not any(line.startswith(prefix) for line in output):
        assert server.poll() is None and time.monotonic() < deadline, "".join(output)
        try:
            output.append(lines.get(timeout=1))
        except queue.Empty:
            pass
    return output

class DevToolsBrowser:
    """Headless Chromium driven over the DevTools protocol, for pages that need a click or a measurement.

    ``render`` can only load a page and dump it; DeepCAVE's static plugins compute only when
    their button is pressed, and the report test measures laid-out images. This talks to one
    page target through tornado's websocket client (tornado comes with dask's distributed).
    """

    def __init__(self, profile: Path, width: int = 1400, height: int = 1000) -> None:
        import asyncio
        import time
        import urllib.request

        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a profile used before holds the last browser's port
        flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--window-size")]
        self.process = subprocess.Popen(
            ["chromium", *flags, f"--window-size={width},{height}", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._loop = asyncio.new_event_loop()
        self._ids = iter(range(1, 1 << 30))
        try:
            deadline = time.monotonic() + 60
            while not (port_file.is_file() and port_file.read_text().strip()):
                assert self.process.poll() is None and time.monotonic() < deadline, "chromium did not start"
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                target = next(t for t in json.loads(response.read()) if t["type"] == "page")
            self._socket = self._loop.run_until_complete(self._connect(target["webSocketDebuggerUrl"]))
        except BaseException:
            self._kill()
            raise

    @staticmethod
    async def _connect(url: str):
        from tornado.websocket import websocket_connect

        return await websocket_connect(url, max_message_size=1 << 28)

    async def _call(self, method: str, params: dict) -> dict:
        ident = next(self._ids)
        await self._socket.write_message(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = await self._socket.read_message()
            assert message is not None, "chromium closed the DevTools connection"
            reply = json.loads(message)
            if reply.get("id") == ident:
                assert "error" not in reply, reply["error"]
                return reply["result"]

    def call(self, method: str, timeout_s: float = 180, **params) -> dict:
        """One DevTools command; a browser that does not answer within ``timeout_s`` fails the test, never hangs it."""
        import asyncio

        return self._loop.run_until_complete(asyncio.wait_for(self._call(method, params), timeout_s))

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float, interval_s: float = 0.5):
        """Poll ``expression`` until it is truthy; return its value (or the last falsy one after the timeout)."""
        import time

        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval_s)

    def open(self, url: str, timeout_s: float = 60) -> None:
        """Navigate and wait for the *new* document: the old one is marked first, because right after
        ``Page.navigate`` the page that is leaving still reads as complete (and its timers still run)."""
        self.evaluate("window.__leaving = true")
        self.call("Page.navigate", url=url)
        loaded = "!window.__leaving && document.readyState === 'complete' && location.href !== 'about:blank'"
        assert self.wait_for(loaded, timeout_s), f"{url} did not load"

    def screenshot(self, path: Path) -> None:
        """The whole page, not only the window, as PNG."""
        import base64

        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def _kill(self) -> None:
        """End the browser's whole process group (it runs in a session of its own) and reap it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._loop.close()

    def close(self) -> None:
        """Ask the browser to close; whatever is left after 20 s is killed."""
        try:
            self._loop.run_until_complete(self._call("Browser.close", {}))
        except (AssertionError, OSError):
            pass
        self._socket.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        self._kill()

    def __enter__(self) -> "DevToolsBrowser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

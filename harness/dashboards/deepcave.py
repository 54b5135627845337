"""``hpo2nas dashboard``: DeepCAVE on loopback only, supervised so that Ctrl-C leaves nothing behind.

DeepCAVE's own launcher (``deepcave --open``, its ``start.sh``) starts ``redis-server`` without
``--bind``, so on all interfaces. Instead, the supervisor (this process, in the main environment) starts:

1. Debian's ``redis-server`` bound to 127.0.0.1 on a free port, with no persistence;
2. DeepCAVE's job worker and 3. its dash server on 127.0.0.1, both from ``.venv-deepcave``
   (DeepCAVE cannot live in the main environment), configured by ``harness/dashboards/_deepcave``.

Each child runs in its own process group and is asked (``PR_SET_PDEATHSIG``) to get SIGTERM
if the supervisor dies; on Ctrl-C, SIGTERM, or any child exiting (DeepCAVE's Exit button),
every group is sent SIGTERM, then SIGKILL, and waited for.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from adapters.files import new_owned_temp_dir
from adapters.schema import read_json
from harness.exports.deepcave import MANIFEST, export_deepcave
from harness.running.schemas import DEEPCAVE_EXPORT
from harness.running.signals import raise_interrupt
from adapters.types import BadInputError

__all__ = ["DEEPCAVE_PYTHON_ENV", "DashboardError", "check_port", "deepcave_python", "raise_interrupt",
           "serve_dashboard"]

#: Names the Python of the isolated DeepCAVE environment, wherever it was built.
DEEPCAVE_PYTHON_ENV = "HPO2NAS_DEEPCAVE_PYTHON"
#: Where the Makefile builds it (target .venv-deepcave/.installed): beside this checkout's sources.
_DEFAULT_DEEPCAVE_PYTHON = Path(__file__).resolve().parents[2] / ".venv-deepcave" / "bin" / "python"
_APP = Path(__file__).resolve().parent / "_deepcave"
_CONFIG = _APP / "hpo2nas_deepcave" / "config.py"
_START_TIMEOUT_S = 180.0  # DeepCAVE imports for ~12 s alone; CI runs tests beside it on 2 cores
_STOP_TIMEOUT_S = 5.0
_PR_SET_PDEATHSIG = 1
_EXIT_BUTTON_CODE = 130  # DeepCAVE's Exit button ends its server with os._exit(130)


def deepcave_python() -> Path:
    """The DeepCAVE environment's Python: ``$HPO2NAS_DEEPCAVE_PYTHON``, else the checkout's ``.venv-deepcave``.

    Read at each call, not at import, so a user (or a test) may point it elsewhere; an
    installed (non-editable) hpo2nas has no checkout beside it and needs the variable.
    """
    configured = os.environ.get(DEEPCAVE_PYTHON_ENV)
    return Path(configured).expanduser() if configured else _DEFAULT_DEEPCAVE_PYTHON


class DashboardError(RuntimeError):
    """A part of the dashboard failed to start or stopped by itself."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_port(port: int) -> None:
    """Refuse a port out of range or already taken on 127.0.0.1 (one line, exit 2), before anything starts."""
    if not 1 <= port <= 65535:
        raise BadInputError(f"--port must be in 1..65535, got {port}")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no user
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise BadInputError(f"port {port} on 127.0.0.1 is in use; pass another --port") from None


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _exported_runs(folder: Path, state: Path) -> tuple[Path, list[Path]]:
    """The export to show: ``folder`` itself if it is one, else an export of its runs into ``state``.

    The runs to preselect are the DataFrame runs: SMAC's own copies (in ``smac3v2/``) have
    other objectives, and DeepCAVE's Cost Over Time and Pareto Front refuse a selection that
    mixes them. Older exports kept those copies beside the others; they are left out by format.
    """
    if not folder.is_dir():
        raise BadInputError(f"{folder} is not a folder")
    if not (folder / MANIFEST).is_file():
        export_deepcave(folder, state / "runs")
        folder = state / "runs"
    manifest = read_json(folder / MANIFEST, DEEPCAVE_EXPORT)
    return folder, [folder / entry["name"] for entry in manifest["runs"] if entry.get("format") == "DataFrame"]


class _Children:
    """The started processes, each leading its own process group."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.procs: dict[str, subprocess.Popen] = {}
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child

    def _die_with_parent(self) -> None:
        """In the child before exec: get SIGTERM when the supervisor dies, even by SIGKILL."""
        self._prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.state / f"{name}.log", "wb")
        with log:
            self.procs[name] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.state,
                env=env, start_new_session=True, preexec_fn=self._die_with_parent,
            )

    def exited(self) -> str | None:
        return next((name for name, proc in self.procs.items() if proc.poll() is not None), None)

    def log_tail(self, name: str, lines: int = 15) -> str:
        text = (self.state / f"{name}.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not ready():
            if (name := self.exited()) is not None:
                raise DashboardError(f"{name} exited while starting {what}:\n{self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise DashboardError(f"{what} did not start within {_START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM every group, then SIGKILL what is left, newest first; reap everything."""
        for sig, grace in ((signal.SIGTERM, _STOP_TIMEOUT_S), (signal.SIGKILL, _STOP_TIMEOUT_S)):
            for proc in reversed(self.procs.values()):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            for proc in self.procs.values():
                try:
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            if all(_group_gone(proc.pid) for proc in self.procs.values()):
                return


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def serve_dashboard(folder: Path, *, port: int = 8050, echo: Callable[[str], None] = print) -> None:
    """Serve DeepCAVE with the exported runs in ``folder`` until Ctrl-C, SIGTERM or DeepCAVE's Exit.

    ``folder`` is an export (``hpo2nas export deepcave``), or run folders, which are exported
    into a temporary folder first.
    """
    folder = Path(folder).resolve()
    python = deepcave_python()
    if not python.exists():
        raise BadInputError(f"the DeepCAVE environment's Python {python} is missing; run `make .venv-deepcave/.installed` "
                            f"or set {DEEPCAVE_PYTHON_ENV} to one")
    redis = shutil.which("redis-server")
    if redis is None:
        raise BadInputError("redis-server is not installed; run scripts/ensure-debian.sh (Debian package redis-server)")
    check_port(port)
    state = new_owned_temp_dir("hpo2nas-dashboard-")  # a SIGKILLed server's folder is swept at the next start
    children = _Children(state)
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        export, runs = _exported_runs(folder, state)
        redis_port = _free_port()
        children.start("redis", [redis, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                 "--appendonly", "no", "--protected-mode", "yes", "--dir", str(state)])
        children.wait_for("redis", lambda: _redis_ready(redis_port))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update({
            "PYTHONPATH": str(_APP),  # only harness/dashboards/_deepcave: harness/ itself would shadow the stdlib
            "HPO2NAS_DC_REDIS_PORT": str(redis_port), "HPO2NAS_DC_DASH_PORT": str(port),
            "HPO2NAS_DC_CACHE_DIR": str(state / "cache"), "HPO2NAS_DC_WORKING_DIR": str(export),
            "HPO2NAS_DC_RUNS": json.dumps([str(run) for run in runs]),
        })
        config = ["--config", str(_CONFIG)]
        children.start("worker", [str(python), str(_APP / "worker.py"), *config], env)
        children.start("server", [str(python), str(_APP / "server.py"), *config], env)
        url = f"http://127.0.0.1:{port}/"
        children.wait_for("DeepCAVE", lambda: _http_ready(url))
        echo(f"DeepCAVE {url} shows {len(runs)} runs from {export} (Ctrl-C stops it; logs in {state})")
        sys.stdout.flush()
        while (name := children.exited()) is None:
            time.sleep(0.5)
        if (name, children.procs[name].returncode) != ("server", _EXIT_BUTTON_CODE):
            raise DashboardError(f"{name} stopped:\n{children.log_tail(name)}")
        echo("DeepCAVE exited (its Exit button); stopping the rest")
    except KeyboardInterrupt:
        echo("stopping DeepCAVE")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        try:
            children.stop()
            shutil.rmtree(state, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)

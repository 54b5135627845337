"""``hpo2nas optuna-dashboard``: optuna-dashboard on 127.0.0.1 only, inside this process.

optuna-dashboard's own launcher binds wherever ``--host`` says; here its WSGI app
(``optuna_dashboard.wsgi``) is served by the standard library's threaded WSGI server bound to
127.0.0.1, in this process: there is no child process that Ctrl-C could leave behind. Its
front end is the bundle shipped in the wheel (React and plotly.js), served by the same
server; nothing is fetched from the internet.

A folder of runs is first exported (``harness.exports.optuna``) into a journal in a temporary
folder that is removed on exit; a storage URL or a journal file is served as it is (Optuna
runs' live journals included).
"""

from __future__ import annotations

import shutil
import signal
import socketserver
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from adapters.files import new_owned_temp_dir
from adapters.optimizers.optuna_study import open_storage, quiet_info, storage_label
from adapters.types import BadInputError
from harness.dashboards.deepcave import check_port, raise_interrupt
from harness.exports.optuna import export_optuna

__all__ = ["serve_optuna_dashboard"]


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request: the front end asks for several API resources at once."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        """No line per request on stderr (wsgiref's default)."""


def _storage_for(target: str, state: Path) -> tuple[str, int]:
    """The storage to serve and how many studies it holds: a folder of runs is exported first."""
    path = Path(target)
    if "://" not in target and path.is_dir():
        url = str(state / "studies.journal")
        return url, len(export_optuna(path, url))
    if "://" not in target and not path.is_file():
        raise BadInputError(f"{target} is neither a folder of runs, a journal file nor a storage URL")
    with quiet_info():
        studies = open_storage(target, create=False).get_all_studies()
    if not studies:
        raise BadInputError(f"storage {storage_label(target)} holds no study")
    return target, len(studies)


def serve_optuna_dashboard(target: str, *, port: int = 8080, echo: Callable[[str], None] = print) -> None:
    """Serve optuna-dashboard for ``target`` (run folders, a journal file or a storage URL) until Ctrl-C or SIGTERM."""
    import optuna_dashboard

    check_port(port)
    state = new_owned_temp_dir("hpo2nas-optuna-dashboard-")  # a SIGKILLed server's folder is swept at the next start
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    server = None
    try:
        url, n_studies = _storage_for(target, state)
        with quiet_info():
            app = optuna_dashboard.wsgi(open_storage(url))
        server = make_server("127.0.0.1", port, app, server_class=_Server, handler_class=_QuietHandler)
        echo(f"optuna-dashboard http://127.0.0.1:{port}/dashboard shows {n_studies} studies from "
             f"{storage_label(target)} (Ctrl-C stops it)")
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopping optuna-dashboard")
    finally:
        if server is not None:
            server.server_close()
        shutil.rmtree(state, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)

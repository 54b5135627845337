"""DeepCAVE's dash server as DeepCAVE 1.4.1's own ``server.py`` runs it, styled offline.

Run with ``.venv-deepcave/bin/python harness/dashboards/_deepcave/server.py --config <config.py>``.
DeepCAVE decides at import time whether it is the server by looking for ``server.py`` in
``sys.argv[0]``, and reads ``--config`` from ``sys.argv``: this file's name and its
arguments keep both true.

DeepCAVE links Bootstrap and Font Awesome from CDNs, which an offline machine cannot reach;
their URLs are read from ``dash_bootstrap_components`` when DeepCAVE creates its app, so they
are pointed at local copies (Bootstrap-Flask's Bootstrap 5, fontawesome-free 5.15.4, both
installed in the DeepCAVE environment) before DeepCAVE is imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dash_bootstrap_components as dbc
from flask import send_from_directory

STATIC = "/hpo2nas-static"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is missing from the DeepCAVE environment (see requirements-deepcave.lock)")
    return Path(spec.origin).parent


ROOTS = {
    "bootstrap": _package_dir("flask_bootstrap") / "static" / "bootstrap5",
    "fontawesome": _package_dir("fontawesome-free") / "static" / "fontawesome_free",
}
dbc.themes.BOOTSTRAP = f"{STATIC}/bootstrap/css/bootstrap.min.css"
dbc.icons.FONT_AWESOME = f"{STATIC}/fontawesome/css/all.min.css"

from deepcave import app, config  # noqa: E402 (after the stylesheet URLs are set)
from deepcave.layouts.main import MainLayout  # noqa: E402
from hpo2nas_deepcave.atomic_cache import write_caches_whole  # noqa: E402


@app.server.route(f"{STATIC}/<string:root>/<path:name>")
def _static(root: str, name: str):
    if root not in ROOTS:
        return "not found", 404
    return send_from_directory(ROOTS[root], name)


if __name__ == "__main__":
    write_caches_whole()  # callbacks read the caches while another rewrites them
    app.layout = MainLayout(config.PLUGINS)()
    app.run_server(debug=False, port=config.DASH_PORT, host=config.DASH_ADDRESS)

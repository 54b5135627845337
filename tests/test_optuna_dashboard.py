"""``hpo2nas optuna-dashboard`` end to end: the real optuna-dashboard, real headless Chromium.

A folder of runs is served as a user serves it; Chromium renders the study list, a study's
history plot and its trials, and logs every request it makes: all must go to the dashboard on
127.0.0.1 (the front end is the wheel's own bundle). Ctrl-C must stop the server and leave
no process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import urllib.parse

from _browser import (descendants, free_port, listening, loopback_v4, page_requests, render, start_cli_server,
                      until_serving)
import pytest
from _deepcave_tools import make_run, require

from harness.running.records import load_trials


def test_optuna_dashboard_shows_studies_on_loopback_and_ctrl_c_leaves_nothing(tmp_path, data_root):
    require("chromium")
    runs = tmp_path / "runs"
    make_run(runs, data_root, "optuna-tpe", optimizer="optuna-tpe", evals=14)
    make_run(runs, data_root, "re", optimizer="re", evals=8)
    tpe_id = json.loads((runs / "optuna-tpe" / "run.json").read_text())["run_id"]
    n_trials = len(load_trials(runs / "optuna-tpe"))

    port = free_port()
    server, lines = start_cli_server("optuna-dashboard", str(runs), "--port", str(port))
    try:
        output = until_serving(server, lines, "optuna-dashboard http", timeout_s=120)
        assert "shows 2 studies" in output[-1]
        processes = {server.pid} | descendants(server.pid)
        sockets = listening(processes)
        assert sockets and all(proto == "tcp" and loopback_v4(addr) for proto, addr in sockets), sockets

        base = f"http://127.0.0.1:{port}"
        net_log = tmp_path / "net.json"
        studies = render(f"{base}/dashboard", tmp_path / "chromium", net_log=net_log)
        assert tpe_id in studies and "re-cifar10-valid" in studies
        study_id = int(re.search(r'href="/dashboard/studies/(\d+)"[^>]*>(?:(?!</a>).)*' + re.escape(tpe_id),
                                 studies, re.S).group(1))
        page = render(f"{base}/dashboard/studies/{study_id}", tmp_path / "chromium", net_log=net_log)
        assert "History" in page and "js-plotly-plot" in page and "Objective Value" in page
        trials = render(f"{base}/dashboard/studies/{study_id}/trials", tmp_path / "chromium")
        shown = {int(n) for n in re.findall(r"Trial (\d+)", trials)}
        assert {0, 1, 2} <= shown <= set(range(n_trials)) and "Complete" in trials
        requested = page_requests(net_log)
        assert f"{base}/static/bundle.js" in requested and any("/api/studies" in url for url in requested)
        for url in requested:  # nothing from the internet: the front end is the wheel's own bundle
            parsed = urllib.parse.urlparse(url)
            assert parsed.scheme in ("data", "blob") or parsed.netloc == f"127.0.0.1:{port}", url

        os.kill(server.pid, signal.SIGINT)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert not any(os.path.exists(f"/proc/{pid}") for pid in processes - {server.pid})
    with pytest.raises(ProcessLookupError):  # nothing is left in the dashboard's process group
        os.killpg(server.pid, 0)

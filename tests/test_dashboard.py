"""``hpo2nas dashboard`` end to end: real redis, real DeepCAVE, real headless Chromium.

The dashboard is started as a user starts it, the page is rendered by Debian's Chromium,
and Ctrl-C (SIGINT) must stop everything: no process of redis or DeepCAVE may be left, and
nothing may ever have listened on anything but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
import urllib.parse
from pathlib import Path

import pytest
from _browser import descendants, free_port, listening, loopback_v4, render, start_cli_server, until_serving
from _deepcave_tools import make_run, require

from harness.exports.deepcave import MANIFEST, export_deepcave

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
        until_serving(dashboard, lines, "DeepCAVE http", timeout_s=240)
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
    from harness.dashboards.deepcave import DEEPCAVE_PYTHON_ENV, deepcave_python, serve_dashboard
    from adapters.types import BadInputError

    monkeypatch.delenv(DEEPCAVE_PYTHON_ENV, raising=False)
    assert deepcave_python() == Path(__file__).resolve().parents[1] / ".venv-deepcave" / "bin" / "python"
    missing = tmp_path / "elsewhere" / "bin" / "python"
    monkeypatch.setenv(DEEPCAVE_PYTHON_ENV, str(missing))
    assert deepcave_python() == missing
    with pytest.raises(BadInputError, match=f"{missing} is missing.*{DEEPCAVE_PYTHON_ENV}"):
        serve_dashboard(tmp_path)


SPEC = Path(__file__).resolve().parents[1] / "experiments" / "nb201_cifar10.toml"
#: DeepCAVE 1.4.1's pages (plugin ids) that show every selected run at once. They refused the
#: whole selection ("The objectives of the selected runs cannot be merged") while SMAC's
#: second copies (objective ``cost``) sat beside the DataFrame runs.
CROSS_RUN_PAGES = ("cost_over_time", "pareto_front")
#: Pages about one run (the static ones compute only when their Process button is pressed; the
#: test presses it). Not opened yet: Configuration Footprint, Ablation Paths, Partial Dependencies
#: and Symbolic Explanations compute for minutes per run here (Footprint's MDS over its ~4,000
#: border and random configurations ran past 10 minutes on the 2 shared cores); Configuration
#: Cube drew nothing with the choices this test makes, which is not yet understood; Parallel
#: Coordinates, Budget Correlation and a configuration's page were not reached in time to check.
RUN_PAGES = ("overview", "importances")
#: The sum of the traces of every plotly graph on the page (0 while nothing is drawn).
_TRACES = "[...document.querySelectorAll('.js-plotly-plot')].reduce((n, p) => n + (p.data || []).length, 0)"
_NOTICES = "[...document.querySelectorAll('.alert')].map(a => a.innerText.trim()).filter(t => t).join(' | ')"
#: Choose ``%s`` in the run selector and the first option of every other empty selector, as a
#: user would; a selector fills its options only once the run is chosen, so this is repeated.
_CHOOSE = """(() => {
  const setter = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;
  let changed = 0;
  for (const select of document.querySelectorAll('select')) {
    if (select.value !== '' || select.options.length < 2) continue;
    const option = select.id.endsWith('-run-input')
      ? [...select.options].find(o => o.text.endsWith('/%s')) : select.options[1];
    if (!option) continue;
    setter.call(select, option.value);
    select.dispatchEvent(new Event('change', {bubbles: true}));
    changed += 1;
  }
  return changed; })()"""


def _spec_export(tmp_path: Path) -> Path:
    """Every optimizer of the shipped main spec, one seed on a small budget, exported as ``compare`` exports it."""
    from dataclasses import replace

    from harness.running.budget import Budget
    from harness.compare import compare
    from harness.running.spec import Profile, load_spec

    spec = load_spec(SPEC)
    small = replace(spec, profiles={"small": Profile("small", seeds=(0,), budget=Budget.parse("30000s"))},
                    export_deepcave=True)
    return compare(small, "small", out=tmp_path / "compare").out / "deepcave"


def _page_traces(browser, url: str, run: str | None, timeout_s: float) -> tuple[int, str]:
    """Open a DeepCAVE page as a user would, reloading it once if it draws nothing.

    DeepCAVE 1.4.1's result cache is a JSON file that concurrent callbacks read while another
    rewrites it; the loser fails with a JSONDecodeError (in the server log) and its graph stays
    empty until the page is loaded again.
    """
    traces, notices = _open_page(browser, url, run, timeout_s)
    if not traces:
        traces, notices = _open_page(browser, url, run, timeout_s)
    return traces, notices


def _open_page(browser, url: str, run: str | None, timeout_s: float) -> tuple[int, str]:
    """Open a DeepCAVE page, choose ``run`` (and defaults), press Process if the page has it; wait for a graph."""
    browser.open(url)
    page = url.split("/plugins/")[1].split("?")[0]
    assert browser.wait_for("document.querySelectorAll('.js-plotly-plot, select').length > 0", 240), page
    if run is not None:
        for _ in range(4):
            browser.evaluate(_CHOOSE % run)
            time.sleep(2)
    button = f"document.getElementById('{page}-update-button')"
    if browser.evaluate(f"!!{button} && {button}.innerText.trim() === 'Process'"):
        assert browser.wait_for(f"!{button}.disabled", 60), f"{page}: Process stays disabled"
        browser.evaluate(f"{button}.click()")
    traces = browser.wait_for(_TRACES, timeout_s) or 0
    # Let the page's other callbacks finish: DeepCAVE's server answers the next page only after them.
    browser.wait_for("document.querySelectorAll('[data-dash-is-loading]').length === 0", 180)
    return traces, browser.evaluate(_NOTICES)


def test_every_deepcave_page_with_data_works_on_a_shipped_spec(tmp_path, data_root):
    """A shipped spec's export (SMAC runs included) opens in the dashboard, and its pages draw their data: the
    pages over all selected runs (which refused SMAC's second copies) and RUN_PAGES for a SMAC run."""
    require("redis-server", "chromium", deepcave=True)
    from _browser import DevToolsBrowser

    export = _spec_export(tmp_path)
    manifest = json.loads((export / MANIFEST).read_text())["runs"]
    runs = [entry["name"] for entry in manifest if entry["format"] == "DataFrame"]
    assert any(entry["format"] == "SMAC3v2" for entry in manifest), "the spec's SMAC runs export SMAC's folder too"
    smac = next(name for name in runs if name.startswith("smac-hpo-"))
    port = free_port()
    dashboard, lines = start_cli_server("dashboard", str(export), "--port", str(port))
    drawn: dict[str, int] = {}
    try:
        output = until_serving(dashboard, lines, "DeepCAVE http", timeout_s=240)
        assert f"shows {len(runs)} runs" in output[-1], output[-1]  # SMAC's copies are not preselected
        base = f"http://127.0.0.1:{port}/plugins"
        with DevToolsBrowser(tmp_path / "chromium") as browser:
            for page in CROSS_RUN_PAGES:
                drawn[page], notices = _page_traces(browser, f"{base}/{page}", None, 180)
                assert "cannot be merged" not in notices, (page, notices)
                # Pareto Front compares runs at one budget and says so when their budget sets differ (a
                # multi-fidelity run that reached no 200-epoch trial); that is DeepCAVE's stated rule, not a failure.
                unequal = page == "pareto_front" and "budgets of the runs are not equal" in notices
                assert drawn[page] >= len(runs) or unequal, (page, drawn[page], notices)
            for page in RUN_PAGES:
                drawn[page], notices = _page_traces(browser, f"{base}/{page}", smac, 300)
                assert drawn[page] > 0, (page, notices)
    finally:
        os.kill(dashboard.pid, signal.SIGINT)
        dashboard.wait(timeout=60)
    print(json.dumps(drawn))

"""scripts/docs_results.py rewrites a doc's results table from the compare run its marker names."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "docs_results.py"
COMMAND = "hpo2nas compare experiments/tiny.toml --profile quick"
SPEC = """
name = "tiny"
store = "default"
datasets = ["cifar10-valid"]
output = "results/tiny"
[profiles.quick]
seeds = [0, 1]
budget = "20000s"
[optimizers.random]
[optimizers.re]
population_size = 5
tournament_size = 2
"""
STALE = "| optimizer | regret |\n|---|---|\n| re | 9.999 |"
README = f"""# tiny

Before the table.

<!-- results id="tiny-summary" command="{COMMAND}" table="Results on cifar10-valid > Summary" columns="optimizer;seeds;regret pp (x-valid)" rows="re;random" -->
{STALE}
<!-- /results -->

Between the tables.

<!-- results id="tiny-origins" command="{COMMAND}" table="Where the trials came from" -->
{STALE}
<!-- /results -->

After the tables.
"""


def _script(root: Path, *args: str, data: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"HPO2NAS_DATA": str(data)} if data else {})}
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args],
                          cwd=root, capture_output=True, text=True, timeout=600, env=env)


def _between(text: str, marker_id: str) -> str:
    start = text.index(f'id="{marker_id}"')
    body = text[text.index("\n", start) + 1:]
    return body[: body.index("<!-- /results -->")]


def _report_rows(report: Path, heading: str) -> list[str]:
    lines = report.read_text().splitlines()
    at = lines.index(heading)
    start = next(i for i in range(at, len(lines)) if lines[i].startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


@pytest.fixture(scope="module")
def site(tmp_path_factory, data_root) -> Path:
    """A repository root with one spec and a README of two stale tables, after one real rerun of one table."""
    root = tmp_path_factory.mktemp("site")
    (root / "experiments").mkdir()
    (root / "experiments" / "tiny.toml").write_text(textwrap.dedent(SPEC))
    (root / "README.md").write_text(README)
    done = _script(root, "--table", "tiny-summary", data=data_root)
    assert done.returncode == 0, done.stderr
    return root


def test_rerun_rewrites_only_the_named_table_from_the_fresh_report(site):
    """--table reruns the marker's command and copies the report's table, cut to the named columns and rows."""
    text = (site / "README.md").read_text()
    body = _between(text, "tiny-summary")
    assert STALE not in body
    assert f"`{COMMAND}`" in body and "make docs-results TABLE=tiny-summary" in body
    table = [line for line in body.splitlines() if line.startswith("|")]
    assert table[0] == "| optimizer | seeds | regret pp (x-valid) |"
    assert [row.split("|")[1].strip() for row in table[2:]] == ["re", "random"]
    report = site / "results" / "tiny" / "quick" / "report.md"
    summary = {line.split("|")[1].strip(): line for line in _report_rows(report, "### Summary")[2:]}
    for row in table[2:]:
        name, seeds, regret = (cell.strip() for cell in row.strip("|").split("|"))
        cells = [cell.strip() for cell in summary[name].strip("|").split("|")]
        assert seeds == cells[1] == "2"
        assert regret in cells and float(regret.split(" ± ")[0]) >= 0
    # The other table and the prose around both are as they were.
    assert _between(text, "tiny-origins") == STALE + "\n"
    assert text.startswith("# tiny\n\nBefore the table.\n") and text.endswith("After the tables.\n")


def test_from_reads_an_existing_folder_without_rerunning(site):
    """--from fills every table of that spec and profile from the folder's report; nothing reruns."""
    report = site / "results" / "tiny" / "quick" / "report.md"
    stamp = report.stat().st_mtime_ns
    done = _script(site, "--from", "results/tiny/quick")
    assert done.returncode == 0, done.stderr
    assert report.stat().st_mtime_ns == stamp
    body = _between((site / "README.md").read_text(), "tiny-origins")
    rows = [line for line in body.splitlines() if line.startswith("|")]
    assert rows == _report_rows(report, "### Where the trials came from")
    assert rows[0].startswith("| optimizer | trials/run |") and len(rows) == 4


def test_a_folder_of_another_run_is_refused_and_nothing_is_written(site, tmp_path):
    """A results folder whose report names another spec or profile: one line, exit 2, the doc unchanged."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "report.md").write_text("# hpo2nas report: tiny (profile full)\n")
    before = (site / "README.md").read_text()
    done = _script(site, "--from", str(other))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "profile full" in done.stderr and COMMAND in done.stderr
    assert (site / "README.md").read_text() == before


@pytest.mark.parametrize(("args", "message"), [
    (("--table", "nope"), "no results table 'nope'; tables: tiny-origins, tiny-summary"),
    (("--from", "results"), "report.md is missing"),
])
def test_bad_input_is_one_line_and_exit_2(site, args, message):
    """An unknown table or a folder that is no compare output: one line on stderr, exit 2."""
    done = _script(site, *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert message in done.stderr


def test_the_shipped_docs_tables_name_compare_runs_that_exist():
    """Every results marker in README.md and docs/ names a compare of a shipped spec and one of its profiles."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--list"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from harness.running.spec import load_spec

    listed = [line.split("\t") for line in done.stdout.splitlines()]
    assert len(listed) >= 5
    for marker_id, doc, command in listed:
        words = command.split()
        spec = load_spec(REPO / words[2])
        assert words[:2] == ["hpo2nas", "compare"] and words[words.index("--profile") + 1] in spec.profiles, marker_id
        body = _between((REPO / doc).read_text(), marker_id)
        assert f"`{command}`" in body and sum(line.startswith("|") for line in body.splitlines()) >= 3, marker_id

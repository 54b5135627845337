"""The comparison report from real runs: files, table values, the Friedman test, splits, edge cases."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.reporting.document import Heading, Paragraph
from harness.reporting.report import ReportContext, write_report
from harness.reporting.stats import RankTest, final_order, focus, full_training_grid, nemenyi_cd, run_finals, step_curves
from _runs import BUDGET, DATASET, OPTIMIZERS, SEEDS, make_trials

FIGURES = ("regret_time", "regret_cost", "rank_time", "final_regret", "cd_diagram", "importance", "history", "edf",
           "pair_heatmap")


@pytest.fixture(scope="module")
def trials(default_bench, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return make_trials(data_root, tmp_path_factory)


@pytest.fixture(scope="module")
def context(default_bench) -> ReportContext:
    return ReportContext(
        spec="test_spec",
        profile="quick",
        store=default_bench.name,
        store_checksum=default_bench.checksum,
        budget=BUDGET,
        budget_rule="every trial is charged the table's train time; a trial starts only if it fits.",
        datasets=(DATASET,),
        optimum={DATASET: default_bench.best(DATASET).valid_acc},
        splits={DATASET: default_bench.splits(DATASET)},
        excluded=[("optuna-hyperband", "the store has no learning curves")],
        notes={"re": ["population 10, tournament 3"]},
        machine={"cores": "2"},
        wall_time_s=1.5,
    )


@pytest.fixture(scope="module")
def report(trials: pd.DataFrame, context: ReportContext, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(trials, context, tmp_path_factory.mktemp("report"))


def _row(markdown: str, name: str) -> list[str]:
    """The cells of the first table row whose first cell is ``name``."""
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and cells[0] == name:
            return cells
    raise AssertionError(f"no table row for {name}")


def _finals(trials: pd.DataFrame) -> pd.DataFrame:
    """Each run's last trial, recomputed here independently of harness.reporting.stats."""
    return trials.loc[trials.groupby("run_id")["trial"].idxmax()]


def test_writes_report_html_pngs_pdfs_and_latex(report: Path) -> None:
    """Every figure is a PNG embedded in the HTML (the page needs no other file) with a PDF twin; every table has LaTeX."""
    assert report.name == "report.md" and report.read_text().startswith("# hpo2nas report: test_spec")
    html = (report.parent / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    for stem in FIGURES:
        png = report.parent / f"{stem}_{DATASET}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-", png
        assert f"]({png.name})" in report.read_text() and f"]({png.stem}.pdf)" in report.read_text()
        assert f'src="data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"' in html
    assert 'src="' + FIGURES[0] not in html, "no figure may be linked instead of embedded"
    tables = re.findall(r"LaTeX: \[(table_[a-z0-9_]+\.tex)\]", report.read_text())
    assert len(tables) == report.read_text().count("\n|---|") == 3
    for name in tables:
        latex = (report.parent / name).read_text()
        assert latex.startswith("\\begin{table}") and "\\toprule" in latex and "\\bottomrule" in latex


def test_latex_summary_holds_the_markdown_rows(report: Path) -> None:
    """The LaTeX twin of the summary has the same rows, in the same (rank) order, with special characters escaped."""
    markdown = report.read_text()
    latex = (report.parent / f"table_results_on_{DATASET.replace('-', '_')}_summary.tex").read_text()
    body = latex.split("\\midrule\n")[1].split("\\bottomrule")[0].strip().splitlines()
    md_rows = [line for line in markdown.split("### Summary")[1].split("LaTeX:")[0].splitlines()
               if line.startswith("| ") and not line.startswith("| optimizer")]
    assert [row.split(" & ")[0] for row in body] == [row.split("|")[1].strip() for row in md_rows]
    assert "$\\pm$" in latex and "±" not in latex and "%" not in latex.replace("\\%", "")


def test_figures_follow_the_final_rank_order(report: Path, trials: pd.DataFrame) -> None:
    """Summary rows are ordered by mean rank of final regret over seeds, recomputed here from the trials."""
    regret = _finals(trials).pivot(index="seed", columns="optimizer", values="regret_valid")
    ranks = pd.DataFrame(stats.rankdata(regret.to_numpy(), axis=1), columns=regret.columns).mean()
    expected = sorted(regret.columns, key=lambda n: (ranks[n], regret[n].mean(), n))
    rows = [line.split("|")[1].strip() for line in report.read_text().split("### Summary")[1].split("LaTeX:")[0]
            .splitlines() if line.startswith("| ") and not line.startswith("| optimizer")]
    assert rows == expected


def test_table_recomputes_from_trials(report: Path, trials: pd.DataFrame) -> None:
    markdown = report.read_text()
    finals = _finals(trials)
    valid = finals.pivot(index="seed", columns="optimizer", values="incumbent_valid_acc")
    for name in OPTIMIZERS:
        runs = trials[trials["optimizer"] == name]
        cells = _row(markdown, name)
        acc = valid[name]
        assert cells[1] == str(len(SEEDS))
        assert cells[3] == f"{acc.mean():.2f} ± {acc.std():.2f}"
        test = finals.pivot(index="seed", columns="optimizer", values="incumbent_test_acc")[name]
        assert cells[4] == f"{test.mean():.2f} ± {test.std():.2f}"  # seed-mean cifar10 ori-test (NB201 convention)
        assert cells[8] == f"{runs.groupby('run_id')['canonical_id'].nunique().mean():.1f}"
        assert cells[9] == f"{runs['wall_s'].mean() * 1000:.2f}"
        if name != "random":
            diff = acc - valid["random"]
            assert cells[6] == f"{diff.mean():+.3f} (n={len(SEEDS)})"
            assert cells[7] == f"{stats.wilcoxon(diff.to_numpy()).pvalue:.4g}"
    assert _row(markdown, "random")[6] == "reference"


def test_friedman_p_value_equals_scipy(report: Path, trials: pd.DataFrame) -> None:
    regret = _finals(trials).pivot(index="seed", columns="optimizer", values="regret_valid")
    p = stats.friedmanchisquare(*(regret[c] for c in regret.columns)).pvalue
    assert f"p = {p:.4g};" in report.read_text()


def test_states_store_splits_budget_and_exclusions(report: Path, context: ReportContext) -> None:
    text = report.read_text()
    html = (report.parent / "report.html").read_text()
    assert context.store_checksum in text and context.store_checksum in html
    for split in context.splits[DATASET].values():
        assert split in text
    assert context.budget_rule.replace("'", "&#x27;") in html and context.budget_rule in text
    assert "optuna-hyperband: the store has no learning curves" in text
    assert "re: population 10, tournament 3" in text


def test_single_optimizer_says_what_cannot_be_computed(
    trials: pd.DataFrame, context: ReportContext, tmp_path: Path
) -> None:
    one = trials[(trials["optimizer"] == "re") & (trials["seed"] < 2)]
    extra = replace(context, extra=(Heading("Appended analysis"), Paragraph("from `elsewhere`")))
    text = write_report(one, extra, tmp_path).read_text()
    assert text.endswith("## Appended analysis\n\nfrom `elsewhere`\n")
    assert "<p>from <code>elsewhere</code></p>" in (tmp_path / "report.html").read_text()
    assert "Cannot be computed: Friedman's test needs at least 3 optimizers" in text
    assert "reference optimizer 'random' is not among the runs" in text
    assert _row(text, "re")[1] == "2"
    assert not (tmp_path / f"cd_diagram_{DATASET}.png").exists()


def test_nemenyi_cd_matches_demsar_table() -> None:
    # Demšar (2006), Table 5a: q_0.05 = 2.343 (k=3), 2.728 (k=5), 3.164 (k=10).
    for k, q in ((3, 2.343), (5, 2.728), (10, 3.164)):
        assert nemenyi_cd(k, 8) == pytest.approx(q * np.sqrt(k * (k + 1) / 48), abs=2e-3)


def test_cliques_are_maximal_runs_within_cd() -> None:
    test = RankTest(pd.Series([1.0, 1.5, 2.4, 3.6], index=list("abcd")), 10, cd=1.0)
    assert test.cliques == [("a", "b"), ("b", "c")]


def test_step_curves_hold_last_value_after_a_run_ends() -> None:
    runs = pd.DataFrame(
        {"optimizer": "x", "seed": [0, 0, 1], "trial": [0, 1, 0],
         "sim_end_s": [1.0, 3.0, 2.0], "regret_valid": [5.0, 2.0, 4.0]}
    )
    curves = step_curves(runs, "sim_end_s", np.array([1.0, 2.0, 3.0, 10.0]))["x"]
    np.testing.assert_array_equal(curves.loc[0], [5.0, 5.0, 2.0, 2.0])
    np.testing.assert_array_equal(curves.loc[1], [np.nan, 4.0, 4.0, 4.0])


def test_full_training_equivalents_count_a_12_epoch_trial_as_012_of_200() -> None:
    """The cost axis charges f/200 per trial, so two 12-epoch trials and a 200-epoch one sum to 1.12, not 3."""
    runs = pd.DataFrame(
        {"optimizer": "x", "seed": 0, "run_id": "a", "trial": [0, 1, 2], "fidelity": [12, 12, 200],
         "sim_end_s": [1.0, 2.0, 3.0], "regret_valid": [5.0, 4.0, 1.0]}
    )
    grid = full_training_grid(runs, points=3)
    assert grid[0] == pytest.approx(0.06) and grid[-1] == pytest.approx(1.12)
    curve = step_curves(runs, "full_trainings", np.array([0.06, 0.12, 1.0, 1.12]))["x"].loc[0]
    np.testing.assert_array_equal(curve, [5.0, 4.0, 4.0, 1.0])


def test_final_order_ranks_by_mean_rank_then_regret_and_focus_keeps_baselines(trials: pd.DataFrame) -> None:
    """The report's one order is the mean rank of final regret; the focus is its head plus the named baselines."""
    finals = run_finals(trials)
    order = final_order(finals)
    assert sorted(order) == sorted(OPTIMIZERS)
    assert focus(order, 1, ("random",)) == [n for n in order if n in {order[0], "random"}]
    assert focus(order, len(order), ()) == order


def test_origin_shares_table(report: Path, trials: pd.DataFrame) -> None:
    """The origin table gives RE's first-population share, counted here from its trials."""
    text = report.read_text()
    assert "### Where the trials came from" in text
    table = text.split("### Where the trials came from")[1]
    runs = trials[trials["optimizer"] == "re"]
    initial = 100 * (runs["origin"] == "initial population").mean()
    cells = _row(table, "re")
    assert cells[1] == f"{len(runs) / len(SEEDS):.1f}"
    assert cells[2] == f"{initial:.1f}" and cells[4] == f"{100 - initial:.1f}"
    assert _row(table, "random")[3] == "100.0"


def test_plotting_studies_hold_every_record_and_the_report_fanova(trials: pd.DataFrame) -> None:
    """The report's in-memory studies skip Optuna's per-trial deep copy: their trials must still be
    exactly the records (params, value, state, attrs), each trial its own object, and the
    report's fANOVA must equal a fit of Optuna's own evaluator with the same settings."""
    import optuna

    from adapters.optimizers.optuna_study import frozen_trial
    from harness.reporting import optuna_plots
    from harness.reporting.stats import edge_importance

    study = optuna_plots.pooled_study(trials)
    final = trials[(trials["status"] == "ok") & (trials["fidelity"] == trials["fidelity"].max())]
    expected = [frozen_trial(row, n) for n, row in enumerate(final.to_dict("records"))]
    got = study.get_trials(deepcopy=True)
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert (a.number, a.params, a.value, a.state, a.user_attrs) == (b.number, b.params, b.value, b.state,
                                                                         b.user_attrs)
    assert len({id(t) for t in got}) == len(got)
    fanova = edge_importance(study)
    refit = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(n_trees=16, max_depth=8, seed=0))
    assert refit == pytest.approx(dict(fanova))


@pytest.mark.parametrize("width", [1400, 760])
def test_report_html_renders_alone_with_every_figure_within_the_page(report: Path, tmp_path: Path, width: int) -> None:
    """Headless Chromium opens report.html copied alone (no PNG beside it): every figure loads, none is wider
    than the page at a desktop or a narrow window, nothing scrolls sideways, and the screenshot is not blank."""
    from _browser import DevToolsBrowser
    from _deepcave_tools import require

    require("chromium")
    alone = tmp_path / "alone" / "report.html"
    alone.parent.mkdir()
    alone.write_bytes((report.parent / "report.html").read_bytes())
    with DevToolsBrowser(tmp_path / "chromium", width=width, height=900) as browser:
        browser.open(alone.as_uri())
        assert browser.wait_for("[...document.images].every(i => i.complete)", 30)
        layout = browser.evaluate("""JSON.stringify({
            page: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth,
            body: document.body.getBoundingClientRect().right,
            images: [...document.images].map(i => ({alt: i.alt, natural: i.naturalWidth,
                                                    right: i.getBoundingClientRect().right, width: i.width}))})""")
        shot = tmp_path / "report.png"
        browser.screenshot(shot)
    import json

    facts = json.loads(layout)
    assert len(facts["images"]) == len(FIGURES)
    for image in facts["images"]:
        assert image["natural"] > 300, f"figure did not load: {image['alt']}"
        assert 0 < image["width"] and image["right"] <= facts["page"], f"figure wider than the page: {image}"
    assert facts["scroll"] <= facts["page"], "the page scrolls sideways"
    assert shot.stat().st_size > 50_000


@pytest.mark.parametrize(("line", "message"), [
    ("focus = 0", "key 'focus' must be a positive integer, got 0"),
    ("focus = true", "key 'focus' must be a int"),
    ('baselines = ["nope"]', "key 'baselines' must name optimizers of the spec (random, re), got nope"),
])
def test_spec_rejects_a_bad_focus_or_baseline(tmp_path: Path, line: str, message: str) -> None:
    """The report's focus keys are checked when the spec loads, with one line naming the key."""
    from adapters.types import BadInputError
    from harness.running.spec import load_spec

    spec = tmp_path / "s.toml"
    spec.write_text(f'name = "s"\ndatasets = ["cifar10-valid"]\n{line}\n[profiles.quick]\nseeds = [0]\n'
                    'budget = "4evals"\n[optimizers.random]\n[optimizers.re]\n')
    with pytest.raises(BadInputError, match=re.escape(message)):
        load_spec(spec)
    spec.write_text(spec.read_text().replace(line, 'focus = 1\nbaselines = ["re"]'))
    loaded = load_spec(spec)
    assert (loaded.focus, loaded.baselines) == (1, ("re",))

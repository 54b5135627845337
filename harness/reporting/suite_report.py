"""The report sections of a multi-task (suite) experiment, from trial records and each task's facts.

Like :mod:`harness.reporting.report`, this reads only the trials (and the :class:`TaskFacts` the
caller states for each task: its kind, objective, direction, true optimum and median), never a
benchmark, so the sections can be rebuilt from the records of any finished suite compare.

Sections, in order: the tasks; per-task final regret (each task's own unit and direction);
normalised regret, final and anytime, averaged over HPO tasks, NAS tasks and all; mean rank
across tasks with autorank's critical-difference diagram; and the headline table, each
optimizer's mean rank on the HPO tasks beside its mean rank on the NAS tasks, with a
permutation test of whether the order changes (:func:`harness.reporting.suite_stats.kind_shift`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from adapters.types import BadInputError
from harness.reporting import figures
from harness.reporting.document import Block, Heading, Image, Paragraph, Table
from harness.reporting.plot_style import styles_for
from harness.reporting.formats import mean_std_g, short_split
from harness.reporting.stats import in_tell_order
from harness.reporting.suite_figures import NORMALISED_FLOOR, plot_normalised_panels, plot_rank_shift
from harness.reporting.suite_stats import (
    TaskFacts,
    critical_difference,
    kind_shift,
    normalised_regret,
    regret,
    task_label,
    task_ranks,
)

__all__ = ["HEADLINE", "SuiteData", "suite_data", "suite_section", "headline_table", "ANYTIME_GRID"]

#: The heading of the headline table (README and tests find the table by it).
HEADLINE = "HPO tasks vs NAS tasks: mean rank"
#: The anytime grid: shares of each task's budget at which every run's incumbent is read.
ANYTIME_GRID = np.linspace(0.05, 1.0, 20)
_KIND_NAMES = {"hpo": "HPO", "nas": "NAS"}


class SuiteData:
    """Every number the suite sections show, computed once from the trials and the tasks' facts.

    Attributes:
        facts: task -> its facts, in report order (tasks without trials left out).
        finals: one row per run (task, optimizer, seed): final incumbent value, regret, normalised regret.
        anytime: one row per run: its normalised regret at each share of :data:`ANYTIME_GRID`.
        scores: tasks x optimizers of mean final normalised regret (NaN where an optimizer did not run).
        ranked: the optimizers that ran on every task: the rank statistics compare only them, so one
            optimizer refused on some tasks (a multi-fidelity one off NB201) does not shrink every
            comparison to the tasks it ran on.
        ranks: tasks x ranked optimizers of per-task ranks.
    """

    def __init__(self, facts: Mapping[str, TaskFacts], finals: pd.DataFrame, anytime: pd.DataFrame) -> None:
        self.facts = dict(facts)
        self.finals = finals
        self.anytime = anytime
        self.scores = finals["normalised"].groupby(["task", "optimizer"]).mean().unstack("optimizer").reindex(
            list(self.facts))
        self.ranked = [n for n in self.scores.columns if self.scores[n].notna().all()]
        self.ranks = task_ranks(self.scores[self.ranked])
        self.kinds = pd.Series({task: f.kind for task, f in self.facts.items()})

    @property
    def order(self) -> list[str]:
        """Ranked optimizers by mean rank (then mean normalised regret, then name), then the others."""
        means = self.scores.mean()
        ranks = self.ranks.mean()
        return sorted(self.scores.columns, key=lambda n: (float(ranks.get(n, np.inf)), float(means[n]), str(n)))


def _spent(run: pd.DataFrame) -> np.ndarray:
    """The budget a run had spent after each trial (in tell order): its cumulative charge (1 a trial where
    records lack the ``budget_charged`` column)."""
    charged = run["budget_charged"].to_numpy(float) if "budget_charged" in run else np.ones(len(run))
    return np.cumsum(charged)


def suite_data(trials: pd.DataFrame, facts: Mapping[str, TaskFacts], *, value: str = "incumbent_valid_acc") -> SuiteData:
    """The suite's numbers from pooled trial records.

    Args:
        trials: the trials of every run; each run's task is ``benchmark/dataset`` from its records (records
            from before the ``benchmark`` column are NB201's).
        facts: task -> :class:`TaskFacts`; its order is the report's task order.
        value: the column holding the incumbent's seed-mean objective after each trial.
    """
    if trials.empty:
        raise BadInputError("no trials to report")
    benchmark = trials["benchmark"] if "benchmark" in trials else pd.Series("nb201", index=trials.index)
    trials = trials.assign(task=[task_label(b, d) for b, d in zip(benchmark, trials["dataset"])])
    unknown = sorted(set(trials["task"]) - set(facts))
    if unknown:
        raise BadInputError(f"no task facts (kind, optimum, median) for tasks {unknown}")
    finals, anytime = [], []
    for task, frame in in_tell_order(trials, by=("task", "optimizer", "seed")).groupby("task", sort=False):
        fact = facts[task]
        runs = list(frame.groupby(["optimizer", "seed"], sort=False))
        budget = max(float(_spent(run)[-1]) for _, run in runs)  # the task's budget: the most any run spent
        for (optimizer, seed), run in runs:
            values = run[value].to_numpy(float)
            normalised = normalised_regret(values, fact)
            finals.append({"task": task, "optimizer": optimizer, "seed": seed, "value": values[-1],
                           "regret": regret(values[-1], fact), "normalised": normalised[-1], "trials": len(run)})
            share = _spent(run) / budget
            pos = np.searchsorted(share, ANYTIME_GRID + 1e-12, side="right") - 1
            curve = np.where(pos >= 0, normalised[np.maximum(pos, 0)], np.nan)
            anytime.append({"task": task, "optimizer": optimizer, "seed": seed,
                            **{f"{g:.2f}": c for g, c in zip(ANYTIME_GRID, curve)}})
    index = ["task", "optimizer", "seed"]
    ordered = {task: facts[task] for task in facts if task in set(trials["task"])}
    return SuiteData(ordered, pd.DataFrame(finals).set_index(index), pd.DataFrame(anytime).set_index(index))


def _g(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.4g}"


def _tasks_table(data: SuiteData) -> list[Block]:
    rows = []
    for task, f in data.facts.items():
        runs = data.finals.xs(task, level="task")
        rows.append((task, _KIND_NAMES[f.kind], f"{f.metric} ({short_split(f.split)}, {f.direction})", f"{f.configs:,}",
                     _g(f.best), _g(f.median), str(len(runs)), f"{runs['trials'].mean():.0f}"))
    return [
        Heading("Tasks", 3),
        Paragraph("Each task's objective with its split and direction; optimum: the best seed mean over every "
                  "configuration of the table (regret 0); median: the median seed mean over every configuration "
                  "(normalised regret 1). runs: runs on the task, all optimizers; trials/run: mean trials per run."),
        Table(("task", "kind", "objective (split, direction)", "configs", "optimum", "median", "runs", "trials/run"),
              tuple(rows)),
    ]


def _per_task_table(data: SuiteData, column: str, order: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """tasks x optimizers of mean ± std across seeds of one final column."""
    rows = []
    for task in data.facts:
        runs = data.finals.xs(task, level="task")
        rows.append((task, *(mean_std_g(runs.xs(n, level="optimizer")[column]) if n in runs.index.get_level_values(0)
                             else "not run" for n in order)))
    return tuple(rows)


def _final_regret(data: SuiteData, order: Sequence[str]) -> list[Block]:
    return [
        Heading("Final regret per task", 3),
        Paragraph("Each run's final incumbent: regret = optimum − value where the objective is maximised, value − "
                  "optimum where it is minimised, in the task's own unit (see the tasks table); mean ± std across "
                  "seeds. Columns in the suite's rank order (best first)."),
        Table(("task", *order), _per_task_table(data, "regret", order)),
    ]


def _kind_means(table: pd.DataFrame, data: SuiteData, order: Sequence[str]) -> list[tuple[str, ...]]:
    """Rows 'mean over HPO tasks', 'mean over NAS tasks' and 'mean over all tasks' of a tasks x optimizers table."""
    rows = []
    for label, tasks in (("HPO", [t for t, f in data.facts.items() if f.kind == "hpo"]),
                         ("NAS", [t for t, f in data.facts.items() if f.kind == "nas"]),
                         ("all", list(data.facts))):
        if tasks:
            means = table.reindex(tasks).mean()
            rows.append((f"mean over {label} tasks ({len(tasks)})", *(_g(float(means.get(n, np.nan))) for n in order)))
    return rows


def _normalised(data: SuiteData, order: Sequence[str], out: Path) -> list[Block]:
    final = data.scores
    anytime = data.anytime.mean(axis=1, skipna=True).groupby(["task", "optimizer"]).mean().unstack("optimizer")
    final_rows = [(task, *(_g(float(final.loc[task].get(n, np.nan))) for n in order)) for task in data.facts]
    any_rows = [(task, *(_g(float(anytime.loc[task].get(n, np.nan))) for n in order)) for task in data.facts]
    styles = styles_for(order)
    curves = data.anytime.groupby(["task", "optimizer"]).mean()  # seed means
    xlabel = "share of the task's budget spent"
    kinds = {}
    for kind in ("hpo", "nas"):
        tasks = [t for t, f in data.facts.items() if f.kind == kind]
        if tasks:
            per_task = curves[curves.index.get_level_values("task").isin(tasks)]
            kinds[f"{_KIND_NAMES[kind]} tasks ({len(tasks)})"] = {
                n: per_task.xs(n, level="optimizer").mean(axis=0).to_numpy(float)
                for n in order if n in per_task.index.get_level_values("optimizer")}
    plot_normalised_panels(kinds, ANYTIME_GRID, order=order, styles=styles, xlabel=xlabel,
                           title="Anytime normalised regret, mean over tasks", path=out / "suite_anytime.png",
                           columns=2)
    per_task = {task: {n: curves.loc[(task, n)].to_numpy(float) for n in order if (task, n) in curves.index}
                for task in data.facts}
    plot_normalised_panels(per_task, ANYTIME_GRID, order=order, styles=styles, xlabel=xlabel,
                           title="Anytime normalised regret per task (mean over seeds)",
                           path=out / "suite_anytime_tasks.png", columns=4)
    return [
        Heading("Normalised regret", 3),
        Paragraph("Normalised regret = (optimum − value) / (optimum − median) per task: the issue's "
                  "(value − best) / (best − median) with its sign turned, so it is the same formula for maximised "
                  "and minimised objectives; 0 is the optimum, 1 the task's median configuration. It makes tasks "
                  "of different units comparable, so it can be averaged. Final: mean over seeds of each run's final "
                  "incumbent."),
        Table(("task", *order), tuple(final_rows + _kind_means(final, data, order))),
        Heading("Anytime normalised regret", 3),
        Paragraph(f"Each run's normalised regret read at {len(ANYTIME_GRID)} shares of its task's budget "
                  f"({ANYTIME_GRID[0]:.0%} to 100%: the budget charged so far over the largest total any run of the task "
                  "charged), averaged over those shares where the run had an incumbent, then over seeds: an "
                  "area-under-the-curve score that rewards finding good configurations early."),
        Table(("task", *order), tuple(any_rows + _kind_means(anytime, data, order))),
        Image("suite_anytime.png", "Anytime normalised regret over the share of budget spent, mean over the HPO tasks "
                                   f"and over the NAS tasks (log axis, drawn at {NORMALISED_FLOOR:g} where it is 0; "
                                   "dotted: the median configuration)"),
        Image("suite_anytime_tasks.png", "Anytime normalised regret per task, mean over seeds"),
    ]


def _ranks(data: SuiteData, out: Path, alpha: float) -> list[Block]:
    test = critical_difference(data.scores[data.ranked], alpha)
    ranks = ", ".join(f"{n} {r:.2f}" for n, r in test.mean_ranks.items())
    blocks: list[Block] = [
        Heading("Mean rank across tasks", 3),
        Paragraph(f"Per task, optimizers are ranked by mean final normalised regret over seeds (1 = best, ties "
                  f"averaged); ranks are averaged over the {test.n_blocks} tasks every optimizer ran. "
                  f"Mean ranks: {ranks}."),
    ]
    if test.reason:
        return blocks + [Paragraph(f"Critical-difference diagram: cannot be computed: {test.reason}.")]
    figures.plot_cd_diagram(test, title=f"Critical difference across tasks (autorank, Nemenyi, alpha={alpha:g})",
                            path=out / "suite_cd_diagram.png")
    verdict = "differ significantly" if test.p_value < alpha else "do not differ significantly"
    cliques = "; ".join(", ".join(c) for c in test.cliques) or "none (every pair differs)"
    return blocks + [
        Paragraph(f"autorank 1.3 (non-parametric mode: Friedman test, Nemenyi post-hoc; the library CARP-S uses) on "
                  f"{test.n_blocks} tasks (blocks) x {len(test.mean_ranks)} optimizers: Friedman p = {test.p_value:.4g}; "
                  f"at alpha = {alpha:g} the optimizers {verdict}. Critical difference CD = {test.cd:.3f}; groups "
                  f"not significantly different (joined by bars): {cliques}."),
        Image("suite_cd_diagram.png", "critical-difference diagram of mean rank across tasks"),
    ]


def headline_table(data: SuiteData, *, permutations: int = 10_000) -> tuple[Table, str]:
    """The headline: each optimizer's mean rank on HPO tasks beside NAS tasks, and the test's sentence."""
    shift = kind_shift(data.ranks, data.kinds, permutations=permutations)
    overall = data.ranks.mean()
    names = sorted(data.ranks.columns, key=lambda n: (float(overall[n]), str(n)))
    rows = []
    for n in names:
        p = shift.per_optimizer_p
        rows.append((str(n), f"{shift.hpo_ranks[n]:.2f}", f"{shift.nas_ranks[n]:.2f}",
                     f"{shift.nas_ranks[n] - shift.hpo_ranks[n]:+.2f}", f"{overall[n]:.2f}",
                     "n/a" if p is None else f"{p[n]:.3g}"))
    table = Table(("optimizer", f"mean rank, HPO tasks ({shift.n_hpo})", f"mean rank, NAS tasks ({shift.n_nas})",
                   "NAS − HPO", f"mean rank, all ({len(data.ranks)})", "p (permutation, Holm)"), tuple(rows))
    if shift.reason:
        return table, f"Whether the order changes: not tested, {shift.reason}."
    how = "every relabelling" if shift.exact else f"{shift.permutations:,} random relabellings (seed 0)"
    kendall = ("Kendall's tau-b between the two mean-rank columns: n/a (a column is constant)" if shift.kendall is None
               else f"Kendall's tau-b between the two mean-rank columns: {shift.kendall:.2f} (p = {shift.kendall_p:.3g})")
    text = (
        f"Ranks are per task (1 = lowest mean final normalised regret), averaged over the {shift.n_hpo} HPO and "
        f"{shift.n_nas} NAS tasks. Does the order change? Permutation test on the tasks' kind labels: the statistic is "
        f"the sum over optimizers of |mean rank on HPO − mean rank on NAS| = {shift.statistic:.2f}; under the null "
        f"hypothesis that an optimizer's rank does not depend on the kind of task, the labels are exchangeable, and "
        f"{how} of {shift.n_hpo} HPO among {shift.n_hpo + shift.n_nas} tasks gives p = {shift.p_value:.3g}. The last "
        f"column is the same test per optimizer on its own |NAS − HPO|, Holm-adjusted. {kendall}: descriptive only, "
        "since with this few optimizers it has little power and a non-significant tau would not show the order changed."
    )
    return table, text


def _rank_shift_figure(data: SuiteData, order: Sequence[str], out: Path) -> list[Block]:
    """The headline table as a slope chart (where both kinds of task have ranked runs)."""
    kinds = data.kinds.reindex(data.ranks.index)
    hpo, nas = data.ranks[kinds == "hpo"], data.ranks[kinds == "nas"]
    if hpo.empty or nas.empty:
        return []
    plot_rank_shift(hpo.mean().to_dict(), nas.mean().to_dict(), styles=styles_for(order), n_hpo=len(hpo),
                    n_nas=len(nas), title="Mean rank: HPO tasks vs NAS tasks", path=out / "suite_rank_shift.png")
    return [Image("suite_rank_shift.png", "each optimizer's mean rank on the HPO tasks joined to its mean rank on the NAS "
                                          "tasks; crossing lines are the order changing")]


def suite_section(trials: pd.DataFrame, facts: Mapping[str, TaskFacts], out: Path, *,
                  value: str = "incumbent_valid_acc", alpha: float = 0.05) -> list[Block]:
    """The suite's report blocks (for ``ReportContext.extra``); writes its figures into ``out``."""
    out = Path(out)
    data = suite_data(trials, facts, value=value)
    order = data.order
    table, text = headline_table(data)
    unranked = [n for n in order if n not in data.ranked]
    if unranked:
        missing = {n: [t for t in data.facts if pd.isna(data.scores.loc[t, n])] for n in unranked}
        text += (" Not ranked (they did not run on every task; their regrets are in the tables below): "
                 + "; ".join(f"{n} (no runs on {', '.join(ts)})" for n, ts in missing.items()) + ".")
    return [
        Heading("Suite: across tasks"),
        *_tasks_table(data),
        Heading(HEADLINE, 3),
        Paragraph(text),
        table,
        *_rank_shift_figure(data, order, out),
        *_final_regret(data, order),
        *_normalised(data, order, out),
        *_ranks(data, out, alpha),
    ]

"""The comparison report: report.md, a self-contained report.html, figures (PNG + PDF) and LaTeX tables.

:func:`write_report` reads only the trials and a :class:`ReportContext` (what the caller
knows about the experiment), never the benchmark, so a report can be rebuilt from the
records of any finished compare. Every number names the split it comes from.

One order runs through a dataset's section: optimizers by mean rank of final regret
(``stats.final_order``), in every table, legend and panel. The curves show the focus (the
best ``focus`` optimizers plus the reference and named baselines); with more optimizers than
that, an appendix figure per curve shows them all.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from adapters import NB201, SearchSpace
from adapters.search_space import labels
from harness.reporting import figures, optuna_plots
from adapters.files import atomic_write_text
from harness.reporting.origins import origin_shares
from harness.reporting.plot_style import styles_for
from harness.reporting.document import Block, Bullets, Heading, Image, Paragraph, Table, to_html, to_latex, to_markdown
from harness.reporting.stats import (
    REGRET_FLOOR,
    edge_importance,
    final_order,
    focus,
    friedman_nemenyi,
    full_training_grid,
    paired_margin,
    ranks_over_grid,
    run_finals,
    seed_matrix,
    step_curves,
    time_grid,
)
from adapters.types import BadInputError

__all__ = ["ReportContext", "write_report", "machine_facts", "short_split", "mean_std"]



@dataclass(frozen=True)
class ReportContext:
    """What the report states beside the trial records.

    Attributes:
        spec, profile: the experiment spec's name and profile (``quick``/``full``).
        store, store_checksum: the store every run read, so a reader can check the data.
        budget: the budget text per run (e.g. ``"200000s"``); budget_rule: the sentence
            saying how every optimizer is charged.
        datasets: the datasets in report order; each needs ``optimum`` and ``splits``.
        optimum: per dataset, the known optimum of the seed-mean x-valid accuracy (regret's zero).
        splits: per dataset, metric -> split text (``benchmark.splits(dataset)``).
        excluded: optimizers that could not run, with the reason.
        notes: per optimizer, notes a reader needs (e.g. "falls back to random sampling").
        machine: where it ran (name -> fact); wall_time_s: the compare's wall time.
        reference: the optimizer margins are measured against.
        extra: further sections (e.g. the transfer analysis), appended to both renderings.
        lead: sections that come before the per-dataset ones (a suite's results across tasks).
        space: the store's search space; the importance tables and figures name its hyperparameters.
        store_notes: what the store says about its own values (e.g. how a schedule's time is estimated).
        focus, baselines: the curves show the ``focus`` best optimizers plus ``reference`` and
            ``baselines``; an appendix figure shows every optimizer when that leaves some out.
    """

    spec: str
    profile: str
    store: str
    store_checksum: str
    budget: str
    budget_rule: str
    datasets: tuple[str, ...]
    optimum: Mapping[str, float]
    splits: Mapping[str, Mapping[str, str]]
    excluded: Sequence[tuple[str, str]] = ()
    notes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    machine: Mapping[str, str] = field(default_factory=dict)
    wall_time_s: float | None = None
    reference: str = "random"
    alpha: float = 0.05
    extra: Sequence[Block] = ()
    lead: Sequence[Block] = ()
    space: SearchSpace = NB201
    store_notes: Sequence[str] = ()
    #: Per dataset, its own search space where the datasets differ (a spec over several benchmarks).
    spaces: Mapping[str, SearchSpace] = field(default_factory=dict)
    focus: int = 5
    baselines: Sequence[str] = ()


def machine_facts() -> dict[str, str]:
    """Facts about this machine for ``ReportContext.machine`` (timings mean little without them)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "host": platform.node(),
        "system": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "memory": f"{memory / 2**30:.1f} GiB" if memory else "unknown",
        "python": platform.python_version(),
    }


def short_split(text: str) -> str:
    """The split's name without its explanation: ``'x-valid (half of ...)'`` -> ``'x-valid'``."""
    return text.split(" (")[0]


def mean_std(values: pd.Series | np.ndarray, digits: int = 2) -> str:
    """``mean ± std`` (sample std) of the non-missing values; a lone value has no spread to show."""
    data = pd.Series(values, dtype=float).dropna()
    if data.empty:
        return "n/a"
    if len(data) == 1:
        return f"{data.iloc[0]:.{digits}f}"
    return f"{data.mean():.{digits}f} ± {data.std(ddof=1):.{digits}f}"


def _p(value: float) -> str:
    return f"{value:.4g}"


def _header(context: ReportContext, trials: pd.DataFrame) -> list[Block]:
    splits = [
        f"{ds}: " + "; ".join(f"{metric} = {text}" for metric, text in context.splits[ds].items())
        for ds in context.datasets
    ]
    seeds = sorted(trials["seed"].unique().tolist())
    facts = [
        f"Store: `{context.store}`, checksum `{context.store_checksum}`.",
        f"Budget per run: {context.budget} (the rule below).",
        f"Datasets searched: {', '.join(context.datasets)}. Seeds: {', '.join(map(str, seeds))}.",
        "Splits: " + " | ".join(splits),
        "Known optimum (regret 0), seed-mean validation accuracy: "
        + ", ".join(f"{ds} {context.optimum[ds]:.3f}% ({short_split(context.splits[ds]['valid_acc'])})"
                    for ds in context.datasets),
        "Ran on: " + ("; ".join(f"{k}: {v}" for k, v in context.machine.items()) or "not recorded")
        + (f". Wall time: {context.wall_time_s:.1f} s." if context.wall_time_s is not None else "."),
    ]
    ran = sorted(trials["optimizer"].unique())
    notes = [f"{name}: {'; '.join(context.notes[name])}" for name in ran if context.notes.get(name)]
    excluded = [f"{name}: {reason}" for name, reason in context.excluded] or ["none"]
    store_notes = [note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".") for note in context.store_notes]
    return [
        Heading(f"hpo2nas report: {context.spec} (profile {context.profile})", 1),
        Bullets(tuple(facts)),
        Heading("Budget rule"),
        Paragraph(context.budget_rule),
        *([Paragraph("What the store says about its own values:"), Bullets(tuple(store_notes))] if store_notes else []),
        Heading("Optimizers"),
        Paragraph("Ran: " + ", ".join(ran) + "."),
        *([Paragraph("Notes:"), Bullets(tuple(notes))] if notes else []),
        Paragraph("Could not run:"),
        Bullets(tuple(excluded)),
    ]


def _margin_cells(valid: pd.DataFrame, name: str, reference: str) -> tuple[str, str]:
    """The margin over the reference optimizer and its p-value, as table cells."""
    if reference not in valid.columns:
        return "n/a", "n/a"
    if name == reference:
        return "reference", "—"
    margin = paired_margin(valid, name, reference)
    return ("n/a" if margin.mean is None else f"{margin.mean:+.3f} (n={margin.n})"), margin.reason or _p(margin.p_value)


def _summary(trials: pd.DataFrame, finals: pd.DataFrame, context: ReportContext, dataset: str,
             order: Sequence[str]) -> list[Block]:
    """The per-optimizer table in rank order, with a legend naming the split behind each column."""
    splits = context.splits[dataset]
    valid_split = splits["valid_acc"]
    test_split = splits.get("test_acc")
    valid = finals["valid_acc"].unstack("optimizer")
    wall_ms = trials.groupby("optimizer")["wall_s"].mean() * 1000
    rows = []
    for name in order:
        run = finals.xs(name, level="optimizer", drop_level=False)
        margin, p = _margin_cells(valid, str(name), context.reference)
        test = mean_std(run["test_acc"]) if test_split and run["test_acc"].notna().any() else "not available"
        rows.append(
            (
                str(name),
                str(len(run)),
                f"{run['trials'].mean():.1f}",
                mean_std(run["valid_acc"]),
                test,
                mean_std(run["regret_valid"], 3),
                margin,
                p,
                f"{run['distinct_cells'].mean():.1f}",
                f"{wall_ms[name]:.2f}",
            )
        )
    valid_name = short_split(valid_split)
    test_note = (
        f"test acc: the same cell's seed-mean {test_split}, where the store has it."
        if test_split
        else f"test acc: not available, the store has no test accuracy for {dataset}."
    )
    reference_note = (
        f"margin: mean over common seeds of (final valid acc − {context.reference}'s), in pp of {valid_name}; "
        "p: two-sided Wilcoxon signed-rank test on those paired differences."
        if context.reference in valid.columns
        else f"margin: not computed, the reference optimizer {context.reference!r} is not among the runs."
    )
    legend = (
        f"Final values are each run's last incumbent (the cell with the best validation accuracy the optimizer "
        f"observed). valid acc: the incumbent's seed-mean {valid_split}, mean ± std across seeds (%). "
        f"{test_note} regret: optimum − valid acc (pp, {valid_name}). {reference_note} "
        "cells: distinct canonical cells (isomorphism classes) evaluated per run. "
        "ms/trial: the optimizer's own ask/tell wall time per trial (mean over all its trials). "
        "Rows are in rank order: mean rank of final regret over the seeds every optimizer ran (best first)."
    )
    headers = (
        "optimizer", "seeds", "trials/run", f"valid acc % ({valid_name})",
        f"test acc % ({short_split(test_split) if test_split else 'no test split'})", f"regret pp ({valid_name})",
        f"margin vs {context.reference} (pp)", "p (Wilcoxon)", "cells/run", "ms/trial",
    )
    return [Heading("Summary", 3), Paragraph(legend), Table(headers, tuple(rows))]


def _focus(context: ReportContext, order: list[str]) -> list[str]:
    return focus(order, context.focus, (context.reference, *context.baselines))


def _curves(trials: pd.DataFrame, context: ReportContext, dataset: str, out: Path, order: list[str]) -> list[Block]:
    """Regret over simulated time and over full-training equivalents, and average rank over time.

    Each is drawn for the focus; when that leaves optimizers out, once more for all of them
    (an appendix figure, ``*_all_*``).
    """
    split = short_split(context.splits[dataset]["valid_acc"])
    shown = _focus(context, order)
    partial = len(shown) < len(order)
    grid = time_grid(trials)
    by_time = step_curves(trials, "sim_end_s", grid)
    costs = full_training_grid(trials)
    by_cost = step_curves(trials, "full_trainings", costs)
    max_fidelity = trials["fidelity"].max()
    ranks = ranks_over_grid(by_time) if len(by_time) >= 2 else None
    sets = [("", shown, "")] + ([("_all", order, ", all optimizers")] if partial else [])
    styles = styles_for(order)
    for suffix, names, tag in sets:
        figures.plot_regret_curves({n: by_time[n] for n in names}, grid, xlabel="simulated time (s)", log_x=True,
                                   split=split, order=names, styles=styles,
                                   path=out / f"regret_time{suffix}_{dataset}.png",
                                   title=f"Incumbent regret over simulated time, {dataset}{tag}")
        figures.plot_regret_curves({n: by_cost[n] for n in names}, costs, log_x=True, split=split, order=names,
                                   xlabel=f"full-training equivalents (epochs trained / {max_fidelity:g})",
                                   title=f"Incumbent regret over training effort, {dataset}{tag}", styles=styles,
                                   path=out / f"regret_cost{suffix}_{dataset}.png")
        if ranks is not None:
            figures.plot_ranks(ranks, grid, order=names, styles=styles, path=out / f"rank_time{suffix}_{dataset}.png",
                               title=f"Average rank over simulated time, {dataset}{tag}")
    which = (f"the {context.focus} best optimizers by final rank plus the reference ({context.reference})"
             + (f" and baselines ({', '.join(context.baselines)})" if context.baselines else "")
             + (f"; the appendix of this section shows all {len(order)}" if partial else ""))
    blocks: list[Block] = [
        Heading("Incumbent regret", 3),
        Paragraph(
            f"Mean across seeds with a ±1 standard-error band; regret in pp of seed-mean {split} accuracy on a log "
            f"axis, drawn at {REGRET_FLOOR:g} where it is 0 (the optimum found). Each run is a step function of its "
            "incumbent, held at its last value after the run ends. Shown: " + which + "; the legend lists them "
            "from the lowest final regret down."
        ),
        Image(f"regret_time_{dataset}.png", f"Incumbent regret over simulated time on {dataset}: the time grid starts "
                                            f"at {grid[0]:.0f} s, when every run has finished its first trial"),
        Paragraph(
            "The same over training effort: a trial at fidelity f costs f / "
            f"{max_fidelity:g} full trainings, so a 12-epoch trial counts 0.06 rather than one evaluation, and "
            "multi-fidelity optimizers are compared with single-fidelity ones at equal training effort."
            + ("" if trials["fidelity"].nunique() > 1 else
               f" Every trial here ran at {max_fidelity:g} epochs, so this axis counts evaluations.")
        ),
        Image(f"regret_cost_{dataset}.png", f"Incumbent regret over full-training equivalents on {dataset}"),
        Heading("Average rank over time", 3),
    ]
    if ranks is None:
        return blocks + [Paragraph("Not shown: ranks need at least 2 optimizers.")]
    blocks += [
        Paragraph(f"At each time, all {len(order)} optimizers are ranked per seed by incumbent regret (ties averaged), "
                  "then ranks are averaged over the seeds every optimizer ran; the legend gives each final rank."),
        Image(f"rank_time_{dataset}.png", f"Average rank over simulated time on {dataset}"),
    ]
    if partial:
        blocks += [
            Heading(f"Appendix: all {len(order)} optimizers", 3),
            Image(f"regret_time_all_{dataset}.png", f"Incumbent regret over simulated time on {dataset}, all optimizers"),
            Image(f"regret_cost_all_{dataset}.png",
                  f"Incumbent regret over full-training equivalents on {dataset}, all optimizers"),
            Image(f"rank_time_all_{dataset}.png", f"Average rank over simulated time on {dataset}, all optimizers"),
        ]
    return blocks


def _final(finals: pd.DataFrame, context: ReportContext, dataset: str, out: Path, order: list[str]) -> list[Block]:
    """Box plots of final regret (rank order) and the Friedman/Nemenyi critical-difference diagram."""
    regret = {name: run["regret_valid"].to_numpy() for name, run in finals.groupby(level="optimizer")}
    figures.plot_final_box(regret, split=short_split(context.splits[dataset]["valid_acc"]), order=order,
                           title=f"Final incumbent regret, {dataset}", path=out / f"final_regret_{dataset}.png")
    matrix = seed_matrix(finals, "regret_valid")
    test = friedman_nemenyi(matrix, context.alpha)
    ranks = ", ".join(f"{name} {rank:.2f}" for name, rank in test.mean_ranks.items())
    blocks: list[Block] = [
        Heading("Final regret", 3),
        Image(f"final_regret_{dataset}.png",
              f"Final regret on {dataset}, one box per optimizer in rank order (best at the top), each seed a point; "
              "the axis is linear below 0.1 pp and logarithmic above, so seeds that found the optimum sit at 0"),
        Heading("Critical-difference diagram", 3),
    ]
    if test.reason:
        return blocks + [Paragraph(f"Cannot be computed: {test.reason}. Mean ranks of final regret: {ranks}.")]
    verdict = "differ significantly" if test.p_value < context.alpha else "do not differ significantly"
    figures.plot_cd_diagram(test, title=f"Nemenyi critical difference (alpha={context.alpha:g}), {dataset}",
                            path=out / f"cd_diagram_{dataset}.png")
    cliques = "; ".join(", ".join(c) for c in test.cliques) or "none (every pair differs)"
    text = (
        f"Friedman test on final regret over {test.n_blocks} seeds (blocks) x {len(test.mean_ranks)} optimizers: "
        f"chi² = {test.statistic:.4g}, p = {_p(test.p_value)}; at alpha = {context.alpha:g} the optimizers {verdict}. "
        f"Mean ranks (1 = lowest regret): {ranks}. Nemenyi critical difference CD = {test.cd:.3f}; "
        f"groups not significantly different (joined by bars): {cliques}."
    )
    return blocks + [Paragraph(text), Image(f"cd_diagram_{dataset}.png", f"critical-difference diagram on {dataset}")]


def _importance(importance: pd.Series, study: object, context: ReportContext, dataset: str, out: Path) -> list[Block]:
    """fANOVA and PED-ANOVA importance of the 6 edges over every optimizer's trials pooled."""
    if importance.empty:
        return [Heading("Edge importance", 3),
                Paragraph(f"Cannot be computed: {importance.name} completed at the highest fidelity, "
                          "with fewer than two distinct accuracies.")]
    split = short_split(context.splits[dataset]["valid_acc"])
    ped, image = optuna_plots.importance_figure(study, importance, dataset, split, out, context.space)
    names = labels(context.space)
    rows = tuple((names[name], f"{value:.3f}", f"{ped[name]:.3f}") for name, value in importance.items())
    return [
        Heading("Edge importance", 3),
        Paragraph(
            f"fANOVA (optuna.importance, 16 trees of depth 8) and PED-ANOVA (Optuna's default: the top 10% of "
            f"trials against all, local) on {importance.name} pooled over every optimizer and seed: completed "
            f"trials at the highest recorded fidelity, target the observed validation accuracy ({split}, one "
            "training seed per trial). Both normalised to sum to 1; the figure orders the edges by fANOVA."
        ),
        Table(("edge (to<-from)", "fANOVA", "PED-ANOVA"), rows),
        image,
    ]


def _origins(trials: pd.DataFrame, order: Sequence[str]) -> list[Block]:
    """Each optimizer's trials by origin class (rank order), so a barely used model shows at once."""
    shares = origin_shares(trials)
    per_run = trials.groupby("optimizer").size() / trials.groupby("optimizer")["seed"].nunique()
    rows = tuple(
        (str(name), f"{per_run[name]:.1f}", *(f"{shares.loc[name, cls]:.1f}" for cls in shares.columns))
        for name in order if name in shares.index
    )
    return [
        Heading("Where the trials came from", 3),
        Paragraph(
            "Share of each optimizer's trials (%, over all its runs) by origin: initial design (a library's "
            "start-up sample: SMAC's Sobol design, TPE/GP start-up, RE's first population), random (random "
            "search, interleaved or fallback random draws, DE offspring of unevaluated random vectors), "
            "model/evolution (acquisition or KDE picks, mutations, policy samples), promotion (a cell re-asked "
            "at a higher budget). Labels are the libraries' own (harness/reporting/origins.py maps them)."
        ),
        Table(("optimizer", "trials/run", *(f"{cls} %" for cls in shares.columns)), rows),
    ]


def _dataset_section(trials: pd.DataFrame, context: ReportContext, dataset: str, out: Path) -> list[Block]:
    context = replace(context, space=context.spaces.get(dataset, context.space))
    finals = run_finals(trials)
    order = final_order(finals)
    study = optuna_plots.pooled_study(trials, context.space)
    importance = edge_importance(study)
    return [
        Heading(f"Results on {dataset}"),
        *_summary(trials, finals, context, dataset, order),
        *_origins(trials, order),
        *_curves(trials, context, dataset, out, order),
        *_final(finals, context, dataset, out, order),
        *_importance(importance, study, context, dataset, out),
        *optuna_plots.optuna_section(trials, dataset, short_split(context.splits[dataset]["valid_acc"]), out,
                                     ranking=list(importance.index), order=order, space=context.space),
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _with_latex(blocks: list[Block]) -> list[Block]:
    """Every table named for its LaTeX twin after the headings above it (``table_<section>_<heading>.tex``)."""
    named: list[Block] = []
    headings: dict[int, str] = {}
    used: set[str] = set()
    for block in blocks:
        if isinstance(block, Heading):
            headings = {level: text for level, text in headings.items() if level < block.level}
            headings[block.level] = block.text
        if isinstance(block, Table) and not block.latex:
            caption = ": ".join(headings[level] for level in sorted(headings) if level > 1)
            stem = "table_" + (_slug(caption) or "report")
            name, n = f"{stem}.tex", 2
            while name in used:
                name, n = f"{stem}_{n}.tex", n + 1
            block = replace(block, latex=name, caption=block.caption or caption)
        if isinstance(block, Table):
            used.add(block.latex)
        named.append(block)
    return named


def write_report(trials: pd.DataFrame, context: ReportContext, out: Path) -> Path:
    """Write report.md, report.html (self-contained), the figures and the LaTeX tables into ``out``.

    Returns report.md's path.
    """
    if trials.empty:
        raise BadInputError("no trials to report")
    unknown = sorted(set(trials["dataset"]) - set(context.datasets))
    missing = [ds for ds in context.datasets if ds not in context.splits or ds not in context.optimum]
    if unknown or missing:
        raise BadInputError(f"report context lacks datasets {unknown + missing} (each needs splits and optimum)")
    out = Path(out)
    blocks = _header(context, trials) + list(context.lead)
    for dataset in context.datasets:
        subset = trials[trials["dataset"] == dataset]
        if not subset.empty:
            blocks += _dataset_section(subset, context, dataset, out)
    blocks = _with_latex(blocks + list(context.extra))
    for table in blocks:
        if isinstance(table, Table):
            atomic_write_text(out / table.latex, to_latex(table))
    atomic_write_text(out / "report.html", to_html(blocks, f"hpo2nas report: {context.spec}", out))
    path = out / "report.md"
    atomic_write_text(path, to_markdown(blocks, out))
    return path

"""The sections of one dataset's results in the comparison report.

Each section is a function from the trial records (and the per-run finals of
:func:`harness.reporting.stats.run_finals`) to document blocks, drawing its figures into
``out`` as it goes: the summary table, where the trials came from, the regret and rank
curves, final regret with the critical-difference diagram, and hyperparameter importance.
:mod:`harness.reporting.report` puts them in order under the report's header. Sections take
the few facts they state as arguments, not the whole report context, so each can be read
(and tested) on its own. Optimizers appear in the dataset's one ``order`` (best first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from adapters import SearchSpace
from adapters.search_space import labels
from harness.reporting import figures, optuna_plots
from harness.reporting.document import Block, Heading, Image, Paragraph, Table
from harness.reporting.formats import CELL_TERMS, Terms, Units, p_text, short_split, terms_of, units_of
from harness.reporting.origins import origin_shares
from harness.reporting.plot_style import styles_for
from harness.reporting.stats import (
    focus,
    friedman_nemenyi,
    full_training_grid,
    paired_margin,
    ranks_over_grid,
    regret_floor,
    seed_matrix,
    step_curves,
    time_grid,
)

__all__ = ["summary_section", "origins_section", "curves_section", "final_section", "importance_section"]


def _margin_cells(valid: pd.DataFrame, name: str, reference: str, units: Units) -> tuple[str, str]:
    """The margin over the reference optimizer and its p-value, as table cells."""
    if reference not in valid.columns:
        return "n/a", "n/a"
    if name == reference:
        return "reference", "—"
    margin = paired_margin(valid, name, reference)
    digits = "+.3f" if units.percent else "+.3g"
    mean = "n/a" if margin.mean is None else f"{margin.mean:{digits}} (n={margin.n})"
    return mean, margin.reason or p_text(margin.p_value)


def summary_section(trials: pd.DataFrame, finals: pd.DataFrame, *, dataset: str, splits: Mapping[str, str],
                    reference: str, order: Sequence[str], units: Units = units_of(),
                    terms: Terms = CELL_TERMS) -> list[Block]:
    """The per-optimizer table in rank order, with a legend naming the split behind each column.

    ``splits`` is the dataset's metric -> split text; margins are measured against ``reference``;
    ``units`` name the objective and its regret (NB201's accuracy in %, regrets in pp).
    """
    valid_split = splits["valid_acc"]
    test_split = splits.get("test_acc")
    valid = finals["valid_acc"].unstack("optimizer")
    wall_ms = trials.groupby("optimizer")["wall_s"].mean() * 1000
    rows = []
    for name in order:
        run = finals.xs(name, level="optimizer", drop_level=False)
        margin, p = _margin_cells(valid, str(name), reference, units)
        test = units.text(run["test_acc"]) if test_split and run["test_acc"].notna().any() else "not available"
        rows.append(
            (
                str(name),
                str(len(run)),
                f"{run['trials'].mean():.1f}",
                units.text(run["valid_acc"]),
                test,
                units.text(run["regret_valid"], 3),
                margin,
                p,
                f"{run['distinct_cells'].mean():.1f}",
                f"{wall_ms[name]:.2f}",
            )
        )
    valid_name = short_split(valid_split)
    value, per = units.name, " (%)" if units.percent else ""
    test_note = (
        f"{units.test_name}: the same cell's seed-mean {test_split}, where the store has it."
        if test_split
        else f"{units.test_name}: not available, the store has no test value for {dataset}."
    )
    reference_note = (
        f"margin: mean over common seeds of (final {value} − {reference}'s), in {units.regret} of {valid_name}; "
        "p: two-sided Wilcoxon signed-rank test on those paired differences."
        if reference in valid.columns
        else f"margin: not computed, the reference optimizer {reference!r} is not among the runs."
    )
    legend = (
        f"Final values are each run's last incumbent (the cell with the best validation {value} the optimizer "
        f"observed). {value}: the incumbent's seed-mean {valid_split}, mean ± std across seeds{per}. "
        f"{test_note} regret: the incumbent's distance to the optimum, never negative "
        f"({units.regret}, {valid_name}). {reference_note} "
        f"{terms.configs}: {terms.configs_note} evaluated per run. "
        "ms/trial: the optimizer's own ask/tell wall time per trial (mean over all its trials). "
        "Rows are in rank order: mean rank of final regret over the seeds every optimizer ran (best first)."
    )
    headers = (
        "optimizer", "seeds", "trials/run", f"{units.value} ({valid_name})",
        f"{units.test} ({short_split(test_split) if test_split else 'no test split'})",
        f"regret {units.regret} ({valid_name})", f"margin vs {reference} ({units.regret})", "p (Wilcoxon)",
        f"{terms.configs}/run", "ms/trial",
    )
    return [Heading("Summary", 3), Paragraph(legend), Table(headers, tuple(rows))]


def curves_section(trials: pd.DataFrame, *, dataset: str, split: str, out: Path, order: list[str], focus_size: int,
                   reference: str, baselines: Sequence[str], units: Units = units_of()) -> list[Block]:
    """Regret over simulated time and over full-training equivalents, and average rank over time.

    Each is drawn for the focus (the ``focus_size`` best of ``order`` plus ``reference`` and
    ``baselines``); when that leaves optimizers out, once more for all of them (an appendix
    figure, ``*_all_*``). ``split`` names the validation split the regret is measured on. A
    table that records no training time (NAS-Bench-Graph, TransNAS-Bench-101: every trial ends
    at 0 s) has no time axis: its regret and ranks are drawn over evaluations alone. ``units``
    name the regret (pp of NB201's accuracy, or the objective's own units, on a floor that fits them).
    """
    shown = focus(order, focus_size, (reference, *baselines))
    partial = len(shown) < len(order)
    timed = bool(trials["sim_end_s"].max() > 0)
    costs = full_training_grid(trials)
    by_cost = step_curves(trials, "full_trainings", costs)
    max_fidelity = trials["fidelity"].max()
    grid = time_grid(trials) if timed else costs
    by_time = step_curves(trials, "sim_end_s", grid) if timed else by_cost
    ranks = ranks_over_grid(by_time) if len(by_time) >= 2 else None
    rank_name, rank_over, rank_axis = (("rank_time", "simulated time", "simulated time (s)") if timed
                                       else ("rank_evals", "evaluations", "evaluations"))
    sets = [("", shown, "")] + ([("_all", order, ", all optimizers")] if partial else [])
    styles = styles_for(order)
    floor = regret_floor(trials["regret_valid"], units.percent)
    ylabel = f"incumbent regret ({units.regret}, {split})"
    for suffix, names, tag in sets:
        if timed:
            figures.plot_regret_curves({n: by_time[n] for n in names}, grid, xlabel="simulated time (s)", log_x=True,
                                       split=split, order=names, styles=styles, floor=floor, ylabel=ylabel,
                                       path=out / f"regret_time{suffix}_{dataset}.png",
                                       title=f"Incumbent regret over simulated time, {dataset}{tag}")
        figures.plot_regret_curves({n: by_cost[n] for n in names}, costs, log_x=True, split=split, order=names,
                                   xlabel=(f"full-training equivalents (epochs trained / {max_fidelity:g})" if timed
                                           else "evaluations"),
                                   title=f"Incumbent regret over {'training effort' if timed else 'evaluations'}, "
                                         f"{dataset}{tag}", styles=styles, floor=floor, ylabel=ylabel,
                                   path=out / f"regret_cost{suffix}_{dataset}.png")
        if ranks is not None:
            figures.plot_ranks(ranks, grid, order=names, styles=styles, xlabel=rank_axis,
                               path=out / f"{rank_name}{suffix}_{dataset}.png",
                               title=f"Average rank over {rank_over}, {dataset}{tag}")
    which = (f"the {focus_size} best optimizers by final rank plus the reference ({reference})"
             + (f" and baselines ({', '.join(baselines)})" if baselines else "")
             + (f"; the appendix of this section shows all {len(order)}" if partial else ""))
    blocks = [Heading("Incumbent regret", 3), Paragraph(
        f"Mean across seeds with a ±1 standard-error band; regret in {units.regret} of the seed-mean {split} "
        f"{units.name} on a log axis, drawn at {floor:g} where it is below (0: the optimum "
        "found). Each run is a step function of its "
        "incumbent, held at its last value after the run ends. Shown: " + which + "; the legend lists them "
        "in the report's rank order (mean rank of final regret over the seeds, best first).")]
    blocks += _effort_blocks(trials, dataset=dataset, timed=timed, start=float(grid[0]), max_fidelity=max_fidelity)
    blocks.append(Heading(f"Average rank over {'time' if timed else 'evaluations'}", 3))
    if ranks is None:
        return blocks + [Paragraph("Not shown: ranks need at least 2 optimizers.")]
    blocks += [
        Paragraph(f"At each {'time' if timed else 'evaluation count'}, all {len(order)} optimizers are ranked per "
                  "seed by incumbent regret (ties averaged), then ranks are averaged over the seeds every optimizer "
                  "ran; the legend gives each final rank."),
        Image(f"{rank_name}_{dataset}.png", f"Average rank over {rank_over} on {dataset}"),
    ]
    if partial:
        blocks += [Heading(f"Appendix: all {len(order)} optimizers", 3)]
        blocks += [Image(f"regret_time_all_{dataset}.png",
                         f"Incumbent regret over simulated time on {dataset}, all optimizers")] if timed else []
        blocks += [
            Image(f"regret_cost_all_{dataset}.png",
                  f"Incumbent regret over {'full-training equivalents' if timed else 'evaluations'} on {dataset}, "
                  "all optimizers"),
            Image(f"{rank_name}_all_{dataset}.png",
                  f"Average rank over {rank_over} on {dataset}, all optimizers"),
        ]
    return blocks


def _effort_blocks(trials: pd.DataFrame, *, dataset: str, timed: bool, start: float,
                   max_fidelity: float) -> list[Block]:
    """The regret figures' images and what their axes count: time and training effort, or evaluations alone."""
    if not timed:
        return [
            Paragraph("This task's table records no training time, so its budget and these axes count evaluations "
                      "(each a full training at the table's one fidelity)."),
            Image(f"regret_cost_{dataset}.png", f"Incumbent regret over evaluations on {dataset}"),
        ]
    return [
        Image(f"regret_time_{dataset}.png", f"Incumbent regret over simulated time on {dataset}: the time grid starts "
                                            f"at {start:.0f} s, when every run has finished its first trial"),
        Paragraph(
            "The same over training effort: a trial at fidelity f costs f / "
            f"{max_fidelity:g} full trainings, so a 12-epoch trial counts 0.06 rather than one evaluation, and "
            "multi-fidelity optimizers are compared with single-fidelity ones at equal training effort."
            + ("" if trials["fidelity"].nunique() > 1 else
               f" Every trial here ran at {max_fidelity:g} epochs, so this axis counts evaluations.")
        ),
        Image(f"regret_cost_{dataset}.png", f"Incumbent regret over full-training equivalents on {dataset}"),
    ]


def final_section(finals: pd.DataFrame, *, dataset: str, split: str, alpha: float, out: Path,
                  order: list[str], units: Units = units_of()) -> list[Block]:
    """Box plots of final regret (rank order) and the Friedman/Nemenyi critical-difference diagram at ``alpha``."""
    regret = {name: run["regret_valid"].to_numpy() for name, run in finals.groupby(level="optimizer")}
    linear = 0.1 if units.percent else 10 * regret_floor(finals["regret_valid"], False)
    figures.plot_final_box(regret, split=split, order=order, unit=units.regret, linear_below=linear,
                           title=f"Final incumbent regret, {dataset}", path=out / f"final_regret_{dataset}.png")
    matrix = seed_matrix(finals, "regret_valid")
    test = friedman_nemenyi(matrix, alpha)
    ranks = ", ".join(f"{name} {rank:.2f}" for name, rank in test.mean_ranks.items())
    blocks: list[Block] = [
        Heading("Final regret", 3),
        Image(f"final_regret_{dataset}.png",
              f"Final regret on {dataset}, one box per optimizer in rank order (best at the top), each seed a point; "
              f"the axis is linear below {linear:g} {units.regret} and logarithmic above, so seeds that found the "
              "optimum sit at 0"),
        Heading("Critical-difference diagram", 3),
    ]
    if test.reason:
        return blocks + [Paragraph(f"Cannot be computed: {test.reason}. Mean ranks of final regret: {ranks}.")]
    verdict = "differ significantly" if test.p_value < alpha else "do not differ significantly"
    figures.plot_cd_diagram(test, title=f"Nemenyi critical difference (alpha={alpha:g}), {dataset}",
                            path=out / f"cd_diagram_{dataset}.png")
    cliques = "; ".join(", ".join(c) for c in test.cliques) or "none (every pair differs)"
    text = (
        f"Friedman test on final regret over {test.n_blocks} seeds (blocks) x {len(test.mean_ranks)} optimizers: "
        f"chi² = {test.statistic:.4g}, p = {p_text(test.p_value)}; at alpha = {alpha:g} the optimizers {verdict}. "
        f"Mean ranks (1 = lowest regret): {ranks}. Nemenyi critical difference CD = {test.cd:.3f}; "
        f"groups not significantly different (joined by bars): {cliques}."
    )
    return blocks + [Paragraph(text), Image(f"cd_diagram_{dataset}.png", f"critical-difference diagram on {dataset}")]


def importance_section(importance: pd.Series, study: object, *, dataset: str, split: str, space: SearchSpace,
                       out: Path, units: Units = units_of()) -> list[Block]:
    """fANOVA and PED-ANOVA importance of the space's hyperparameters over every optimizer's trials pooled."""
    terms = terms_of(space)
    if importance.empty:
        return [Heading(f"{terms.part.capitalize()} importance", 3),
                Paragraph(f"Cannot be computed: {importance.name} completed at the highest fidelity, "
                          "with fewer than two distinct values.")]
    ped, image = optuna_plots.importance_figure(study, importance, dataset, split, out, space, units)
    names = labels(space)
    rows = tuple((names[name], f"{value:.3f}", f"{ped[name]:.3f}") for name, value in importance.items())
    return [
        Heading(f"{terms.part.capitalize()} importance", 3),
        Paragraph(
            f"fANOVA (optuna.importance, 16 trees of depth 8) and PED-ANOVA (Optuna's default: the top 10% of "
            f"trials against all, local) on {importance.name} pooled over every optimizer and seed: completed "
            f"trials at the highest recorded fidelity, target the observed {units.name} ({split}, one "
            f"training seed per trial). Both normalised to sum to 1; the figure orders the {terms.part}s by fANOVA."
        ),
        Table((terms.part_header, "fANOVA", "PED-ANOVA"), rows),
        image,
    ]


def origins_section(trials: pd.DataFrame, order: Sequence[str]) -> list[Block]:
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

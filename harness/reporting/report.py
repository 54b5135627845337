"""The comparison report: report.md, a self-contained report.html, figures (PNG + PDF) and LaTeX tables.

:func:`write_report` reads only the trials and a :class:`ReportContext` (what the caller
knows about the experiment), never the benchmark, so a report can be rebuilt from the
records of any finished compare. Every number names the split it comes from. This module
assembles the document (the header, then each dataset's sections from
:mod:`harness.reporting.dataset_sections`, then the caller's extra sections) and writes it in
its three renderings.

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

import pandas as pd

from adapters import NB201, SearchSpace
from adapters.files import atomic_write_text
from adapters.protocols import ACCURACY_OBJECTIVE, TaskObjective
from adapters.types import BadInputError
from harness.reporting import optuna_plots
from harness.reporting.dataset_sections import (
    curves_section,
    final_section,
    importance_section,
    origins_section,
    summary_section,
)
from harness.reporting.document import Block, Bullets, Heading, Paragraph, Table, to_html, to_latex, to_markdown
from harness.reporting.formats import short_split, terms_of, units_of
from harness.reporting.stats import edge_importance, final_order, run_finals

__all__ = ["ReportContext", "write_report", "machine_facts"]


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
    #: (runs found complete from an earlier invocation, runs planned): a resumed compare's wall time
    #: is only its own.
    reused_runs: tuple[int, int] = (0, 0)
    reference: str = "random"
    alpha: float = 0.05
    extra: Sequence[Block] = ()
    lead: Sequence[Block] = ()
    space: SearchSpace = NB201
    store_notes: Sequence[str] = ()
    #: Per dataset, its own search space where the datasets differ (a spec over several benchmarks).
    spaces: Mapping[str, SearchSpace] = field(default_factory=dict)
    #: Per dataset, its objective where it is not NB201's accuracy (in %): its name, direction and unit
    #: name every number of its section. A minimised one (HPOLib's loss) is shown to the Optuna views
    #: negated, the score the optimizers maximised, so that their "best" trials are the lowest losses.
    objectives: Mapping[str, TaskObjective] = field(default_factory=dict)
    focus: int = 5
    baselines: Sequence[str] = ()

    def objective(self, dataset: str) -> TaskObjective:
        """The dataset's objective (NB201's accuracy in % where ``objectives`` names none)."""
        return self.objectives.get(dataset, ACCURACY_OBJECTIVE)


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
        "Known optimum (regret 0), seed mean of each dataset's objective: "
        + ", ".join(_optimum_text(context, ds) for ds in context.datasets),
        "Ran on: " + ("; ".join(f"{k}: {v}" for k, v in context.machine.items()) or "not recorded")
        + (f". Wall time: {context.wall_time_s:.1f} s" if context.wall_time_s is not None else "")
        + (f" (this invocation; {context.reused_runs[0]:,} of the {context.reused_runs[1]:,} runs were complete "
           "from an earlier one)." if context.reused_runs[0] else "."),
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


def _optimum_text(context: ReportContext, dataset: str) -> str:
    """``cifar10-valid 91.607% (x-valid)``; another objective with its name and direction."""
    objective, split = context.objective(dataset), short_split(context.splits[dataset]["valid_acc"])
    if objective.percent:
        return f"{dataset} {context.optimum[dataset]:.3f}% ({split})"
    return (f"{dataset} {objective.name} {context.optimum[dataset]:.6g} ({split}, "
            f"{'maximised' if objective.maximize else 'minimised'})")


def _dataset_section(trials: pd.DataFrame, context: ReportContext, dataset: str, out: Path) -> list[Block]:
    context = replace(context, space=context.spaces.get(dataset, context.space))
    finals = run_finals(trials)
    order = final_order(finals)
    objective = context.objective(dataset)
    units = units_of(objective)
    scored, score_units = trials, units
    if not objective.maximize:
        scored = trials.assign(valid_acc=-trials["valid_acc"])
        score_units = replace(units, name=f"−{objective.name} (negated: higher is better)", percent=False)
    study = optuna_plots.pooled_study(scored, context.space)
    importance = edge_importance(study)
    split = short_split(context.splits[dataset]["valid_acc"])
    return [
        Heading(f"Results on {dataset}"),
        *summary_section(trials, finals, dataset=dataset, splits=context.splits[dataset],
                         reference=context.reference, order=order, units=units,
                         terms=terms_of(context.space)),
        *origins_section(trials, order),
        *curves_section(trials, dataset=dataset, split=split, out=out, order=order, focus_size=context.focus,
                        reference=context.reference, baselines=context.baselines, units=units),
        *final_section(finals, dataset=dataset, split=split, alpha=context.alpha, out=out, order=order, units=units),
        *importance_section(importance, study, dataset=dataset, split=split, space=context.space, out=out,
                            units=score_units),
        *optuna_plots.optuna_section(scored, dataset, split, out, ranking=list(importance.index), order=order,
                                     space=context.space, units=score_units),
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

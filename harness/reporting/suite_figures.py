"""The suite report's own figures: normalised-regret curves in a grid of panels, and the headline's slope chart.

One drawer serves both the per-kind summary (two panels: HPO tasks, NAS tasks) and the per-task
appendix (one panel per task), in the report's shared look (:mod:`harness.reporting.plot_style`),
so an optimizer keeps its colour, dash and marker in every panel and in every other figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from harness.reporting.plot_style import (
    FONT,
    WIDTH,
    LineStyle,
    finish_axes,
    new_figure,
    plain_log_ticks,
    save_figure,
)

__all__ = ["NORMALISED_FLOOR", "plot_normalised_panels", "plot_rank_shift"]

#: A log axis cannot show 0 (the optimum found): normalised regrets are drawn at this floor there.
NORMALISED_FLOOR = 1e-3


def plot_normalised_panels(
    panels: Mapping[str, Mapping[str, np.ndarray]],
    grid: np.ndarray,
    *,
    order: Sequence[str],
    styles: Mapping[str, LineStyle],
    title: str,
    xlabel: str,
    path: Path,
    columns: int = 2,
) -> Path:
    """One panel per entry of ``panels`` (title -> optimizer -> mean curve over ``grid``), legend below.

    The y axis is logarithmic and shared by the panels, clipped at :data:`NORMALISED_FLOOR`; a
    dotted line at 1 marks the task's median configuration. NaN (no incumbent yet) is left blank.
    """
    names = [n for n in order if any(n in curves for curves in panels.values())]
    rows = math.ceil(len(panels) / columns)
    fig = new_figure(0.6 + 1.9 * rows, WIDTH)
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    handles = {}
    for ax, (panel, curves) in zip(axes, panels.items()):
        for name in names:
            if name not in curves:
                continue
            kwargs = styles[name].line_kwargs()
            kwargs["markersize"] = 3.0
            (line,) = ax.plot(grid, np.maximum(curves[name], NORMALISED_FLOOR), markevery=max(1, len(grid) // 5),
                              **kwargs)
            handles.setdefault(name, line)
        ax.axhline(1.0, color="0.5", linewidth=0.8, linestyle=":")
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        finish_axes(ax, title="", xlabel="", ylabel="")
        ax.set_title(panel, fontsize=FONT["small"])
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    for column in range(min(columns, len(panels))):  # the lowest panel of each column names the x axis
        axes[column + columns * ((len(panels) - 1 - column) // columns)].set_xlabel(xlabel, fontsize=FONT["text"])
    fig.supylabel("normalised regret (1 = median config)", fontsize=FONT["text"])
    fig.suptitle(title, fontsize=FONT["title"])
    fig.legend([handles[n] for n in names if n in handles], [n for n in names if n in handles], loc="outside lower center",
               ncols=min(4, len(handles)), fontsize=FONT["small"], frameon=False, handlelength=3.2)
    return save_figure(fig, path)


def spread(values: Sequence[float], gap: float) -> list[float]:
    """Label positions for sorted ``values``, at least ``gap`` apart: labels too close are grouped and
    each group is centred on its values' mean, so a label moves only as far as its neighbours make it."""
    groups: list[list[float]] = []

    def ends(group: list[float]) -> tuple[float, float]:
        centre, half = sum(group) / len(group), (len(group) - 1) * gap / 2
        return centre - half, centre + half

    for value in values:
        groups.append([value])
        while len(groups) > 1 and ends(groups[-1])[0] - ends(groups[-2])[1] < gap:
            groups[-2:] = [groups[-2] + groups[-1]]
    return [ends(group)[0] + i * gap for group in groups for i in range(len(group))]


def plot_rank_shift(hpo: Mapping[str, float], nas: Mapping[str, float], *, styles: Mapping[str, LineStyle],
                    n_hpo: int, n_nas: int, title: str, path: Path) -> Path:
    """The headline as a slope chart: each optimizer's mean rank on HPO tasks (left) joined to NAS tasks (right).

    Rank 1 is at the top on both sides, so a line that falls is an optimizer that does worse on NAS;
    crossing lines are the order changing.
    """
    names = sorted(hpo, key=lambda n: (hpo[n], n))
    fig = new_figure(0.9 + 0.32 * len(names), WIDTH * 0.62)
    ax = fig.add_subplot()
    for name in names:
        ax.plot([0, 1], [hpo[name], nas[name]], **styles[name].line_kwargs())
    ranks = [*hpo.values(), *nas.values()]
    gap = 0.075 * max(max(ranks) - min(ranks), 1.0)  # one line of small text on the figure's height
    for x, side, align in ((-0.04, hpo, "right"), (1.04, nas, "left")):  # tied optimizers share one label
        tied: dict[str, list[str]] = {}
        for name in names:
            tied.setdefault(f"{side[name]:.2f}", []).append(name)
        values = sorted(tied, key=float)
        for value, y in zip(values, spread([float(v) for v in values], gap)):
            group = tied[value]
            label = f"{', '.join(group)} {value}" if align == "right" else f"{value} {', '.join(group)}"
            ax.text(x + (-0.06 if align == "right" else 0.06), y, label, ha=align, va="center",
                    fontsize=FONT["small"])
            ax.plot([x, x + (-0.05 if align == "right" else 0.05)], [float(value), y], color="0.5", linewidth=0.6)
    ax.set_xticks([0, 1], [f"HPO tasks ({n_hpo})", f"NAS tasks ({n_nas})"])
    ax.set_xlim(-0.95, 1.95)
    ax.invert_yaxis()
    finish_axes(ax, title=title, ylabel="mean rank (1 = best)", grid="y")
    return save_figure(fig, path)

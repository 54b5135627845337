"""The report's comparison figures: incumbents over time, final regret, ranks and fronts.

Drawn with matplotlib's object API on the Agg canvas. No pyplot: figures are plain ``Figure``
objects, so drawing needs no global backend state and is safe from worker threads. Every
figure follows :mod:`harness.reporting.plot_style` (one style per optimizer, legends outside
the data, print-width fonts) and is written atomically as PNG and PDF. Figures that compare
optimizers take an ``order`` (the report's final rank order, best first), so legends, boxes
and panels read from best to worst. Figures of the individual trials (histories, EDFs,
heat maps, importance) are in :mod:`harness.reporting.trial_figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.reporting.plot_style import (
    FONT,
    WIDTH,
    LineStyle,
    finish_axes,
    label_order,
    legend_outside,
    markevery,
    new_figure,
    plain_log_ticks,
    save_figure,
    styles_for,
)
from harness.reporting.stats import REGRET_FLOOR, RankTest, mean_se

__all__ = [
    "plot_regret_curves",
    "plot_final_box",
    "plot_ranks",
    "plot_cd_diagram",
    "plot_transfer_scatter",
    "plot_fronts",
]

def _ordered(names: Sequence[str], order: Sequence[str] | None) -> list[str]:
    """``names`` in ``order`` (unknown names last, in label order)."""
    if order is None:
        return label_order(names)
    known = [n for n in order if n in names]
    return known + label_order(n for n in names if n not in known)


def plot_regret_curves(
    curves: Mapping[str, pd.DataFrame],
    grid: np.ndarray,
    *,
    xlabel: str,
    log_x: bool,
    split: str,
    title: str,
    path: Path,
    floor: float = REGRET_FLOOR,
    ylabel: str | None = None,
    order: Sequence[str] | None = None,
    styles: Mapping[str, LineStyle] | None = None,
    legend_title: str | None = None,
) -> Path:
    """Mean regret with a standard-error band per optimizer, on a log regret axis clipped at ``floor``.

    Without ``order`` the lines are ranked by their final mean (lowest first), which is the
    legend's order; with it (the report's mean rank of final regret, which can differ from the
    order of the means) the legend says so. The default label is the incumbent's accuracy regret;
    ``ylabel`` names another regret.
    """
    if legend_title is None:
        legend_title = "in the report's rank order" if order is not None else "lowest final regret first"
    if order is None:
        order = sorted(curves, key=lambda n: (float(np.nanmean(curves[n].to_numpy(float)[:, -1])), n))
    names = _ordered(list(curves), order)
    styles = styles or styles_for(list(curves))
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    handles = []
    for i, name in enumerate(names):
        mean, se = mean_se(curves[name])
        style = styles[name]
        (line,) = ax.step(grid, np.maximum(mean, floor), where="post",
                          markevery=markevery(i, len(names), len(grid)), **style.line_kwargs())
        ax.fill_between(grid, np.maximum(mean - se, floor), np.maximum(mean + se, floor), step="post",
                        color=style.color, alpha=0.08, linewidth=0)
        handles.append(line)
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    if log_x:
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
    ax.set_xlim(grid[0], grid[-1])
    finish_axes(ax, title=title, xlabel=xlabel, ylabel=ylabel or f"incumbent regret (pp, {split})")
    seeds = {len(curves[n]) for n in names}
    n_seeds = seeds.pop() if len(seeds) == 1 else None
    legend_outside(ax, handles, names, legend_title
                   + (f"\n({n_seeds} seed{'s' if n_seeds != 1 else ''} each)" if n_seeds else ""))
    return save_figure(fig, path)


def plot_final_box(regret: Mapping[str, np.ndarray], *, split: str, title: str, path: Path,
                   order: Sequence[str] | None = None, styles: Mapping[str, LineStyle] | None = None,
                   unit: str = "pp", linear_below: float = 0.1) -> Path:
    """Final regret per optimizer: one horizontal box per optimizer, best at the top, every seed a point.

    The axis is symmetric-log, linear below ``linear_below`` (0.1 pp of NB201's accuracy; regrets
    in ``unit``): a seed that found the optimum sits at 0
    instead of at an arbitrary floor decades below the rest, and the share of such seeds is
    written beside each box.
    """
    names = _ordered(list(regret), order)
    styles = styles or styles_for(list(regret))
    fig = new_figure(max(2.6, 0.9 + 0.28 * len(names)))  # never flatter than 2.5:1
    ax = fig.add_subplot()
    data = [np.asarray(regret[n], float) for n in names]
    positions = np.arange(len(names))[::-1]  # best at the top
    box = ax.boxplot(data, positions=positions, orientation="horizontal", widths=0.6, patch_artist=True,
                     showfliers=False, medianprops={"color": "black", "linewidth": 1.4},
                     whiskerprops={"linewidth": 0.9}, capprops={"linewidth": 0.9})
    for patch, name in zip(box["boxes"], names):
        patch.set_facecolor(styles[name].color)
        patch.set_alpha(0.35)
        patch.set_edgecolor("0.2")
    rng = np.random.default_rng(0)  # fixed jitter: identical figures for identical records
    for y, values, name in zip(positions, data, names):
        ax.scatter(values, y + rng.uniform(-0.15, 0.15, len(values)), s=12, marker=styles[name].marker,
                   facecolors="white", edgecolors="black", linewidths=0.7, zorder=3)
        zeros = int(np.sum(values <= 0))
        if zeros:
            ax.annotate(f"{zeros}/{len(values)} at 0", (1.0, y), xycoords=("axes fraction", "data"),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=FONT["small"])
    ax.set_xscale("symlog", linthresh=linear_below, linscale=0.6)
    ax.set_xlim(left=0)
    ax.set_yticks(positions, names, fontsize=FONT["small"])
    finish_axes(ax, title=title, xlabel=f"final regret ({unit}, {split}; linear below {linear_below:g}, log above)",
                grid="x")
    ax.tick_params(axis="y", labelsize=FONT["small"])
    return save_figure(fig, path)


def plot_ranks(ranks: pd.DataFrame, grid: np.ndarray, *, title: str, path: Path,
               order: Sequence[str] | None = None, styles: Mapping[str, LineStyle] | None = None,
               xlabel: str = "simulated time (s)") -> Path:
    """Average rank (1 = best) of each optimizer over ``grid`` (simulated time), best final rank first.

    ``ranks`` holds every optimizer's rank among all of them; ``order`` may name a subset
    (the report's focus), which is drawn against the full rank axis.
    """
    final = ranks.iloc[:, -1].sort_values(kind="stable")
    names = [n for n in (order or list(final.index)) if n in ranks.index]
    styles = styles or styles_for(list(ranks.index))
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    handles, labels = [], []
    for i, name in enumerate(names):
        (line,) = ax.step(grid, ranks.loc[name].to_numpy(), where="post",
                          markevery=markevery(i, len(names), len(grid)), **styles[name].line_kwargs())
        handles.append(line)
        labels.append(f"{name} ({final[name]:.1f})")
    ax.set_xscale("log")
    plain_log_ticks(ax.xaxis)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(len(ranks) + 0.3, 0.7)  # best rank at the top
    finish_axes(ax, title=title, xlabel=xlabel,
                ylabel=f"average rank among {len(ranks)} (1 = lowest regret)")
    legend_outside(ax, handles, labels, "final rank")
    return save_figure(fig, path)


def plot_cd_diagram(test: RankTest, *, title: str, path: Path) -> Path:
    """Demšar's critical-difference diagram: rank axis, CD bar, labelled optimizers, clique bars.

    The better half is labelled on the left and the worse half on the right, each ordered so
    that no label line crosses another; thick bars join optimizers not significantly different.
    """
    if test.cd is None:
        raise ValueError(f"no critical difference to draw: {test.reason}")
    names, ranks = list(test.mean_ranks.index), test.mean_ranks.to_numpy(float)
    k = len(names)
    cliques = test.cliques
    half = (k + 1) // 2
    step = 0.35
    clique_top = -0.15
    first_level = clique_top - step * (len(cliques) + 0.5)
    fig = new_figure(1.4 + step * (half + len(cliques)) * 0.8)
    ax = fig.add_subplot()
    ax.set_axis_off()
    line = dict(color="black", linewidth=1, clip_on=False)
    ax.plot([1, k], [0, 0], **line)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.08], **line)
        ax.text(r, 0.12, str(r), ha="center", va="bottom", fontsize=FONT["small"])
    ax.plot([1, 1 + test.cd], [0.55, 0.55], color="black", linewidth=2, clip_on=False)
    ax.text(1 + test.cd / 2, 0.6, f"CD = {test.cd:.2f}", ha="center", va="bottom", fontsize=FONT["small"])
    for j, (lo, hi) in enumerate((ranks[names.index(c[0])], ranks[names.index(c[-1])]) for c in cliques):
        y = clique_top - step * j
        ax.plot([lo - 0.04, hi + 0.04], [y, y], color="black", linewidth=4, solid_capstyle="round", clip_on=False)
    for i, (name, rank) in enumerate(zip(names, ranks)):
        left = i < half
        level = first_level - step * (i if left else k - 1 - i)
        end = 1 - 0.3 if left else k + 0.3
        ax.plot([rank, rank, end], [0, level, level], **line)
        ax.text(end + (-0.05 if left else 0.05), level, f"{name} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=FONT["small"])
    ax.set_xlim(1 - 0.3, k + 0.3)
    ax.set_ylim(first_level - step * half, 0.9)
    ax.set_title(title, fontsize=FONT["title"])
    return save_figure(fig, path)


def _zoom_limits(values: np.ndarray) -> tuple[float, float]:
    """The span of ``values`` padded by a quarter of it (at least 0.5 pp) on each side."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max(0.25 * (hi - lo), 0.5)
    return lo - pad, hi + pad


def plot_transfer_scatter(
    x: np.ndarray,
    y: np.ndarray,
    marked: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
) -> Path:
    """Every cell as a small grey point, each optimizer's incumbents marked on top.

    The right panel zooms onto the incumbents, which all sit in the crowded top corner.
    """
    fig = new_figure(3.4)
    axes = fig.subplots(1, 2)
    styles = styles_for(list(marked))
    names = label_order(marked)
    for ax in axes:
        ax.scatter(x, y, s=2, color="0.75", linewidths=0, rasterized=True)
        for name in names:
            mx, my = marked[name]
            ax.scatter(mx, my, s=28, marker=styles[name].marker, facecolors="none", edgecolors=[styles[name].color],
                       linewidths=1.2)
        finish_axes(ax, xlabel=xlabel, ylabel=ylabel)
    axes[0].set_title("all cells", fontsize=FONT["text"])
    all_x = np.concatenate([mx for mx, _ in marked.values()])
    all_y = np.concatenate([my for _, my in marked.values()])
    axes[1].set_xlim(*_zoom_limits(all_x))
    axes[1].set_ylim(*_zoom_limits(all_y))
    axes[1].set_title("zoom on the incumbents", fontsize=FONT["text"])
    handles = [Line2D([], [], linestyle="", marker=styles[n].marker, markerfacecolor="none",
                      markeredgecolor=styles[n].color, label=f"{n} incumbents") for n in names]
    handles.append(Patch(color="0.75", label="all cells"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), fontsize=FONT["small"],
               frameon=False)
    fig.suptitle(title, fontsize=FONT["title"])
    return save_figure(fig, path)


#: How the exact front is drawn: wide and light, beneath the seeds' fronts in every optimizer's colour.
_EXACT_LINE = {"color": "0.62", "linewidth": 2.6}


def plot_fronts(
    exact: np.ndarray,
    found: Mapping[str, Sequence[np.ndarray]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
    order: Sequence[str] | None = None,
) -> Path:
    """One panel per optimizer: the exact front (a wide grey line beneath) and each seed's final front (a thin
    step line in the optimizer's colour on top). The exact front is grey, not black, because black is the
    palette's first optimizer colour."""
    names = _ordered(list(found), order)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = new_figure(0.8 + 1.9 * rows, width=WIDTH)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    styles = styles_for(names)
    order_exact = np.argsort(exact[:, 0])
    for ax, name in zip(axes, names):
        color = styles[name].color
        ax.step(exact[order_exact, 0], exact[order_exact, 1], where="pre", zorder=1, **_EXACT_LINE)
        ax.scatter(exact[:, 0], exact[:, 1], s=22, color=_EXACT_LINE["color"], zorder=1)
        for points in found[name]:
            if len(points):
                sort = np.argsort(points[:, 0])
                ax.step(points[sort, 0], points[sort, 1], where="pre", color=color, alpha=0.7, linewidth=0.9)
                ax.scatter(points[:, 0], points[:, 1], s=6, color=color, alpha=0.7, marker=styles[name].marker)
        ax.set_title(f"{name} ({len(found[name])} seeds)", fontsize=FONT["small"])
        ax.tick_params(labelsize=FONT["small"])
        ax.grid(True, color="0.9", linewidth=0.6)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    for ax in axes[max(0, len(names) - cols):len(names)]:  # the lowest panel of each column
        ax.tick_params(labelbottom=True)
    fig.supxlabel(xlabel, fontsize=FONT["text"])
    fig.supylabel(ylabel, fontsize=FONT["text"])
    # The key sits off the data: in the first empty panel, or right of the panels when none is empty.
    key = [Line2D([], [], marker="o", markersize=4.5, label="exact front", **_EXACT_LINE),
           Line2D([], [], color="0.45", linewidth=0.9, label="one seed's final front\n(in the panel's colour)")]
    if len(axes) > len(names):
        axes[len(names)].legend(handles=key, loc="center", frameon=False, fontsize=FONT["small"])
    else:
        fig.legend(handles=key, loc="outside right upper", frameon=False, fontsize=FONT["small"])
    fig.suptitle(title, fontsize=FONT["title"])
    return save_figure(fig, path)

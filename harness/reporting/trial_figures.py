"""The report's figures of individual trials: value histories, EDFs, pair heat maps, importance bars.

Where :mod:`harness.reporting.figures` follows each run's incumbent, these show every trial
an optimizer asked for (the Optuna-style section of a dataset, :mod:`harness.reporting.optuna_plots`),
so a reader sees how it searched, not only what it found. Same conventions: matplotlib's
object API without pyplot, :mod:`harness.reporting.plot_style` for every style, PNG + PDF
written atomically, panels and legends in the report's final rank order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps

from harness.reporting.plot_style import (
    FONT,
    LineStyle,
    finish_axes,
    legend_outside,
    markevery,
    new_figure,
    save_figure,
    styles_for,
)

__all__ = ["plot_history_grid", "plot_edf", "plot_importance", "plot_pair_heatmap"]


def plot_history_grid(
    histories: Mapping[str, pd.DataFrame],
    *,
    order: Sequence[str],
    xlabel: str,
    ylabel: str,
    y_low: float,
    title: str,
    path: Path,
    styles: Mapping[str, LineStyle] | None = None,
) -> Path:
    """One panel per optimizer (rank order) of every trial's observed value, with shared axes.

    Each frame holds ``x`` (cost so far), ``value``, ``top`` (a completed trial at the highest
    fidelity) and ``best`` (that seed's best top-fidelity value so far; NaN before its first)
    and ``seed``. Lower-fidelity and pruned trials are grey; values below ``y_low`` sit on the
    panel's floor as downward triangles, so no trial is left out.
    """
    names = [n for n in order if n in histories]
    styles = styles or styles_for(list(histories))
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = new_figure(0.8 + 1.75 * rows)
    axes = np.ravel(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))
    top_value = max(float(h["value"].max()) for h in histories.values())
    for ax, name in zip(axes, names):
        frame, style = histories[name], styles[name]
        value = frame["value"].to_numpy(float)
        below = value < y_low
        for mask, kwargs in ((~frame["top"].to_numpy(bool), {"color": "0.7", "s": 4}),
                             (frame["top"].to_numpy(bool), {"color": style.color, "s": 5, "alpha": 0.6})):
            ax.scatter(frame["x"][mask & ~below], value[mask & ~below], linewidths=0, rasterized=True, **kwargs)
            ax.scatter(frame["x"][mask & below], np.full(int((mask & below).sum()), y_low), marker="v",
                       linewidths=0, rasterized=True, **kwargs)
        for _, run in frame.groupby("seed"):
            ax.step(run["x"], run["best"], where="post", color=style.color, linewidth=1.0,
                    dashes=style.dashes or (None, None))
        n_low = int((~frame["top"]).sum())
        seeds = frame["seed"].nunique()
        ax.set_title(f"{name}\n{len(frame)} trials, {seeds} seed{'s' if seeds != 1 else ''}"
                     + (f", {n_low} grey" if n_low else ""),
                     fontsize=FONT["small"], linespacing=1.15)
        ax.tick_params(labelsize=FONT["small"])
        ax.grid(True, color="0.9", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    axes[0].set_ylim(y_low - 0.02 * (top_value - y_low), top_value + 0.04 * (top_value - y_low))
    fig.supxlabel(xlabel, fontsize=FONT["text"])
    fig.supylabel(ylabel, fontsize=FONT["text"])
    fig.suptitle(title, fontsize=FONT["title"])
    return save_figure(fig, path)


def plot_edf(values: Mapping[str, np.ndarray], *, order: Sequence[str], xlabel: str, x_low: float, title: str,
             path: Path, styles: Mapping[str, LineStyle] | None = None) -> Path:
    """Empirical distribution function of each optimizer's trial values (right = better trials)."""
    names = [n for n in order if n in values]
    styles = styles or styles_for(list(values))
    fig = new_figure(3.4)
    ax = fig.add_subplot()
    handles = []
    for i, name in enumerate(names):
        data = np.sort(np.asarray(values[name], float))
        share = np.arange(1, len(data) + 1) / len(data)
        (line,) = ax.step(data, share, where="post", markevery=markevery(i, len(names), len(data)),
                          **styles[name].line_kwargs())
        handles.append(line)
    top = max(float(np.max(v)) for v in values.values() if len(v))
    ax.set_xlim(x_low, top + 0.02 * (top - x_low))
    ax.set_ylim(0, 1.02)
    finish_axes(ax, title=title, xlabel=xlabel, ylabel="share of trials with value ≤ x")
    legend_outside(ax, handles, [f"{n} ({len(values[n])})" for n in names], "final rank order (trials)")
    return save_figure(fig, path)


def plot_importance(importances: Mapping[str, Mapping[str, float]], labels: Mapping[str, str], *, title: str,
                    path: Path, axis: str = "edge (to<-from)") -> Path:
    """One horizontal bar panel per importance method, sharing the edge axis (first method's order, top = most)."""
    methods = list(importances)
    first = importances[methods[0]]
    edges = sorted(first, key=lambda e: -first[e])
    fig = new_figure(0.9 + 0.3 * len(edges))
    axes = np.ravel(fig.subplots(1, len(methods), sharey=True, squeeze=False))
    positions = np.arange(len(edges))[::-1]
    for ax, method in zip(axes, methods):
        share = [importances[method][e] for e in edges]
        ax.barh(positions, share, color="#0072B2", height=0.6)
        for y, value in zip(positions, share):
            ax.text(value, y, f" {value:.2f}", va="center", fontsize=FONT["small"])
        ax.set_xlim(0, max(max(share) * 1.25, 0.05))
        finish_axes(ax, title=method, xlabel="importance (sums to 1)", grid="x")
    axes[0].set_yticks(positions, [labels.get(e, e) for e in edges])
    axes[0].set_ylabel(axis, fontsize=FONT["text"])
    fig.suptitle(title, fontsize=FONT["title"])
    return save_figure(fig, path)


def plot_pair_heatmap(mean: pd.DataFrame, counts: pd.DataFrame, *, xlabel: str, ylabel: str, colorbar: str,
                      title: str, path: Path) -> Path:
    """Mean value per pair of categories (rows x columns, in the frames' order), each cell labelled with n.

    A heat map, not a contour: operations are unordered categories, so nothing may be
    interpolated between them. Empty pairs stay blank.
    """
    fig = new_figure(4.0, width=5.4)
    ax = fig.add_subplot()
    data = mean.to_numpy(float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap=colormaps["viridis"].with_extremes(bad="white"), aspect="auto")
    finite = data[np.isfinite(data)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (r, c), value in np.ndenumerate(data):
        n = int(counts.iat[r, c])
        text = f"{value:.1f}\nn={n}" if np.isfinite(value) else "n=0"
        ax.text(c, r, text, ha="center", va="center", fontsize=FONT["small"] - 0.5,
                color="black" if not np.isfinite(value) or value > middle else "white")
    ax.set_xticks(range(len(mean.columns)), list(mean.columns), rotation=25, ha="right", fontsize=FONT["small"])
    ax.set_yticks(range(len(mean.index)), list(mean.index), fontsize=FONT["small"])
    ax.set_xlabel(xlabel, fontsize=FONT["text"])
    ax.set_ylabel(ylabel, fontsize=FONT["text"])
    ax.set_title(title, fontsize=FONT["title"])
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(colorbar, fontsize=FONT["text"])
    bar.ax.tick_params(labelsize=FONT["small"])
    return save_figure(fig, path)

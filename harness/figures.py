"""The report's figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: figures are plain ``Figure`` objects, so drawing needs no global backend state
and is safe from worker threads. Every figure is written atomically as PNG.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.atomic import atomic_write
from harness.stats import REGRET_FLOOR, RankTest, mean_se

__all__ = [
    "label_order",
    "colors_for",
    "plot_regret_curves",
    "plot_final_box",
    "plot_ranks",
    "plot_cd_diagram",
    "plot_transfer_scatter",
    "plot_fronts",
]

_MARKERS = "osD^vP*Xh<>p"


def label_order(names: Iterable[str]) -> list[str]:
    """Labels sorted with their numbers compared as numbers, so ``random@4`` comes before ``random@16``."""
    return sorted(names, key=lambda name: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)])


def colors_for(names: Sequence[str]) -> dict[str, tuple]:
    """One stable colour per optimizer (in label order), shared by every figure."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(label_order(names))}


def _new(width: float = 7.0, height: float = 4.5) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    return path


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
) -> Path:
    """Mean regret with a standard-error band per optimizer, on a log regret axis clipped at ``floor``.

    The default label is the incumbent's accuracy regret; ``ylabel`` names another regret.
    """
    fig, ax = _new()
    colors = colors_for(list(curves))
    for name in label_order(curves):
        mean, se = mean_se(curves[name])
        color = colors[name]
        n = len(curves[name])
        ax.step(grid, np.maximum(mean, floor), where="post", color=color, label=f"{name} (n={n})")
        lower, upper = np.maximum(mean - se, floor), np.maximum(mean + se, floor)
        ax.fill_between(grid, lower, upper, step="post", color=color, alpha=0.2, linewidth=0)
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or f"incumbent regret (pp, {split}; floor {floor:g})")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_final_box(regret: Mapping[str, np.ndarray], *, split: str, title: str, path: Path) -> Path:
    """Final regret per optimizer as box plots with the seeds overlaid (log axis, floor as above)."""
    names = label_order(regret)
    fig, ax = _new(max(5.0, 1.1 * len(names) + 2), 4.5)
    data = [np.maximum(np.asarray(regret[n], float), REGRET_FLOOR) for n in names]
    colors = colors_for(names)
    box = ax.boxplot(data, tick_labels=names, patch_artist=True, showfliers=False, medianprops={"color": "black"})
    for patch, name in zip(box["boxes"], names):
        patch.set_facecolor(colors[name])
        patch.set_alpha(0.35)
    rng = np.random.default_rng(0)  # fixed jitter: identical figures for identical records
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=14, color="black", zorder=3)
    ax.set_yscale("log")
    ax.set_ylabel(f"final regret (pp, {split}; floor {REGRET_FLOOR:g})")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    return _save(fig, path)


def plot_ranks(ranks: pd.DataFrame, grid: np.ndarray, *, title: str, path: Path) -> Path:
    """Average rank (1 = best) of each optimizer over simulated time."""
    fig, ax = _new()
    colors = colors_for(list(ranks.index))
    for name, row in ranks.iterrows():
        ax.step(grid, row.to_numpy(), where="post", color=colors[name], label=name)
    ax.set_xscale("log")
    ax.set_ylim(len(ranks) + 0.3, 0.7)  # best rank at the top
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("average rank across seeds (1 = lowest regret)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


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
    fig, ax = _new(7.0, 1.6 + step * (half + len(cliques)) * 0.9)
    ax.set_axis_off()
    line = dict(color="black", linewidth=1, clip_on=False)
    ax.plot([1, k], [0, 0], **line)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.08], **line)
        ax.text(r, 0.12, str(r), ha="center", va="bottom", fontsize=9)
    ax.plot([1, 1 + test.cd], [0.55, 0.55], color="black", linewidth=2, clip_on=False)
    ax.text(1 + test.cd / 2, 0.6, f"CD = {test.cd:.2f}", ha="center", va="bottom", fontsize=9)
    for j, (lo, hi) in enumerate((ranks[names.index(c[0])], ranks[names.index(c[-1])]) for c in cliques):
        y = clique_top - step * j
        ax.plot([lo - 0.04, hi + 0.04], [y, y], color="black", linewidth=4, solid_capstyle="round", clip_on=False)
    for i, (name, rank) in enumerate(zip(names, ranks)):
        left = i < half
        level = first_level - step * (i if left else k - 1 - i)
        end = 1 - 0.3 if left else k + 0.3
        ax.plot([rank, rank, end], [0, level, level], **line)
        ax.text(end + (-0.05 if left else 0.05), level, f"{name} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=9)
    ax.set_xlim(1 - 0.3, k + 0.3)
    ax.set_ylim(first_level - step * half, 0.9)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


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
    fig = Figure(figsize=(12.0, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    colors = colors_for(list(marked))
    for ax in axes:
        ax.scatter(x, y, s=2, color="0.75", linewidths=0, label="all cells", rasterized=True)
        for i, name in enumerate(sorted(marked)):
            mx, my = marked[name]
            ax.scatter(mx, my, s=40, marker=_MARKERS[i % len(_MARKERS)], facecolors="none",
                       edgecolors=[colors[name]], linewidths=1.4, label=f"{name} incumbents")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    axes[0].set_title("all cells")
    axes[0].legend(fontsize="small", loc="upper left")
    all_x = np.concatenate([mx for mx, _ in marked.values()])
    all_y = np.concatenate([my for _, my in marked.values()])
    axes[1].set_xlim(*_zoom_limits(all_x))
    axes[1].set_ylim(*_zoom_limits(all_y))
    axes[1].set_title("zoom on the incumbents")
    fig.suptitle(title)
    return _save(fig, path)


def plot_fronts(
    exact: np.ndarray,
    found: Mapping[str, Sequence[np.ndarray]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
) -> Path:
    """One panel per optimizer: the exact front (black) and each seed's final front (a thin step line)."""
    names = sorted(found)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    colors = colors_for(names)
    order = np.argsort(exact[:, 0])
    for ax, name in zip(axes, names):
        ax.step(exact[order, 0], exact[order, 1], where="pre", color="black", linewidth=1.5, label="exact front")
        ax.scatter(exact[:, 0], exact[:, 1], s=12, color="black", zorder=3)
        for points in found[name]:
            if len(points):
                sort = np.argsort(points[:, 0])
                ax.step(points[sort, 0], points[sort, 1], where="pre", color=colors[name], alpha=0.6, linewidth=1)
                ax.scatter(points[:, 0], points[:, 1], s=6, color=colors[name], alpha=0.6)
        ax.set_title(f"{name} ({len(found[name])} seeds)", fontsize=10)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    for ax in axes[max(0, len(names) - cols):len(names)]:  # the lowest panel of each column
        ax.set_xlabel(xlabel)
        ax.tick_params(labelbottom=True)
    for ax in axes[::cols]:
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize="small", loc="lower right")
    fig.suptitle(title)
    return _save(fig, path)

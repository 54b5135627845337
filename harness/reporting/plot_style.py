"""The one look every report figure shares: per-optimizer styles, sizes, fonts, and saving.

Why a module of its own: a reader compares optimizers across figures, so an optimizer must
keep its colour, dash pattern and marker in every figure of every report, and 13 or more
optimizers must stay apart on screen, in print and in greyscale. Colour alone cannot do that
(no palette has 13 hues that differ in lightness), so each optimizer gets a combination:

* colour: the Okabe-Ito palette without its yellow (7 hues that colour-blind readers tell
  apart, and that stay visible on white paper);
* dash pattern: 4 patterns, cycled with a period (4) coprime to the colours' (7), so the
  first 28 optimizers all differ in colour *or* dash, and neighbours in both;
* marker: 13 shapes placed sparsely on each line, the cue that survives greyscale (13 is
  coprime to both periods, so up to 13 optimizers all have distinct markers).

Styles are assigned in label order (numbers compared as numbers), not in rank order, so an
optimizer keeps its look when the ranking changes between reports. Every figure is saved as
PNG (embedded in the HTML report) and as PDF (vector, for a paper), atomically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from adapters.files import atomic_write

__all__ = [
    "PALETTE",
    "FONT",
    "WIDTH",
    "LineStyle",
    "label_order",
    "styles_for",
    "new_figure",
    "finish_axes",
    "legend_outside",
    "plain_log_ticks",
    "markevery",
    "save_figure",
]

#: Okabe & Ito (2008) without yellow: black, orange, sky blue, bluish green, blue, vermillion, reddish purple.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
_DASHES: tuple[tuple[float, ...] | None, ...] = (None, (5.0, 2.0), (1.2, 1.6), (6.0, 2.0, 1.2, 2.0))
_MARKERS = "osD^vPX*<>hpd"
#: Font sizes (pt): figures are drawn at print width, so these are the sizes a reader sees.
FONT = {"text": 9.0, "small": 8.0, "title": 10.0}
#: Figure width (inches): one column of a two-column page at full width, and the HTML report's page width.
WIDTH = 6.5
_PNG_DPI = 150
#: Markers per line: enough to tell lines apart in greyscale, few enough not to clutter.
_MARKS_PER_LINE = 6


@dataclass(frozen=True)
class LineStyle:
    """How one optimizer is drawn everywhere."""

    color: str
    dashes: tuple[float, ...] | None
    marker: str

    def line_kwargs(self) -> dict:
        """Keyword arguments for ``ax.plot``/``ax.step`` (the marker needs ``markevery`` from the caller)."""
        kwargs: dict = {"color": self.color, "marker": self.marker, "markersize": 4.5, "linewidth": 1.5,
                        "markerfacecolor": "white", "markeredgewidth": 1.1}
        if self.dashes is not None:
            kwargs["dashes"] = self.dashes
        return kwargs


def label_order(names: Iterable[str]) -> list[str]:
    """Labels sorted with their numbers compared as numbers, so ``random@4`` comes before ``random@16``."""
    return sorted(names, key=lambda name: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)])


def styles_for(names: Sequence[str]) -> dict[str, LineStyle]:
    """One stable style per optimizer (assigned in label order), shared by every figure."""
    return {
        name: LineStyle(PALETTE[i % len(PALETTE)], _DASHES[i % len(_DASHES)], _MARKERS[i % len(_MARKERS)])
        for i, name in enumerate(label_order(names))
    }


def new_figure(height: float, width: float = WIDTH) -> Figure:
    """A constrained-layout figure on its own Agg canvas (no pyplot, no global state)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish_axes(ax, *, title: str = "", xlabel: str = "", ylabel: str = "", grid: str = "both") -> None:
    """Labels, a light grid behind the data and no top/right frame, at the shared font sizes."""
    if title:
        ax.set_title(title, fontsize=FONT["title"])
    ax.set_xlabel(xlabel, fontsize=FONT["text"])
    ax.set_ylabel(ylabel, fontsize=FONT["text"])
    ax.tick_params(labelsize=FONT["small"])
    if grid:
        ax.grid(True, axis=grid, which="major", color="0.88", linewidth=0.7)
        ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend_outside(ax, handles: Sequence, labels: Sequence[str], title: str) -> None:
    """A legend to the right of the axes, never over the data, in the order given (the rank order)."""
    legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.04, 1.0), borderaxespad=0.0,
                       fontsize=FONT["small"], title=title, title_fontsize=FONT["small"], frameon=False,
                       handlelength=3.2, alignment="left")
    legend.set_in_layout(True)


def _plain(value: float, _position: object = None) -> str:
    """A tick label without powers of ten: 0.01, 0.5, 3, 20k, 1.5M."""
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def plain_log_ticks(axis) -> None:
    """Label a log axis at 1, 2 and 5 times each power of ten, in plain numbers, with no overlapping minor labels."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())


def markevery(i: int, n_lines: int, n_points: int) -> slice:
    """Marker positions for line ``i`` of ``n_lines``: evenly spaced, offset per line so markers do not stack."""
    step = max(1, n_points // _MARKS_PER_LINE)
    return slice((i * step) // max(1, n_lines) + step // 4, None, step)


def save_figure(fig: Figure, png: Path) -> Path:
    """Write ``png`` and its vector twin (same stem, ``.pdf``) atomically; return the PNG's path."""
    png = Path(png)
    atomic_write(png, lambda tmp: fig.savefig(tmp, format="png", dpi=_PNG_DPI))
    atomic_write(png.with_suffix(".pdf"), lambda tmp: fig.savefig(tmp, format="pdf"))
    return png

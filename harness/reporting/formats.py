"""How every report writes its numbers and names its splits, so the tables of all sections agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["short_split", "mean_std", "p_text"]


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


def p_text(value: float) -> str:
    """A p-value to four significant digits (small ones stay readable in scientific notation)."""
    return f"{value:.4g}"

"""How every report writes its numbers and names its splits, so the tables of all sections agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapters.protocols import ACCURACY_OBJECTIVE, TaskObjective
from adapters.search_space import SearchSpace

__all__ = ["short_split", "mean_std", "mean_std_g", "p_text", "Units", "units_of", "Terms", "terms_of"]


@dataclass(frozen=True)
class Units:
    """How a report names one task's objective and its regret, and how many digits it shows.

    NB201's accuracy is a percentage: ``valid acc %`` with regrets in ``pp`` and two decimals.
    Any other objective keeps its own name and units (NAS-Bench-Graph's fraction, HPOLib's
    loss), written in significant digits, since its regrets may be 1e-5.
    """

    name: str
    test_name: str
    regret: str
    percent: bool

    @property
    def value(self) -> str:
        """The objective's column header: ``valid acc %``, or its own name."""
        return f"{self.name} %" if self.percent else self.name

    @property
    def test(self) -> str:
        """The test column's header: ``test acc %``, or ``test value``."""
        return f"{self.test_name} %" if self.percent else self.test_name

    def text(self, values: pd.Series | np.ndarray, digits: int = 2) -> str:
        """``mean ± std`` of ``values`` in this unit's digits."""
        return mean_std(values, digits) if self.percent else mean_std_g(pd.Series(values, dtype=float))


def units_of(objective: TaskObjective = ACCURACY_OBJECTIVE) -> Units:
    """The :class:`Units` of a task's objective."""
    if objective.percent:
        name = "valid acc" if objective.name == "valid_acc" else objective.name
        return Units(name, "test acc" if objective.name == "valid_acc" else "test", "pp", True)
    return Units(objective.name, "test value", objective.name, False)


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


@dataclass(frozen=True)
class Terms:
    """What a report calls a search space's parts: NB201's and TransNAS's cells have edges that
    take operations; every other space has hyperparameters that take values."""

    part: str
    part_header: str
    choice: str
    configs: str
    configs_note: str


CELL_TERMS = Terms("edge", "edge (to<-from)", "op", "cells", "distinct canonical cells (isomorphism classes)")
HYPERPARAMETER_TERMS = Terms("hyperparameter", "hyperparameter", "value", "configs",
                             "distinct canonical configurations (the source's duplicates merged)")


def terms_of(space: SearchSpace) -> Terms:
    """The :class:`Terms` of ``space``: a cell's edges and ops where it declares itself a cell."""
    return CELL_TERMS if space.cell else HYPERPARAMETER_TERMS


def mean_std_g(values: pd.Series) -> str:
    """``mean ± std`` in significant digits, for values of any scale (HPOLib's MSE regrets are 1e-5)."""
    data = pd.Series(values, dtype=float).dropna()
    if data.empty:
        return "n/a"
    return f"{data.mean():.4g}" + ("" if len(data) == 1 else f" ± {data.std(ddof=1):.2g}")


def p_text(value: float) -> str:
    """A p-value to four significant digits (small ones stay readable in scientific notation)."""
    return f"{value:.4g}"

"""NB201 cells in the optimizers' own languages, as Cell-typed wrappers over :data:`adapters.NB201`.

The conversions themselves are the search space's (``adapters.search_space.FiniteSpace``):
one categorical hyperparameter per edge, named ``edge_<to>_<from>`` so that ConfigSpace's
alphabetical ordering equals NB201 edge order, with choices in NB201 op order. These
wrappers keep the Cell-typed API for users and raise InvalidCellError for bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from adapters._cell import Cell, InvalidCellError
from adapters.nb201_space import NB201
from adapters.search_space import Config, InvalidConfigError

if TYPE_CHECKING:  # ConfigSpace takes ~1 s to import; queries and the runner's hot path never need it
    from ConfigSpace import Configuration, ConfigurationSpace

__all__ = [
    "HP_NAMES",
    "configspace",
    "to_configuration",
    "from_configuration",
    "optuna_distributions",
    "to_optuna_params",
    "from_optuna_params",
    "to_dehb_vector",
    "from_dehb_vector",
]

HP_NAMES: tuple[str, ...] = NB201.names

_T = TypeVar("_T")


def _cell_errors(convert: Callable[[_T], Config], value: _T) -> Cell:
    """``Cell(convert(value))``, with the space's InvalidConfigError as the cell's InvalidCellError."""
    try:
        return Cell(convert(value))
    except InvalidCellError:
        raise
    except InvalidConfigError as exc:
        raise InvalidCellError(str(exc)) from None


def configspace(seed: int | None = None) -> ConfigurationSpace:
    """A fresh ConfigSpace of 6 categoricals (a new object, so callers may seed it freely)."""
    return NB201.configspace(seed)


def to_configuration(cell: Cell, space: ConfigurationSpace) -> Configuration:
    try:
        return NB201.to_configuration(cell.ops, space)
    except InvalidConfigError as exc:
        raise InvalidCellError(str(exc)) from None


def from_configuration(config: Mapping[str, Any]) -> Cell:
    """A ConfigSpace Configuration (or its dict) to a Cell; rejects foreign spaces."""
    return _cell_errors(NB201.from_configuration, config)


def optuna_distributions() -> dict:
    """Optuna distributions for ``trial.suggest_categorical`` / ``study.ask`` (a new dict each call)."""
    return NB201.optuna_distributions()


def to_optuna_params(cell: Cell) -> dict[str, str]:
    return NB201.to_params(cell.ops)


def from_optuna_params(params: Mapping[str, str]) -> Cell:
    return _cell_errors(NB201.from_params, params)


def to_dehb_vector(cell: Cell) -> np.ndarray:
    """A DEHB unit-cube vector that DEHB itself decodes to ``cell`` (bin midpoints)."""
    return NB201.to_vector(cell.ops)


def from_dehb_vector(vector: np.ndarray) -> Cell:
    """The cell DEHB evaluates for ``vector`` (DEHB's own decoding rule, clipped to [0, 1])."""
    return _cell_errors(NB201.from_vector, vector)

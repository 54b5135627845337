"""The NB201 search space in the optimizers' own languages: ConfigSpace, Optuna, DEHB vectors.

One categorical hyperparameter per edge, named ``edge_<to>_<from>`` so that
ConfigSpace's alphabetical ordering equals NB201 edge order, and choices in NB201 op order.
"""

from __future__ import annotations

import functools

from collections.abc import Mapping

from typing import TYPE_CHECKING

import numpy as np

from adapters._cell import EDGES, NUM_EDGES, OPS, Cell, InvalidCellError

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

HP_NAMES: tuple[str, ...] = tuple(f"edge_{to}_{frm}" for to, frm in EDGES)


def configspace(seed: int | None = None) -> ConfigurationSpace:
    """A fresh ConfigSpace of 6 categoricals (a new object, so callers may seed it freely)."""
    from ConfigSpace import Categorical, ConfigurationSpace

    space = ConfigurationSpace(name="nb201", seed=seed)
    space.add([Categorical(name, OPS, default=OPS[3]) for name in HP_NAMES])
    return space


def _check_space(space: ConfigurationSpace) -> None:
    names = list(space.keys())
    if sorted(names) != sorted(HP_NAMES):
        raise InvalidCellError(
            f"Configuration is from a different space: hyperparameters {names}, expected {list(HP_NAMES)}"
        )
    for name in HP_NAMES:
        choices = tuple(getattr(space[name], "choices", ()))
        if choices != OPS:
            raise InvalidCellError(
                f"Configuration is from a different space: {name} has choices {choices}, expected {OPS}"
            )


def to_configuration(cell: Cell, space: ConfigurationSpace) -> Configuration:
    from ConfigSpace import Configuration

    _check_space(space)
    return Configuration(space, values=dict(zip(HP_NAMES, cell.op_names)))


def from_configuration(config: Mapping[str, str]) -> Cell:
    """A ConfigSpace Configuration (or its dict) to a Cell; rejects foreign spaces."""
    space = getattr(config, "config_space", None)
    if space is not None:
        _check_space(space)
    keys = set(config)
    if keys != set(HP_NAMES):
        raise InvalidCellError(
            f"Configuration is from a different space: keys {sorted(keys)}, expected {list(HP_NAMES)}"
        )
    names = []
    for name in HP_NAMES:
        value = config[name]
        if value not in OPS:
            raise InvalidCellError(f"{name}: unknown op {value!r}; ops are {OPS}")
        names.append(value)
    return Cell.from_op_names(names)


def optuna_distributions() -> dict:
    """Optuna distributions for ``trial.suggest_categorical`` / ``study.ask`` (a new dict each call).

    The distribution objects themselves are made once and shared: Optuna never changes one,
    and building six per trial was a tenth of a 100,000-trial report's time.
    """
    return dict(_shared_distributions())


@functools.cache
def _shared_distributions() -> dict:
    from optuna.distributions import CategoricalDistribution

    return {name: CategoricalDistribution(OPS) for name in HP_NAMES}


def to_optuna_params(cell: Cell) -> dict[str, str]:
    return dict(zip(HP_NAMES, cell.op_names))


def from_optuna_params(params: Mapping[str, str]) -> Cell:
    return from_configuration(params)


# DEHB 0.1.2 encodes choice k of n as k/n and decodes v as the last k with v >= arange(0, 1, 1/n)[k].
# Because arange(0, 1, 0.2)[3] is 0.6000000000000001, DEHB's own encoding of op 3 (0.6) decodes to
# op 2. Encoding at the bin midpoints avoids that, and decoding copies DEHB's rule exactly.
_DEHB_BIN_STARTS = np.arange(start=0, stop=1, step=1 / len(OPS))


def to_dehb_vector(cell: Cell) -> np.ndarray:
    """A DEHB unit-cube vector that DEHB itself decodes to ``cell``."""
    return (np.asarray(cell.ops, dtype=float) + 0.5) / len(OPS)


def from_dehb_vector(vector: np.ndarray) -> Cell:
    """The cell DEHB evaluates for ``vector`` (DEHB's own decoding rule, clipped to [0, 1])."""
    vector = np.asarray(vector, dtype=float)
    if vector.shape != (NUM_EDGES,) or not np.all(np.isfinite(vector)):
        raise InvalidCellError(f"a DEHB vector has {NUM_EDGES} finite entries, got {vector!r}")
    clipped = np.clip(vector, 0.0, 1.0)
    ops = [int(np.where(~(v < _DEHB_BIN_STARTS))[0][-1]) for v in clipped]
    return Cell(ops)

"""The search-space seam: a finite space of categorical and ordinal hyperparameters keyed to a table.

Optimizers, records, reports and exports see a search space only through this protocol, so
a new benchmark (another NAS cell, an HPO table) plugs in by implementing it once. A
*configuration* is a tuple of choice indices, one per hyperparameter in declaration order;
a *key* is the table row it maps to (an int in ``0..size-1``). Several configurations may
share a key where the source treats architectures as the same (isomorphic cells); the
space's ``canonical`` picks one representative.

:class:`FiniteSpace` implements the library conversions (ConfigSpace, Optuna, DEHB's unit
cube) once from the hyperparameter list; an implementation supplies only the key mapping,
its string forms and its mutations.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from adapters.errors import BadInputError

if TYPE_CHECKING:  # ConfigSpace takes ~1 s to import; the runner's hot path never needs it
    from ConfigSpace import Configuration, ConfigurationSpace

__all__ = ["Config", "Hyperparameter", "InvalidConfigError", "SearchSpace", "FiniteSpace", "labels"]

#: One configuration: a choice index per hyperparameter, in the space's declaration order.
Config = tuple[int, ...]


class InvalidConfigError(BadInputError):
    """A configuration, key or string that is not in the space; the message names the bad part."""


@dataclass(frozen=True)
class Hyperparameter:
    """One finite hyperparameter.

    Attributes:
        name: the name every library and every record uses (``edge_1_0``, ``lr``...).
        choices: the values in the source's own order (str, int or float).
        ordinal: True when the choices are ordered (learning rates, widths); libraries that
            support order (ConfigSpace's OrdinalHyperparameter, DEHB's unit interval) keep it.
        default: index of the default choice.
        label: how reports and figures show it where the name is a code (NB201's ``1<-0`` for
            ``edge_1_0``); empty: the name itself.
    """

    name: str
    choices: tuple[Any, ...]
    ordinal: bool = False
    default: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError(f"hyperparameter {self.name!r} has no choices")
        if not 0 <= self.default < len(self.choices):
            raise ValueError(f"hyperparameter {self.name!r}: default index {self.default} out of range")


@runtime_checkable
class SearchSpace(Protocol):
    """A finite search space keyed to a table. Everything an optimizer or exporter needs.

    Attributes:
        name: the space's registry name (``nb201``, ``transnas-micro``...).
        hyperparameters: the hyperparameters, in configuration order.
        size: the number of table keys (rows), ``0..size-1``.
        cell: whether each hyperparameter is an edge of a cell that takes an operation (NB201,
            TransNAS micro), so reports speak of edges, operations and cells.
    """

    name: str
    hyperparameters: tuple[Hyperparameter, ...]
    size: int
    cell: bool

    # --- the table ---------------------------------------------------------------------
    def key(self, config: Config) -> int:
        """The table row of a configuration; InvalidConfigError if it has none."""

    def config(self, key: int) -> Config:
        """The canonical configuration of a table row."""

    def canonical(self, config: Config) -> Config:
        """The representative of the configurations equivalent to this one: those that share its
        key, or, where the source has a row per isomorphic architecture (NB201), its isomorphism class."""

    def canonical_key(self, key: int) -> int:
        """The key of ``canonical(config(key))`` (records' ``canonical_id``: distinct architectures)."""

    def native_key(self, key: int) -> str:
        """The source's own key for a row (NB201's index, NAS-Bench-Graph's hash...), for re-scoring."""

    # --- readable forms ----------------------------------------------------------------
    def to_str(self, config: Config) -> str: ...

    def from_str(self, text: str) -> Config: ...

    # --- search moves ------------------------------------------------------------------
    def neighbours(self, config: Config) -> list[Config]:
        """Configurations one hyperparameter change away that map to a table row (RE, local search)."""

    def mutate(self, config: Config, rng: random.Random) -> Config:
        """One random neighbour (RE's mutation)."""

    def sample(self, rng: random.Random) -> Config:
        """A uniformly random table row's configuration."""

    # --- libraries' languages ----------------------------------------------------------
    def configspace(self, seed: int | None = None, *, ordinals: bool = True, forbidden: bool = True) -> ConfigurationSpace:
        """The space as ConfigSpace hyperparameters; ``ordinals=False`` makes ordinal ones categorical
        (for libraries that refuse ordinals: HpBandSter's BOHB); ``forbidden=False`` leaves out the forbidden
        clauses on configurations without a row (for DEHB 0.1.2, which crashes on a forbidden vector)."""

    def to_configuration(self, config: Config, space: ConfigurationSpace) -> Configuration: ...

    def from_configuration(self, values: Mapping[str, Any]) -> Config: ...

    def optuna_distributions(self) -> dict[str, Any]: ...

    def to_params(self, config: Config) -> dict[str, Any]:
        """Hyperparameter name -> value (Optuna params, records, exports)."""

    def from_params(self, params: Mapping[str, Any]) -> Config: ...

    def to_vector(self, config: Config) -> np.ndarray:
        """A DEHB unit-cube vector that DEHB itself decodes to ``config``."""

    def from_vector(self, vector: np.ndarray) -> Config:
        """The configuration DEHB evaluates for ``vector`` (DEHB's own decoding rule)."""


class FiniteSpace:
    """The library conversions of a finite space, written once from its hyperparameter list.

    Subclasses set ``name``, ``hyperparameters`` and ``size`` and implement ``key``,
    ``config`` and ``native_key``; the string form, canonical form and moves have plain
    defaults that a subclass overrides where its source says more (isomorphism, op strings).
    Categorical values keep their declared order in ConfigSpace and Optuna; ordinal ones
    become ConfigSpace ordinals. DEHB 0.1.2 decodes v as the last k with
    ``v >= arange(0, 1, 1/n)[k]``, whose float steps can fall a hair above k/n, so vectors
    are encoded at bin midpoints and decoded with DEHB's own rule.
    """

    name: str
    hyperparameters: tuple[Hyperparameter, ...]
    size: int
    #: Each hyperparameter is an edge of a cell that takes an operation (reports' words: edges, ops, cells).
    cell: bool = False
    #: Why some configurations have no row (the source never trained them), or empty where every one has.
    #: The runner records a proposal of such a configuration as a failed trial with this reason.
    untrained: str = ""

    # --- the table (subclasses) --------------------------------------------------------
    def key(self, config: Config) -> int:
        raise NotImplementedError

    def config(self, key: int) -> Config:
        raise NotImplementedError

    def native_key(self, key: int) -> str:
        raise NotImplementedError

    def canonical(self, config: Config) -> Config:
        return self.config(self.key(config))

    def canonical_key(self, key: int) -> int:
        return self.key(self.canonical(self.config(key)))

    # --- checks ------------------------------------------------------------------------
    def check(self, config: Sequence[int]) -> Config:
        """``config`` as a tuple of in-range choice indices, or InvalidConfigError naming the bad part."""
        config = tuple(config)
        hps = self.hyperparameters
        if len(config) != len(hps):
            raise InvalidConfigError(f"a {self.name} configuration has {len(hps)} values, got {len(config)}: {config!r}")
        for hp, choice in zip(hps, config):
            if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) or not 0 <= choice < len(hp.choices):
                raise InvalidConfigError(f"{hp.name}: choice index must be an integer 0..{len(hp.choices) - 1}, got {choice!r}")
        return tuple(int(c) for c in config)

    def check_key(self, key: int) -> int:
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < self.size:
            raise InvalidConfigError(f"a {self.name} key is an integer 0..{self.size - 1}, got {key!r}")
        return int(key)

    # --- readable forms ----------------------------------------------------------------
    def to_str(self, config: Config) -> str:
        return ",".join(f"{hp.name}={hp.choices[c]}" for hp, c in zip(self.hyperparameters, config))

    def from_str(self, text: str) -> Config:
        params: dict[str, Any] = {}
        by_name = {hp.name: hp for hp in self.hyperparameters}
        for part in text.split(","):
            name, sep, value = (s.strip() for s in part.partition("="))
            if not sep:
                raise InvalidConfigError(f"expected name=value pairs separated by commas, got {text!r}")
            params[name] = _parse_like(by_name[name], value) if name in by_name else value
        return self.from_params(params)

    # --- search moves ------------------------------------------------------------------
    def neighbours(self, config: Config) -> list[Config]:
        row, out = self.key(config), []
        for i, hp in enumerate(self.hyperparameters):
            for c in range(len(hp.choices)):
                if c != config[i]:
                    other = config[:i] + (c,) + config[i + 1:]
                    if self._row_or_none(other) not in (None, row):
                        out.append(other)
        return out

    def mutate(self, config: Config, rng: random.Random) -> Config:
        """Change one hyperparameter to another value (NB201's RE mutation, generalised).

        One hyperparameter uniformly, then one of its other values uniformly: on NB201 this
        is RE's one-edge mutation draw for draw (``randrange(6)``, then ``choice`` of the 4
        other ops). A draw without a table row, or with this one's row (an isomorphic twin), is redrawn; after ``_MUTATION_TRIES`` misses
        (a sparse table) a uniformly random neighbour is taken instead.
        """
        config, hps = tuple(config), self.hyperparameters
        row = self.key(config)
        for _ in range(_MUTATION_TRIES):
            i = rng.randrange(len(hps))
            others = [c for c in range(len(hps[i].choices)) if c != config[i]]
            if others:
                child = config[:i] + (rng.choice(others),) + config[i + 1:]
                if self._row_or_none(child) not in (None, row):
                    return child
        options = self.neighbours(config)
        if not options:
            raise InvalidConfigError(f"{self.to_str(config)} has no neighbour in the {self.name} table")
        return options[rng.randrange(len(options))]

    def sample(self, rng: random.Random) -> Config:
        return self.config(rng.randrange(self.size))

    def _row_or_none(self, config: Config) -> int | None:
        """The table row of ``config``, or None where it has none."""
        try:
            return self.key(config)
        except InvalidConfigError:
            return None

    # --- libraries' languages ----------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(hp.name for hp in self.hyperparameters)

    def configspace(self, seed: int | None = None, *, ordinals: bool = True, forbidden: bool = True) -> ConfigurationSpace:
        """A fresh ConfigSpace (a new object, so callers may seed it freely); a space with untrained
        configurations adds their forbidden clauses where ``forbidden``."""
        from ConfigSpace import Categorical, ConfigurationSpace, OrdinalHyperparameter

        space = ConfigurationSpace(name=self.name, seed=seed)
        for hp in self.hyperparameters:
            if hp.ordinal and ordinals:
                space.add(OrdinalHyperparameter(hp.name, hp.choices, default_value=hp.choices[hp.default]))
            else:
                space.add(Categorical(hp.name, hp.choices, default=hp.choices[hp.default]))
        return space

    def to_configuration(self, config: Config, space: ConfigurationSpace) -> Configuration:
        from ConfigSpace import Configuration

        self._check_configspace(space)
        return Configuration(space, values=self.to_params(config))

    def from_configuration(self, values: Mapping[str, Any]) -> Config:
        space = getattr(values, "config_space", None)
        if space is not None:
            self._check_configspace(space)
        return self.from_params(values)

    def _check_configspace(self, space: ConfigurationSpace) -> None:
        names = list(space.keys())
        if sorted(names) != sorted(self.names):
            raise InvalidConfigError(f"Configuration is from a different space: hyperparameters {names}, "
                                     f"expected {list(self.names)}")
        for hp in self.hyperparameters:
            got = space[hp.name]
            choices = tuple(getattr(got, "choices", None) or getattr(got, "sequence", ()))
            if choices != hp.choices:
                raise InvalidConfigError(f"Configuration is from a different space: {hp.name} has choices "
                                         f"{choices}, expected {hp.choices}")

    def optuna_distributions(self) -> dict[str, Any]:
        """Optuna distributions (a new dict each call; the distribution objects are shared)."""
        return dict(_distributions(self.hyperparameters))

    def to_params(self, config: Config) -> dict[str, Any]:
        return {hp.name: hp.choices[c] for hp, c in zip(self.hyperparameters, config)}

    def from_params(self, params: Mapping[str, Any]) -> Config:
        keys = set(params)
        if keys != set(self.names):
            raise InvalidConfigError(f"Configuration is from a different space: keys {sorted(map(str, keys))}, "
                                     f"expected {list(self.names)}")
        config = []
        for hp in self.hyperparameters:
            value = params[hp.name]
            try:
                config.append(hp.choices.index(value))
            except ValueError:
                raise InvalidConfigError(f"{hp.name}: unknown value {value!r}; choices are {hp.choices}") from None
        return tuple(config)

    def to_vector(self, config: Config) -> np.ndarray:
        return np.asarray([(c + 0.5) / len(hp.choices) for hp, c in zip(self.hyperparameters, config)], dtype=float)

    def from_vector(self, vector: np.ndarray) -> Config:
        vector = np.asarray(vector, dtype=float)
        n = len(self.hyperparameters)
        if vector.shape != (n,) or not np.all(np.isfinite(vector)):
            raise InvalidConfigError(f"a DEHB vector for {self.name} has {n} finite entries, got {vector!r}")
        clipped = np.clip(vector, 0.0, 1.0)
        return tuple(int(np.where(~(v < _bin_starts(len(hp.choices))))[0][-1])
                     for v, hp in zip(clipped, self.hyperparameters))


#: Redraws of a mutation that landed off the table before falling back to the neighbour list.
_MUTATION_TRIES = 64


def labels(space: SearchSpace) -> dict[str, str]:
    """Hyperparameter name -> the label reports show (its ``label``, else its name)."""
    return {hp.name: hp.label or hp.name for hp in space.hyperparameters}


def _parse_like(hp: Hyperparameter, text: str) -> Any:
    """A string form's value as the hyperparameter's own type (``0.1`` -> 0.1 where choices are floats)."""
    for choice in hp.choices:
        if str(choice) == text:
            return choice
    return text


@functools.cache
def _bin_starts(n: int) -> np.ndarray:
    return np.arange(start=0, stop=1, step=1 / n)


@functools.cache
def _distributions(hyperparameters: tuple[Hyperparameter, ...]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution

    return {hp.name: CategoricalDistribution(hp.choices) for hp in hyperparameters}

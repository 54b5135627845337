"""The one Budget value object, and the one rule every optimizer is charged by."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from adapters.bounds import check
from adapters.types import BadInputError, finite_float
from harness.running.smoke import smoke_amount

__all__ = ["Budget"]

_UNITS = {"s": "seconds", "min": "seconds", "h": "seconds", "evals": "evals", "full": "full"}
#: Seconds per unit of the time units (``2h``: a live run's two hours of training).
_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(s|min|h|evals|full)\s*$")
_EPS = 1e-9


@dataclass(frozen=True)
class Budget:
    """How much a run may spend, in one of three units.

    - ``seconds``: simulated seconds: the table's train time to the queried fidelity, plus
      the optimizer's measured ask/tell time when ``include_overhead`` is set;
    - ``evals``: the number of trials;
    - ``full``: full-fidelity-equivalent evaluations (charged fidelity / max fidelity).

    A trial starts only if what is left covers its whole cost, so a run never overshoots and
    never skips ahead to a cheaper trial: the first trial that does not fit ends the run.

    Example:
        >>> Budget.parse("50full")
        Budget(kind='full', amount=50.0, include_overhead=False)
    """

    kind: str
    amount: float
    include_overhead: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _UNITS.values():
            raise BadInputError(f"budget kind must be one of {sorted(_UNITS.values())}, got {self.kind!r}")
        # finite_float: "1e309s" parses to infinity, and an infinite budget never ends a run.
        amount = finite_float(self.amount, "budget")
        if not amount > 0:
            raise BadInputError(f"budget must be positive, got {self.amount}")
        # The bounds table: whole trials only (0.5evals would run none), and no budget beyond any need.
        object.__setattr__(self, "amount", float(check(self.kind, amount)))
        if not isinstance(self.include_overhead, bool):
            raise BadInputError(f"budget include_overhead must be true or false, got {self.include_overhead!r}")

    @classmethod
    def parse(cls, text: str, *, include_overhead: bool = False) -> Budget:
        match = _PATTERN.match(str(text))
        if not match:
            raise BadInputError(f"malformed budget {text!r}; use e.g. 500000s, 2h, 100evals or 50full")
        amount = float(match.group(1)) * _SECONDS.get(match.group(2), 1.0)
        if not math.isfinite(amount):
            raise BadInputError(f"budget {text!r} is not a finite amount")
        kind = _UNITS[match.group(2)]
        return cls(kind, smoke_amount(kind, amount), include_overhead)

    def cost(self, cost_s: float, fidelity_fraction: float, overhead_s: float = 0.0) -> float:
        """One trial's cost in this budget's unit."""
        if self.kind == "seconds":
            return cost_s + (overhead_s if self.include_overhead else 0.0)
        if self.kind == "evals":
            return 1.0
        return fidelity_fraction

    def fits(self, used: float, cost: float) -> bool:
        return used + cost <= self.amount * (1 + _EPS)

    def max_trials(self) -> int | None:
        """An upper bound on trials where the unit implies one (libraries like SMAC need it)."""
        return int(self.amount) if self.kind == "evals" else None

    def __str__(self) -> str:
        unit = {"seconds": "s", "evals": "evals", "full": "full"}[self.kind]
        extra = " (+ optimizer overhead)" if self.include_overhead else ""
        return f"{self.amount:g}{unit}{extra}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "amount": self.amount, "include_overhead": self.include_overhead, "text": str(self)}

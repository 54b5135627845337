"""``HPO2NAS_SMOKE=1``: every documented command as written, at a fraction of its cost.

Why: the docs' commands must keep running (``tests/test_docs.py`` runs every one of them), but
a paper profile is 2,720 runs. With the variable set, every budget parsed (``--budget``, a
spec's profiles) is cut to 1/50 of its amount, though never below a few trials' worth and
never above the amount asked, and every profile keeps only its first two seeds (two, so that
the report's paired statistics still have pairs). Everything else (optimizers, datasets,
options, outputs, the report) is what the command asks for. Records stay honest: ``run.json``
and the report state the budget and seeds that actually ran. Never set it for results.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["SMOKE_ENV", "smoke", "smoke_amount", "smoke_seeds"]

SMOKE_ENV = "HPO2NAS_SMOKE"
_FACTOR = 50
#: The least a budget is cut to, per unit: about five full trainings, five trials, three full trainings.
_FLOOR = {"seconds": 10_000.0, "evals": 5.0, "full": 3.0}
_SEEDS = 2


def smoke() -> bool:
    """Whether smoke mode is on (the variable is set to anything but empty or ``0``)."""
    return os.environ.get(SMOKE_ENV, "") not in ("", "0")


def smoke_amount(kind: str, amount: float) -> float:
    """A budget's amount in smoke mode (unchanged otherwise)."""
    if not smoke():
        return amount
    return min(amount, max(amount / _FACTOR, _FLOOR[kind]))


def smoke_seeds(seeds: Sequence[int]) -> list[int]:
    """A profile's seeds in smoke mode: the first two (all of them otherwise)."""
    return list(seeds[:_SEEDS]) if smoke() else list(seeds)

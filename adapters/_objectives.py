"""The objectives a search may trade off: validation accuracy against a cell's size, speed or cost.

Every layer names objectives the same way: the runner reads their values from a benchmark,
optimizer adapters learn their directions, records and reports carry them by name. The
accuracy is always one of them (a multi-objective NAS search without it finds the empty cell).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.errors import BadInputError

__all__ = ["Objective", "OBJECTIVES", "ACCURACY", "parse_objectives"]


@dataclass(frozen=True)
class Objective:
    """One objective.

    Attributes:
        name: the name users type (``--objectives valid_acc,params``) and records use.
        metric: the benchmark's metric or cell fact behind it (``QueryResult`` attribute).
        maximize: its direction (only the accuracy is maximised).
        unit: for axis labels and tables.
        per_seed: whether the value depends on the training seed (train time does; a cell's
            parameter count does not).
    """

    name: str
    metric: str
    maximize: bool
    unit: str
    per_seed: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})"


ACCURACY = Objective("valid_acc", "valid_acc", True, "%", True)

#: Every objective by name, the accuracy first.
OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        ACCURACY,
        Objective("params", "params_m", False, "M parameters", False),
        Objective("flops", "flops_m", False, "M FLOPs", False),
        Objective("latency", "latency_s", False, "s", False),
        Objective("train_time", "train_time_s", False, "s of the 200-epoch schedule", True),
    )
}


def parse_objectives(spec: str | Iterable[str]) -> tuple[str, ...]:
    """``"valid_acc,params"`` (or a list of names) -> a checked tuple of names.

    The accuracy must be among them, each name once; the order is kept (it is the order
    the optimizer is told the values in).
    """
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown:
        raise BadInputError(f"unknown objective {unknown[0]!r}; objectives are {', '.join(OBJECTIVES)}")
    if len(set(names)) != len(names):
        raise BadInputError(f"objective {next(n for n in names if names.count(n) > 1)!r} is given twice")
    if ACCURACY.name not in names:
        raise BadInputError(f"objectives must include the accuracy ({ACCURACY.name}); got {', '.join(names) or 'none'}")
    return tuple(names)

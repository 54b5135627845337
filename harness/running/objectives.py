"""What the runner reads for a multi-objective search: each trial's objective values.

The optimizer is told the values it observed (the accuracy and train time of the trial's
own training seed); the records also keep every objective's seed-mean value at the highest
fidelity, which the report scores fronts and hypervolume with, as single-objective regret
scores the incumbent's seed-mean accuracy.
"""

from __future__ import annotations

from typing import Any

from adapters import OBJECTIVES
from adapters.protocols import Benchmark
from adapters.types import SEED_MEAN, QueryResult

__all__ = ["ObjectiveReader"]


class ObjectiveReader:
    """Per trial: the observed objective values (for ``tell``) and the record's objective columns."""

    def __init__(self, benchmark: Benchmark, dataset: str, objectives: tuple[str, ...]) -> None:
        self.benchmark = benchmark
        self.dataset = dataset
        self.objectives = tuple(OBJECTIVES[name] for name in objectives)
        self._means: dict[int, dict[str, Any]] = {}

    def observe(self, index: int, result: QueryResult, valid_acc: float, data_seed: Any) -> tuple[float, ...]:
        """Every objective's observed value: the accuracy as observed, cell facts as they are,
        train time for the whole 200-epoch schedule on the trial's training seed."""
        values = []
        for objective in self.objectives:
            if objective.name == "valid_acc":
                values.append(valid_acc)
            elif objective.per_seed:
                values.append(getattr(self.benchmark.query(index, self.dataset, None, data_seed), objective.metric))
            else:
                values.append(getattr(result, objective.metric))
        return tuple(values)

    def columns(self, index: int, values: tuple[float, ...]) -> dict[str, Any]:
        """The record's objective columns (``harness.running.records.objective_columns`` names them)."""
        means = self._means.get(index)
        if means is None:
            mean = self.benchmark.query(index, self.dataset, None, SEED_MEAN)
            means = self._means[index] = {f"mean_{o.name}": getattr(mean, o.metric) for o in self.objectives}
        observed = {o.name: v for o, v in zip(self.objectives, values) if o.name != "valid_acc"}
        return {**observed, **means}

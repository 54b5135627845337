"""How many trials a budget is expected to allow: the figure libraries size their start-up from.

SMAC's initial design is 25% of it, and the run's records state it with how it was worked out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters.protocols import Benchmark, task_space
from harness.running.budget import Budget
from harness.running.live_pricing import trains

__all__ = ["expected_trials"]


def expected_trials(budget: Budget, benchmark: Benchmark, dataset: str, fidelity: int) -> dict[str, Any]:
    """How many trials the budget is expected to allow, and how that was worked out.

    For a time budget: the budget over the median (over all cells, seed mean) cost of one
    evaluation at ``fidelity``, the highest fidelity searched; a full-fidelity budget counts
    full evaluations and an evaluation budget its evaluations. Libraries that size their
    start-up from a trial count get this figure (SMAC's initial design is 25% of it).
    """
    if budget.kind != "seconds":
        basis = "evaluations" if budget.kind == "evals" else "full-fidelity equivalents"
        return {"n": max(1, int(budget.amount)), "basis": f"the budget's {basis}"}
    if trains(benchmark):
        return {"n": None, "basis": "unknown before training: a benchmark that trains has no table of costs"}
    costs = benchmark.lookup(np.arange(task_space(benchmark, dataset).size), dataset, "train_time_s", fidelity)
    median = float(np.nanmedian(costs))
    return {"n": max(1, int(budget.amount // median)), "median_cost_s": round(median, 3),
            "basis": f"budget / median cost of one evaluation at fidelity {fidelity} ({median:.1f} s)"}

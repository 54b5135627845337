"""A compare on a benchmark that trains (live): its optimum and its budget rule.

Why apart from the table's compare: a table knows every cell's accuracy, so regret is measured
against its optimum; a live benchmark knows only what the runs trained. Here regret is measured
against the best accuracy any run of the compare measured (the empirical optimum, stated as such
in the report), and the budget rule says that time is measured, not looked up.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["LIVE_RULE", "measured_optimum", "with_measured_regret"]

LIVE_RULE = (
    "Live training: every optimizer is charged by one rule, the measured seconds (training and validation) of the "
    "epochs each trial trained, 1 evaluation, or epochs/max full-training equivalents. The cost of a trial is "
    "known only after it ran, so a seconds budget may end up to one trial over. Pruned trials stopped training "
    "where the pruner said and pay their epochs; failed trainings (NaN loss, out of memory) pay their wall-clock. "
    "There is no table: the optimum (regret 0) is the best validation accuracy any run of this compare measured, "
    "and incumbents are reported at what their training measured."
)


def measured_optimum(trials: pd.DataFrame) -> dict[str, float]:
    """Per dataset, the best incumbent accuracy any run measured (the empirical optimum)."""
    return {str(d): float(frame["incumbent_valid_acc"].max()) for d, frame in trials.groupby("dataset")}


def with_measured_regret(trials: pd.DataFrame, optimum: dict[str, float]) -> pd.DataFrame:
    """The trials with ``regret_valid`` measured against ``optimum`` (a live run records none)."""
    out = trials.copy()
    best = out["dataset"].map(optimum).astype(float)
    out["regret_valid"] = best - pd.to_numeric(out["incumbent_valid_acc"], errors="coerce")
    return out

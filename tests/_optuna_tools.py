"""Checks shared by the Optuna storage, export and dashboard tests."""

from __future__ import annotations

import pandas as pd
from optuna.study import Study
from optuna.trial import TrialState

from adapters import Cell, to_optuna_params
from adapters.optimizers.optuna_study import USER_ATTRS


def assert_study_is_records(study: Study, trials: pd.DataFrame, objectives: tuple[str, ...] = ("valid_acc",)) -> None:
    """One trial per row, in order, with the row's cell, values, state and attributes."""
    assert [t.number for t in study.trials] == trials["trial"].tolist()
    for trial, row in zip(study.trials, trials.to_dict("records"), strict=True):
        assert trial.params == to_optuna_params(Cell.from_index(row["index"]))
        assert trial.values == [row[name] for name in objectives]
        assert trial.state == (TrialState.PRUNED if row["status"] == "pruned" else TrialState.COMPLETE)
        assert trial.user_attrs == {attr: row[column] for attr, column in USER_ATTRS.items()}

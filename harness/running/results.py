"""What a finished run hands back to Python: :class:`RunResult` and its :class:`Incumbent`.

Why a module of its own: the runner makes a result, ``--resume`` on a finished run and the
Python API read one back from its folder (:meth:`RunResult.from_folder`), and a notebook
prints one, so the result must not need the runner's loop to exist, and its repr must be one
line rather than the 30 KB of every trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.running.records import IDENTITY_COLUMNS, TRIAL_COLUMNS, read_run

__all__ = ["Incumbent", "RunResult"]



@dataclass(frozen=True)
class Incumbent:
    """The run's final incumbent: the best observed cell at the highest fidelity it evaluated.

    ``valid_acc`` and ``test_acc`` are the cell's seed-mean accuracies at the store's highest
    fidelity (test is None where the store has no test split), ``regret`` is the optimum's
    seed-mean validation accuracy minus ``valid_acc``, in percentage points. On a benchmark that
    trains (live) there is no seed mean: ``valid_acc`` is the measured one and ``regret`` is None.
    """

    index: int
    arch_str: str
    valid_acc: float
    test_acc: float | None
    regret: float | None

    def __str__(self) -> str:
        return f"cell {self.index} {self.arch_str}: valid {self.valid_acc:.3f}, regret {_pp(self.regret)}"


def _pp(regret: float | None) -> str:
    return "unknown (no table)" if regret is None else f"{regret:.3f} pp"


@dataclass(repr=False)
class RunResult:
    """A finished run. ``rows`` holds one dict per trial, in the order they were told;
    ``budget_used`` is in the budget's unit (seconds: the simulated wall-clock at the end);
    ``compute_s`` is the simulated compute of all workers together; ``config`` is the run's
    config as ``run.json`` records it."""

    folder: Path
    rows: list[dict[str, Any]]
    budget_used: float
    expected_trials: dict[str, Any] | None = None
    workers: int = 1
    compute_s: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: Path) -> RunResult:
        """The result of the finished run recorded in ``folder`` (one-line BadInputError otherwise)."""
        run = read_run(folder)
        rows = run.trials.drop(columns=list(IDENTITY_COLUMNS)).to_dict("records")
        return cls(folder=Path(folder), rows=rows, budget_used=float(run.record.get("budget_used", 0.0)),
                   expected_trials=run.record.get("expected_trials"), workers=int(run.record.get("workers", 1)),
                   compute_s=float(run.record.get("compute_s", 0.0)), config=run.config)

    @property
    def label(self) -> str:
        return self.config.get("label") or self.config.get("optimizer", "?")

    @property
    def trials(self) -> pd.DataFrame:
        """Every trial as a DataFrame (the columns of trials.parquet), built anew on each access."""
        frame = pd.DataFrame(self.rows, columns=list(TRIAL_COLUMNS[len(IDENTITY_COLUMNS):]) if not self.rows else None)
        identity = {"optimizer": self.label, "seed": self.config.get("seed"), "dataset": self.config.get("dataset")}
        for position, (name, value) in enumerate(identity.items()):
            frame.insert(position, name, value)
        return frame

    @property
    def incumbent(self) -> Incumbent | None:
        """The final incumbent (None for a run without trials)."""
        last = self.rows[-1] if self.rows else None
        if last is None or last["incumbent_index"] is None or last["incumbent_index"] != last["incumbent_index"]:
            return None  # no trials, or every training failed
        index = int(last["incumbent_index"])
        test = last["incumbent_test_acc"]
        arch_str = next(row["arch_str"] for row in self.rows if row["index"] == index)  # in the space's own form
        return Incumbent(index=index, arch_str=arch_str,
                         valid_acc=float(last["incumbent_valid_acc"]),
                         test_acc=None if test is None or test != test else float(test),
                         regret=None if last["regret_valid"] is None or last["regret_valid"] != last["regret_valid"]
                         else float(last["regret_valid"]))

    @property
    def utilisation(self) -> float:
        """Busy worker time over workers x wall-clock (1.0 for one worker)."""
        wall = max((t["sim_end_s"] for t in self.rows), default=0.0)
        return self.compute_s / (self.workers * wall) if wall > 0 else 0.0

    def __repr__(self) -> str:
        budget = self.config.get("budget", {}).get("text") or ""
        incumbent = self.incumbent
        best = (f", incumbent cell {incumbent.index} (valid {incumbent.valid_acc:.3f}, regret {_pp(incumbent.regret)})"
                if incumbent is not None else "")
        return (f"<RunResult {self.label} on {self.config.get('dataset', '?')} seed {self.config.get('seed', '?')}: "
                f"{len(self.rows)} trials, budget used {self.budget_used:g}{f' of {budget}' if budget else ''}"
                f"{best}; records in {self.folder}>")

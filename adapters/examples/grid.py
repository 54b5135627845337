"""Exhaustive grid search, written as a user would write their own optimizer.

Run it with ``hpo2nas run --optimizer adapters.examples.grid:GridSearch ...``. It uses only
the public protocol: class attributes ``name``, ``multi_fidelity``, ``defaults`` and (optionally)
``pending_trials``, and the methods ``setup``, ``ask``, ``tell``, ``report``, ``settings`` and ``notes``.
"""

from __future__ import annotations

from typing import Any

from adapters import NUM_CELLS, Cell
from adapters.protocols import Observation, SearchProblem, Suggestion


class GridSearch:
    """Visit cells in official index order, starting at ``start``."""

    name = "grid"
    multi_fidelity = False
    pending_trials = True  # a fixed order: it may be asked while trials are running
    defaults: dict[str, Any] = {"start": 0}

    def __init__(self, start: int = 0) -> None:
        self.start = int(start)
        self._next = self.start

    def setup(self, problem: SearchProblem) -> None:
        self._next = self.start

    def ask(self) -> Suggestion:
        cell = Cell.from_index(self._next % NUM_CELLS)
        self._next += 1
        return Suggestion(cell=cell, origin="grid")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        pass

    def report(self, suggestion: Suggestion, fidelity: int, valid_acc: float) -> bool:
        return False

    def settings(self) -> dict[str, Any]:
        return {"start": self.start}

    def notes(self) -> list[str]:
        return []

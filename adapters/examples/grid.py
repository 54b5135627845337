"""Exhaustive grid search, written as a user would write their own optimizer.

Run it with ``hpo2nas run --optimizer adapters.examples.grid:GridSearch ...``. It uses only
the public protocol: class attributes ``name``, ``multi_fidelity``, ``defaults`` and (optionally)
``pending_trials``, the methods ``setup``, ``ask`` and ``tell``, and (optionally) ``settings``. It
works on any search space: it asks ``problem.space``'s table rows in key order.
"""

from __future__ import annotations

from typing import Any

from adapters.protocols import Observation, SearchProblem, Suggestion


class GridSearch:
    """Visit the space's table rows in key order (NB201: official index order), starting at ``start``."""

    name = "grid"
    multi_fidelity = False
    pending_trials = True  # a fixed order: it may be asked while trials are running
    defaults: dict[str, Any] = {"start": 0}

    def __init__(self, start: int = 0) -> None:
        self.start = int(start)
        self._next = self.start

    def setup(self, problem: SearchProblem) -> None:
        self.space = problem.space
        self._next = self.start

    def ask(self) -> Suggestion:
        config = self.space.config(self._next % self.space.size)
        self._next += 1
        return Suggestion(config, origin="grid")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        pass

    def settings(self) -> dict[str, Any]:
        return {"start": self.start}

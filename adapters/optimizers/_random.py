"""Random search, with or without replacement: the baseline every comparison needs."""

from __future__ import annotations

import random

from adapters._cell import NUM_CELLS, Cell
from adapters.optimizers._base import OptimizerBase
from adapters.protocols import Observation, SearchProblem, Suggestion

__all__ = ["RandomSearch"]


class RandomSearch(OptimizerBase):
    """Uniform cells. ``replace=False`` never repeats a cell until all 15,625 were asked.

    It ignores the objectives, so it searches any number of them (the multi-objective baseline).
    """

    name = "random"
    multi_objective = True
    defaults = {"replace": True}
    pending_trials = True  # it learns nothing: pending trials change nothing

    def setup(self, problem: SearchProblem) -> None:
        super().setup(problem)
        self._rng = random.Random(problem.seed)
        self._order: list[int] = []

    def ask(self) -> Suggestion:
        if self.options["replace"]:
            index = self._rng.randrange(NUM_CELLS)
        else:
            if not self._order:
                self._order = list(range(NUM_CELLS))
                self._rng.shuffle(self._order)
            index = self._order.pop()
        return Suggestion(cell=Cell.from_index(index), origin="random")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        pass

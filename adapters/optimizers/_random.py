"""Random search, with or without replacement: the baseline every comparison needs."""

from __future__ import annotations

import random

from adapters.optimizers._base import OptimizerBase
from adapters.protocols import Observation, SearchProblem, Suggestion

__all__ = ["RandomSearch"]


class RandomSearch(OptimizerBase):
    """Uniform table rows of the space. ``replace=False`` never repeats one until every row was asked.

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
        space = self.problem.space
        if self.options["replace"]:
            return Suggestion(space.sample(self._rng), origin="random")
        if not self._order:
            self._order = list(range(space.size))
            self._rng.shuffle(self._order)
        return Suggestion(space.config(self._order.pop()), origin="random")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        pass

"""Regularized evolution (Real et al. 2019), as NB201's baseline runs it.

Aging: the oldest member leaves, not the worst, which keeps the search from locking onto
a lucky noisy evaluation.
"""

from __future__ import annotations

import random
from collections import deque

from adapters.search_space import Config
from adapters.optimizers._base import Between, OptimizerBase
from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.types import BadInputError

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(OptimizerBase):
    """Population P (default 10), tournament S (default 3), aging; a mutation changes one
    hyperparameter (one edge of an NB201 cell) to another value (``SearchSpace.mutate``)."""

    name = "re"
    defaults = {"population_size": 10, "tournament_size": 3}
    limits = {"population_size": Between(2), "tournament_size": Between(1)}
    #: Asynchronous RE (Real et al. 2019): a free worker mutates a tournament winner of the
    #: members told so far; the population ages as results arrive, not as children are asked.
    pending_trials = True

    def validate(self) -> None:
        p, s = self.options["population_size"], self.options["tournament_size"]
        if s > p:
            raise BadInputError(f"re: tournament_size must be at most population_size, got P={p}, S={s}")

    def setup(self, problem: SearchProblem) -> None:
        super().setup(problem)
        self._rng = random.Random(problem.seed)
        self._population: deque[tuple[Config, float]] = deque()
        self._asked = 0

    def ask(self) -> Suggestion:
        self._asked += 1
        if self._asked <= self.options["population_size"] or not self._population:
            return Suggestion(self.problem.space.sample(self._rng), origin="initial population")
        sample = self._rng.sample(list(self._population), min(self.options["tournament_size"], len(self._population)))
        parent = max(sample, key=lambda member: member[1])[0]
        return Suggestion(self.problem.space.mutate(parent, self._rng), origin="mutation")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        self._population.append((suggestion.config, observation.valid_acc))
        if len(self._population) > self.options["population_size"]:
            self._population.popleft()

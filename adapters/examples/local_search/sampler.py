"""A local-search sampler for categorical spaces: change one parameter of the best trial so far.

Written against Optuna's public sampler API only (``BaseSampler``: a relative step over the
search space every finished trial shares, and an independent step for the rest), the way a
user writes their own sampler. It knows nothing about NB201 or hpo2nas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState


class LocalSearchSampler(BaseSampler):
    """Random for ``n_startup_trials`` trials, then the best trial with ``n_changes`` categorical
    parameters redrawn (each to a different choice): a (1+1) evolutionary local search.

    Args:
        n_startup_trials: finished trials drawn at random before the local search starts.
        n_changes: parameters changed per new trial.
        seed: seeds the sampler's random generator.
    """

    def __init__(self, n_startup_trials: int = 10, n_changes: int = 1, seed: int | None = None) -> None:
        if n_startup_trials < 1 or n_changes < 1:
            raise ValueError("n_startup_trials and n_changes must be at least 1")
        self.n_startup_trials = n_startup_trials
        self.n_changes = n_changes
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=seed)
        self._space = IntersectionSearchSpace()

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        space = self._space.calculate(study)
        return {name: dist for name, dist in space.items() if isinstance(dist, CategoricalDistribution)}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(finished) < self.n_startup_trials or not search_space:
            return {}
        pick = max if study.direction == StudyDirection.MAXIMIZE else min
        best = pick(finished, key=lambda t: t.value)
        params = {name: best.params[name] for name in search_space}
        names = sorted(search_space)
        for index in self._rng.choice(len(names), size=min(self.n_changes, len(names)), replace=False):
            name = names[index]
            choices = [c for c in search_space[name].choices if c != params[name]]  # type: ignore[attr-defined]
            if choices:
                params[name] = choices[self._rng.randint(len(choices))]
        return params

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._random.after_trial(study, trial, state, values)

"""DEHB 0.1.2 (Awad et al. 2021) behind the ask/tell protocol.

On a fidelity axis DEHB runs its Hyperband brackets between the axis's lowest and highest
fidelity; each of its geometric budgets runs at the nearest fidelity on the axis, and DEHB is
told its own budget back. Without an axis DEHB refuses min == max, so it gets a budget range
narrower than one eta step: one bracket of one rung, i.e. plain asynchronous DE at the single
fidelity with ``de_pop_size`` members per generation.

Origins: DEHB 0.1.2 never evaluates its random initial population as such; its first bracket
evaluates DE offspring of those unevaluated random vectors, labelled "random". Later offspring
are "mutation/crossover", and a configuration re-asked at a higher budget is "promotion".

Quirks worked around, all in DEHB 0.1.2:

- ``_get_next_iteration`` clips bracket sizes with ``np.clip``, whose numpy ints ConfigSpace 1.x
  refuses as a sample size; :class:`_IntSizedDEHB` casts them back.
- Only DEHB's own ``run`` loop drops finished brackets, so under ask/tell every ask scans all
  brackets so far; ``tell`` drops them as ``run`` does, keeping ask time flat.
- It encodes choice 3 of 5 as 0.6, which its own decoding reads as choice 2 (see
  ``adapters.search_space.FiniteSpace``), so on NB201 its random initial vectors never hold
  nor_conv_3x3; configurations are converted from the Configuration DEHB decoded, so the
  record shows what DEHB really evaluated.

DEHB writes its log to the run's optimizer folder; its history and state are written once by
``close``. DEHB is imported on the first ``setup`` (it pulls in dask).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from adapters.nb201_space import NB201
from adapters.optimizers._base import Between, Limit, OptimizerBase, Promotions, nearest_fidelity, quiet, rounding_note
from adapters.protocols import Observation, SearchProblem, Suggestion

__all__ = ["DEHBOptimizer"]

#: On a single fidelity, the lowest budget DEHB is given, as a fraction of the highest: above
#: 1/eta for every eta >= 2, so DEHB plans a single rung.
_SINGLE_RUNG_RATIO = 0.99


@functools.cache
def _int_sized_dehb() -> type:
    """DEHB with integer bracket sizes, defined on first use because DEHB is imported lazily."""
    from dehb import DEHB

    class _IntSizedDEHB(DEHB):
        def _get_next_iteration(self, iteration: int) -> tuple[list[int], Any]:
            sizes, fidelities = super()._get_next_iteration(iteration)
            return [int(size) for size in sizes], fidelities

    return _IntSizedDEHB


class DEHBOptimizer(OptimizerBase):
    """DEHB with its defaults (rand1_bin, F=0.5, CR=0.5); plain DE without a fidelity axis."""

    uses_fidelity = True  # multi-fidelity where the store has an axis, plain DE where not
    name = "dehb"
    #: DEHB's own asynchronous ask/tell: a bracket waiting for results makes DEHB open the next one.
    pending_trials = True
    defaults: ClassVar[dict[str, Any]] = {"eta": 3, "mutation_factor": 0.5, "crossover_prob": 0.5, "de_pop_size": 20}
    # rand1 draws 3 besides the target, so a population needs 4; DEHB allocates the whole
    # population at once, and more members than NB201 (the largest shipped space) has cells
    # would only cost memory.
    limits: ClassVar[dict[str, Limit]] = {"eta": Between(2), "mutation_factor": Between(0, low_open=True),
                                          "crossover_prob": Between(0, 1), "de_pop_size": Between(4, NB201.size)}

    def setup(self, problem: SearchProblem) -> None:
        super().setup(problem)
        fidelity = problem.fidelity
        if fidelity.multi_fidelity:
            budgets: dict[str, Any] = {"min_fidelity": fidelity.min, "max_fidelity": fidelity.max}
        else:
            pop = self.options["de_pop_size"]
            budgets = {
                "min_fidelity": fidelity.max * _SINGLE_RUNG_RATIO,
                "max_fidelity": fidelity.max,
                "min_clip": pop,
                "max_clip": pop,
            }
        with quiet():
            self._dehb = _int_sized_dehb()(
                # no forbidden clauses: DEHB 0.1.2 turns every mutant into a Configuration and crashes on a
                # forbidden one; a configuration without a row becomes the runner's failed trial instead
                cs=problem.space.configspace(seed=problem.seed, forbidden=False),
                eta=self.options["eta"],
                mutation_factor=self.options["mutation_factor"],
                crossover_prob=self.options["crossover_prob"],
                n_workers=1,
                seed=int(problem.seed),
                output_path=self.library_dir(),
                log_level="ERROR",
                save_freq="end",  # "end" is only DEHB.run's end: close() saves instead
                **budgets,
            )
        self._promotions = Promotions()

    def ask(self) -> Suggestion:
        with quiet():
            job = self._dehb.ask()
        budget = float(job["fidelity"])
        if self._promotions.is_promotion(job["config_id"], budget):
            origin = "promotion"
        else:
            origin = "random" if job["bracket_id"] == 0 else "mutation/crossover"
        return Suggestion(
            config=self.problem.space.from_configuration(job["config"]),
            fidelity=nearest_fidelity(self.problem.fidelity.values, budget),
            origin=origin,
            token=job,
        )

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        with quiet():
            self._dehb.tell(suggestion.token, {"fitness": 100.0 - observation.valid_acc, "cost": observation.cost_s})
            self._dehb._clean_inactive_brackets()

    def close(self) -> None:
        """Write DEHB's history, incumbent and state beside its log."""
        with quiet():
            self._dehb.save()

    def notes(self) -> list[str]:
        if not hasattr(self, "_dehb"):
            return []
        if not self.problem.fidelity.multi_fidelity:
            return ["no fidelity axis: DEHB runs as plain DE at the single fidelity"]
        return [rounding_note("DEHB", self._dehb.fidelities, self.problem.fidelity.values)]

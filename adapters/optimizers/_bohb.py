"""BOHB through HpBandSter 0.7.4 (Falkner et al. 2018), the library NB201's baseline used.

HpBandSter runs BOHB as a Master that dispatches jobs to workers over Pyro4 (a name server,
a dispatcher thread, worker daemons). Here the runner's one loop takes the Master's place;
everything that decides *what* runs is HpBandSter's own code:

- the config generator ``hpbandster.optimizers.config_generators.bohb.BOHB`` (the KDEs,
  ``get_config(budget)`` and ``new_result(job)``);
- the bracket plan ``hpbandster.optimizers.bohb.BOHB.get_next_iteration`` (called on this
  adapter, which holds the attributes it reads: ``max_SH_iter``, ``eta``, ``budgets``,
  ``config_generator``), with ``max_SH_iter`` and ``budgets`` computed by the Master's
  constructor formula;
- the ``SuccessiveHalving`` iterations, asked with ``get_next_run()`` and told with
  ``register_result(job)``.

What the Master adds is its scheduling order, reproduced here: ask the active iterations in
order for a run; if none has one (each waits for the results of its current rung), start the
next iteration. With one worker (NB201 ran one) a job is always finished before the next is
asked; with several simulated workers, trials still running make iterations wait and the next
one start, as the Master does with several workers.

HpBandSter draws from numpy's global generator. Every call into it draws from this run's own
generator instead (see ``_library``), so a run depends only on its seed and numpy's global
state is never touched.

On a store without a fidelity axis, or under a protocol that searches one schedule (NB201's
12-epoch signal), every BOHB budget runs at that one fidelity, as NB201's worker answered
every budget with the 12-epoch result; otherwise each budget runs at the nearest fidelity on
the axis. A promoted configuration is evaluated again and charged again, as in NB201.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

import numpy as np

from adapters.optimizers._base import Between, Limit, OptimizerBase, Promotions, nearest_fidelity, quiet, rounding_note
from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.types import BadInputError

__all__ = ["BOHBOptimizer"]

#: The generator of the BOHB run calling into HpBandSter now (per thread and task), else None.
_RUN_RANDOM: ContextVar[np.random.RandomState | None] = ContextVar("hpo2nas_bohb_random", default=None)


class _NumpyForHpBandSter:
    """numpy as HpBandSter's config generator sees it: ``np.random`` is the calling run's generator.

    Its draws are module-level ``np.random.rand``, ``randint`` and ``choice`` calls; inside a
    run's ``_library`` block they go to that run's RandomState, anywhere else to numpy's own
    ``np.random``, so other callers of HpBandSter see no difference.
    """

    def __getattr__(self, name: str) -> object:
        return getattr(np, name)

    @property
    def random(self) -> object:
        generator = _RUN_RANDOM.get()
        return np.random if generator is None else generator


@functools.cache
def _route_hpbandster_draws() -> None:
    """Point the ``np`` of HpBandSter's config generator module at :class:`_NumpyForHpBandSter` (once)."""
    module = importlib.import_module("hpbandster.optimizers.config_generators.bohb")
    module.np = _NumpyForHpBandSter()  # type: ignore[attr-defined]


class BOHBOptimizer(OptimizerBase):
    """HpBandSter's BOHB with NB201's settings as defaults.

    NB201 (``exps/algos/BOHB.py``, ``scripts-search/algos/BOHB.sh``): min budget 12, max 200,
    eta 3, num_samples 4, random_fraction 0, bandwidth_factor 3, and min_bandwidth 0.3 (the
    script's argparse default). HpBandSter's own defaults differ: num_samples 64,
    random_fraction 1/3, min_bandwidth 1e-3 (docs/running.md has the table).
    """

    name = "bohb"
    pending_trials = True  # the Master's own multi-worker order (module docstring)
    uses_fidelity = True  # BOHB's budgets map onto the axis where there is one
    defaults: ClassVar[dict[str, Any]] = {
        "min_budget": 12.0, "max_budget": 200.0, "eta": 3, "num_samples": 4, "random_fraction": 0.0,
        "bandwidth_factor": 3.0, "min_bandwidth": 0.3, "top_n_percent": 15,
    }
    limits: ClassVar[dict[str, Limit]] = {
        "min_budget": Between(0, low_open=True), "max_budget": Between(0, low_open=True), "eta": Between(2),
        "num_samples": Between(1), "random_fraction": Between(0, 1), "bandwidth_factor": Between(0, low_open=True),
        "min_bandwidth": Between(0), "top_n_percent": Between(1, 99),
    }

    def validate(self) -> None:
        o = self.options
        if not o["min_budget"] < o["max_budget"]:
            raise BadInputError(f"bohb: need min_budget < max_budget, got {o['min_budget']}, {o['max_budget']}")

    def setup(self, problem: SearchProblem) -> None:
        from hpbandster.optimizers.config_generators.bohb import BOHB as ConfigGenerator

        super().setup(problem)
        _route_hpbandster_draws()
        o = self.options
        self._random_state = np.random.RandomState(problem.seed)
        # HpBandSter 0.7.4 refuses ordinal hyperparameters; it models them as categorical ones.
        self._space = problem.space.configspace(seed=problem.seed, ordinals=False)
        with self._library():
            self.config_generator = ConfigGenerator(
                configspace=self._space, top_n_percent=o["top_n_percent"], num_samples=o["num_samples"],
                random_fraction=o["random_fraction"], bandwidth_factor=o["bandwidth_factor"],
                min_bandwidth=o["min_bandwidth"],
            )
        # hpbandster.optimizers.bohb.BOHB.__init__'s formulas (the Master itself starts Pyro4 threads).
        self.eta = o["eta"]
        self.max_SH_iter = -int(np.log(o["min_budget"] / o["max_budget"]) / np.log(self.eta)) + 1
        self.budgets = o["max_budget"] * np.power(self.eta, -np.linspace(self.max_SH_iter - 1, 0, self.max_SH_iter))
        self.iterations: list[Any] = []
        self._promotions = Promotions()

    @contextlib.contextmanager
    def _library(self) -> Iterator[None]:
        """Run HpBandSter on this run's own generator, quietly.

        Its config generator draws with ``np.random.rand``, ``randint`` and ``choice`` (its only
        draws on a categorical space); for the call its ``np.random`` is this run's RandomState
        (a context variable, so concurrent runs in threads keep their own generators). Saving
        and restoring numpy's global state instead would cost 0.4 ms a call (a quarter of the
        run's time at 100 trials) and race with other threads.
        Its logger warns, and statsmodels divides by zero, whenever the good KDE has seen one op
        only on an edge (often, with six categoricals): HpBandSter then falls back as designed.
        """
        token = _RUN_RANDOM.set(self._random_state)
        try:
            with quiet("hpbandster"), warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                yield
        finally:
            _RUN_RANDOM.reset(token)

    def _next_run(self) -> tuple[Any, dict[str, Any], float, Any]:
        """HpBandSter Master.run's order for one worker: active iterations first, else a new one."""
        from hpbandster.optimizers.bohb import BOHB as Master

        while True:
            for iteration in self.iterations:
                if iteration.is_finished:
                    continue
                run = iteration.get_next_run()
                if run is not None:
                    return (*run, iteration)
            self.iterations.append(Master.get_next_iteration(self, len(self.iterations)))

    def ask(self) -> Suggestion:
        with self._library():
            config_id, config, budget, iteration = self._next_run()
        budget = float(budget)
        if self._promotions.is_promotion(config_id, budget):
            origin = "promotion"
        elif iteration.data[config_id].config_info.get("model_based_pick"):
            origin = "model-based pick (KDE)"
        else:
            origin = "random (no model yet)" if not self.config_generator.kde_models else "random fraction"
        return Suggestion(
            config=self.problem.space.from_configuration(config),
            fidelity=nearest_fidelity(self.problem.fidelity.values, budget),
            origin=origin,
            token=(config_id, config, budget, iteration),
        )

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        from hpbandster.core.dispatcher import Job

        config_id, config, budget, iteration = suggestion.token
        job = Job(config_id, config=config, budget=budget)
        job.result = {"loss": 100.0 - observation.valid_acc, "info": {}}
        with self._library():
            iteration.register_result(job)
            self.config_generator.new_result(job)

    def settings(self) -> dict[str, Any]:
        settings = super().settings()
        if hasattr(self, "budgets"):
            settings["budgets"] = [round(float(b), 4) for b in self.budgets]
        return settings

    def notes(self) -> list[str]:
        if not hasattr(self, "budgets"):
            return []
        axis = self.problem.fidelity.values
        if len(axis) == 1:
            return [f"one fidelity ({axis[0]}): every BOHB budget ({', '.join(f'{b:.3g}' for b in self.budgets)}) "
                    "runs there, as NB201's worker answered every budget with the 12-epoch result"]
        return [rounding_note("BOHB", self.budgets, axis)]

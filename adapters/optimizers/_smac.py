"""SMAC 2.x behind the ask/tell protocol: a random forest (smac-hpo), a Gaussian process
(smac-bb) and Hyperband with a random forest (smac-hb).

SMAC minimises, so it is told cost = 100 - valid_acc (with several objectives, a cost per
objective: 100 - valid_acc and the others as they are, scalarised by ParEGO), with the simulated train time as the
trial's time and as its start/end on a clock of the costs told so far (DeepCAVE's SMAC3v2
converter reads start and end as the Time objective). The scenario is deterministic (the
harness adds the data noise itself) with one seed, the run's optimizer seed.

Three things differ from a plain facade, each for a measured reason:

- Local search takes its start points through a ``set`` of Configurations, and a
  Configuration hashes its repr string, so the start order, and with it SMAC's choices,
  changes with PYTHONHASHSEED from process to process. Resume replays a run in a new
  process, so the start points are sorted by repr, which every process agrees on.
- The random forest fits single-threaded. Its default (n_jobs=-1) runs joblib threads on
  every core, which parallel runs would fight over, for no gain on ten small trees (about
  10% slower at 50 trials here).
- ``tell`` does not rewrite SMAC's files: the rewrite grows with the run (0.1-0.3 s per
  tell at 1,000-2,000 trials here), and the budget may charge optimizer time. SMAC writes
  its folder at setup; :meth:`SmacOptimizer.close` rewrites it once, after the last tell.

SMAC is imported on the first ``setup``, which keeps ``hpo2nas`` start-up fast.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.optimizers._base import Between, Limit, OptimizerBase, Promotions, nearest_fidelity, quiet, rounding_note
from adapters.protocols import Observation, SearchProblem, Suggestion

__all__ = ["SMAC_OPTIMIZERS", "SmacOptimizer", "SmacHPO", "SmacBlackBox", "SmacHyperband"]

#: SMAC's n_trials when neither a bound nor an expected count is known; it caps the initial
#: design (25% of it). The runner always gives an expected count for its own budgets.
UNBOUNDED_TRIALS = 1_000_000
#: Origin of a configuration SMAC sampled because its model had no data yet (SMAC leaves it
#: empty, and its own runhistory would call it "Custom").
NO_MODEL_ORIGIN = "Random: no data for the model yet"
#: Origin of the zero-cost cells a warm start (``zc_initial``) puts at the head of the initial design.
WARM_START_ORIGIN = "Initial design: zero-cost warm start"


def _additional_configs_first(design: Any) -> None:
    """Evaluate a design's additional configurations (the zero-cost warm start) before its own.

    SMAC appends them after its Sobol design, so a warm start of 10 cells behind a design of
    20 would begin a quarter of the way into the budget; RE's warm start (``re-zc``) begins
    at once, and so does this one.
    """
    select = design.select_configurations

    def warm_first() -> list:
        configs = select()
        extra = set(design._additional_configs)
        return [c for c in configs if c in extra] + [c for c in configs if c not in extra]

    design.select_configurations = warm_first


def _order_start_points(facade: Any) -> None:
    """Sort the local search's start points by repr, which is the same in every process.

    SMAC 2.4.1 returns them as ``list(set(...))``, in string-hash order (module docstring).
    All three facades maximise with LocalAndSortedRandomSearch, which holds the local search.
    """
    local_search = facade._acquisition_maximizer._local_search
    start_points = local_search._get_initial_points
    local_search._get_initial_points = lambda *args, **kwargs: sorted(start_points(*args, **kwargs), key=repr)


class SmacOptimizer(OptimizerBase):
    """One SMAC facade (``facade_name`` in ``smac``).

    ``n_initial`` is the number of initial-design configurations (at most n_trials); 0 keeps
    SMAC's default: 10 per hyperparameter (8 for the GP), at most a quarter of n_trials.
    ``zc_initial`` > 0 adds that many top zero-cost cells (equal-weight score of ``zc_proxies``
    over the shipped proxy table, one per isomorphism class) to the initial design, evaluated
    before the rest of it: a zero-cost warm start. ``zc_proxies`` is a comma-separated list, or "auto" (``benchmarks.zerocost.auto_proxies``: the proxies the table has for enough cells);
    ``zc_dataset`` names the table, "auto" being the run's own dataset.
    """

    defaults: ClassVar[dict[str, Any]] = {"n_initial": 0, "zc_initial": 0, "zc_dataset": "auto",
                                          "zc_proxies": "auto"}
    limits: ClassVar[dict[str, Limit]] = {"n_initial": Between(0), "zc_initial": Between(0)}
    facade_name: ClassVar[str] = ""
    #: SMAC's own ask/tell: asked again before earlier trials are told, its intensifier hands
    #: out further configurations (the next from the initial design or the acquisition step).
    pending_trials: ClassVar[bool] = True

    def scenario_budgets(self, problem: SearchProblem) -> dict[str, float]:
        """Scenario keywords for budgets; none unless multi-fidelity."""
        return {}

    def components(self, facade: type, scenario: Any) -> dict[str, Any]:
        """Facade components that differ from SMAC's defaults."""
        kwargs: dict[str, Any] = {}
        if self.options["n_initial"]:
            # max_ratio=1: SMAC would otherwise cut an explicit n_configs to 25% of n_trials.
            kwargs.update(n_configs=self.options["n_initial"], max_ratio=1.0)
        if self.options["zc_initial"]:
            from adapters.optimizers._zerocost import auto_coverage_note, require_nb201, table_dataset, zero_cost_top_cells

            require_nb201(self.problem.space, f"{self.name}: zc_initial")
            dataset = table_dataset(self.options["zc_dataset"], self.problem)
            cells, self._zc_proxies_used = zero_cost_top_cells(self.options["zc_initial"], scenario.seed, dataset,
                                                               self.options["zc_proxies"])
            self._zc_note = auto_coverage_note(dataset, self.options["zc_proxies"], self._zc_proxies_used)
            space = self.problem.space
            warm = [space.to_configuration(space.config(i), scenario.configspace) for i in cells]
            for config in warm:
                config.origin = WARM_START_ORIGIN
            kwargs["additional_configs"] = warm
        if not kwargs:
            return {}
        design = facade.get_initial_design(scenario, **kwargs)
        if self.options["zc_initial"]:
            _additional_configs_first(design)
        return {"initial_design": design}

    def setup(self, problem: SearchProblem) -> None:
        import smac
        from smac import Scenario

        super().setup(problem)
        # SMAC sizes its initial design from n_trials (at most 25% of it). Under a time budget
        # the runner's expected trial count stands in for the bound SMAC's authors assume;
        # SMAC keeps asking past n_trials under ask/tell, so it caps nothing else.
        self._n_trials = problem.max_trials or problem.expected_trials or UNBOUNDED_TRIALS
        self._multi = len(problem.objectives) > 1
        scenario = Scenario(
            problem.space.configspace(seed=problem.seed),
            name=self.name,
            output_directory=self.library_dir(),
            deterministic=True,
            n_trials=self._n_trials,
            seed=problem.seed,
            objectives=[f"{name}_cost" if name == "valid_acc" else name for name in problem.objectives] if self._multi else "cost",
            **self.scenario_budgets(problem),
        )
        facade = getattr(smac, self.facade_name)
        components = self.components(facade, scenario)
        if self._multi:
            from smac.multi_objective.parego import ParEGO

            components["multi_objective_algorithm"] = ParEGO(scenario)
        with quiet("smac"):
            # overwrite=True: an existing folder with another scenario would make SMAC call input().
            self._smac = facade(scenario, None, logging_level=False, overwrite=True, **components)
        _order_start_points(self._smac)
        self._promotions = Promotions()
        self._clock = 0.0

    def ask(self) -> Suggestion:
        with quiet("smac"):
            info = self._smac.ask()
        config = info.config
        if config.origin is None:
            config.origin = NO_MODEL_ORIGIN
        origin = config.origin
        fidelity = None
        if info.budget is not None:
            fidelity = nearest_fidelity(self.problem.fidelity.values, info.budget)
            if self._promotions.is_promotion(config, info.budget):
                origin = "promotion"
        return Suggestion(self.problem.space.from_configuration(config), fidelity=fidelity, origin=origin, token=info)

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        start, self._clock = self._clock, self._clock + observation.cost_s
        cost: float | list[float] = 100.0 - observation.valid_acc
        if self._multi:  # the accuracy as its cost, every other objective as it is (minimised)
            cost = [100.0 - v if name == "valid_acc" else v for name, v in zip(self.problem.objectives, observation.values)]
        status = {"status": StatusType.CRASHED} if observation.status == "failed" else {}  # cost: the worst, 100
        value = TrialValue(cost=cost, time=observation.cost_s, starttime=start, endtime=self._clock, **status)
        with quiet("smac"):
            self._smac.tell(suggestion.token, value, save=False)

    def close(self) -> None:
        """Write SMAC's folder (runhistory, intensifier, stats) with every trial told."""
        self._smac.optimizer.save()

    def settings(self) -> dict[str, Any]:
        settings = {**super().settings(), "facade": self.facade_name}
        if getattr(self, "_multi", False):
            settings["multi_objective_algorithm"] = "ParEGO"
        if hasattr(self, "_smac"):
            settings["n_trials"] = self._n_trials
            design = self._smac._initial_design
            settings["initial_design_size"] = design._n_configs + len(design._additional_configs)
        if hasattr(self, "_zc_proxies_used"):
            settings["zc_proxies_used"] = list(self._zc_proxies_used)
        return settings

    def notes(self) -> list[str]:
        notes = [self._zc_note] if getattr(self, "_zc_note", None) else []
        if getattr(self, "_n_trials", None) == UNBOUNDED_TRIALS:
            notes.append(f"the budget sets no trial bound: SMAC's n_trials is {UNBOUNDED_TRIALS:,} (it sizes the initial design)")
        return notes


class SmacHPO(SmacOptimizer):
    """SMAC's HPO facade: random forest, log-EI, Sobol initial design, 20% random interleaving.

    With several objectives it is SMAC's multi-objective setting: ParEGO scalarises the
    normalised costs with fresh random weights at every iteration.
    """

    name = "smac-hpo"
    multi_objective = True
    facade_name = "HyperparameterOptimizationFacade"

    def components(self, facade: type, scenario: Any) -> dict[str, Any]:
        model = facade.get_model(scenario)
        model._rf_opts["n_jobs"] = 1  # see the module docstring; SMAC records it in its meta
        return {**super().components(facade, scenario), "model": model}


class SmacBlackBox(SmacOptimizer):
    """SMAC's black-box facade: a Gaussian process with EI, retrained after every trial."""

    name = "smac-bb"
    facade_name = "BlackBoxFacade"


class SmacHyperband(SmacHPO):
    """SMAC's multi-fidelity facade: the HPO facade's random forest inside Hyperband brackets.

    SMAC's budgets lie between the axis's lowest and highest fidelity on SMAC's geometric
    grid (eta); each runs at the nearest fidelity on the axis, and SMAC is told the budget
    it asked for. A configuration re-asked at a higher budget is labelled "promotion".
    """

    name = "smac-hb"
    multi_fidelity = True
    multi_objective = False
    facade_name = "MultiFidelityFacade"
    defaults = {**SmacOptimizer.defaults, "eta": 3}
    limits = {**SmacOptimizer.limits, "eta": Between(2)}

    def scenario_budgets(self, problem: SearchProblem) -> dict[str, float]:
        return {"min_budget": float(problem.fidelity.min), "max_budget": float(problem.fidelity.max)}

    def components(self, facade: type, scenario: Any) -> dict[str, Any]:
        intensifier = facade.get_intensifier(scenario, eta=self.options["eta"])
        return {**super().components(facade, scenario), "intensifier": intensifier}

    def notes(self) -> list[str]:
        if not hasattr(self, "_smac"):
            return []
        budgets = sorted({budget for stage in self._smac.intensifier._budgets_in_stage.values() for budget in stage})
        return [*super().notes(), rounding_note("SMAC", budgets, self.problem.fidelity.values)]


SMAC_OPTIMIZERS: tuple[type[SmacOptimizer], ...] = (SmacHPO, SmacBlackBox, SmacHyperband)

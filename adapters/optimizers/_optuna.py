"""Optuna 5 samplers behind the ask/tell protocol, one study per run.

Every adapter asks with the search space's fixed distributions (``study.ask(space.optuna_distributions())``)
and tells the validation accuracy to a maximizing study. The study name is fixed rather
than Optuna's random default because HyperbandPruner assigns brackets by hashing it: a
random name would make pruned runs irreproducible.

Origins come from the sampler itself, not from a guess at its startup rule (TPE counts
pruned trials towards its startup, GP does not, Hyperband shows each bracket only its own
trials): a trial with parameters from the sampler's relative (model-based or evolutionary)
step gets the sampler's label, one drawn by its independent random sampler gets a random one.

The sampler works on an in-memory study. When the run names a study (``SearchProblem.study``:
by default ``optuna.journal`` in the run folder), every finished trial is also appended to
that storage as one complete trial built from the runner's record (``optuna_study``), with
the sampler's state after it; a resume loads that study, rebuilds the in-memory one from it
and unpickles the sampler, so no trial is asked twice. One append per trial (rather than
asking on the storage itself, which writes each parameter, attribute and epoch separately)
keeps the journal's cost per trial to one fsynced line.

Optuna is imported on the first ``setup``, not with the registry, which keeps ``hpo2nas``
start-up fast.
"""

from __future__ import annotations

import pickle
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from adapters.optimizers._base import Between, Limit, OptimizerBase
from adapters.optimizers._optuna_pruners import PRUNERS, make_pruner
from adapters.optimizers.optuna_study import StoredStudy, frozen_trial, storage_label
from adapters.optimizers.optuna_study import quiet_info as _quiet_info
from adapters.protocols import Observation, SearchProblem, Suggestion

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

__all__ = [
    "OPTUNA_OPTIMIZERS",
    "OptunaOptimizer",
    "OptunaTPE",
    "OptunaRandom",
    "OptunaNSGA2",
    "OptunaNSGA3",
    "OptunaGP",
    "OptunaQMC",
    "OptunaCmaEs",
]


class OptunaOptimizer(OptimizerBase):
    """One Optuna sampler (``sampler_factory``), optionally with a pruner.

    With ``pruner`` other than "none" this instance is multi-fidelity: the runner reports
    every epoch, Optuna's pruner may stop the trial, and the trial is told as PRUNED.
    ``reduction_factor`` (eta) is used by the hyperband and sh pruners.

    With several objectives the study has one direction per objective and is told every
    objective's value. Optuna cannot prune multi-objective trials, so an instance with a
    pruner is single-objective (the runner refuses it several objectives).
    """

    multi_objective: ClassVar[bool] = True
    defaults: ClassVar[dict[str, Any]] = {"pruner": "none", "reduction_factor": 3}
    limits: ClassVar[dict[str, Limit]] = {"pruner": PRUNERS, "reduction_factor": Between(2)}
    #: Optuna's own parallel mechanism: trials asked and not yet told stay RUNNING in the
    #: study, and the sampler sees them (TPE with ``constant_liar``, GP's q-batch EI, NSGA-II).
    pending_trials: ClassVar[bool] = True
    #: Origin of a trial whose parameters came from the sampler's relative step.
    relative_origin: ClassVar[str] = "acquisition"
    #: Origin of a trial drawn entirely by the sampler's independent random sampler.
    independent_origin: ClassVar[str] = "random (startup)"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The protocol declares multi_fidelity per class; a pruner needs curves, so this
        # instance needs a fidelity axis, and the runner reads the instance's value.
        self.multi_fidelity = self.options["pruner"] != "none"
        self.multi_objective = type(self).multi_objective and not self.multi_fidelity
        if self.multi_fidelity:
            self.pending_trials = False
            self.serial_reason = ("with a pruner the runner reports a trial's epochs when it starts, so with "
                                  "several workers the pruner would see epochs before their simulated time")

    def sampler_factory(self, seed: int) -> BaseSampler:
        """The library's sampler, seeded with the run's optimizer seed."""
        raise NotImplementedError

    def setup(self, problem: SearchProblem) -> None:
        from adapters import OBJECTIVES

        super().setup(problem)
        self._multi = len(problem.objectives) > 1
        self._directions = ["maximize" if OBJECTIVES[name].maximize else "minimize" for name in problem.objectives]
        self._pruner, self._pruner_settings = make_pruner(self.options["pruner"], problem.fidelity,
                                                          self.options["reduction_factor"])
        sampler = self.sampler_factory(problem.seed)
        self._new_study(sampler)
        self._sampler_name = type(sampler).__name__
        self._distributions = problem.space.optuna_distributions()
        self._stored = None
        if problem.study is not None:
            with _quiet_info():  # "A new study created in Journal ..."
                self._stored = StoredStudy(problem.study.storage, problem.study.name, problem.study.attrs,
                                           problem.objectives)
        self._restored = False

    def _new_study(self, sampler: BaseSampler) -> None:
        import optuna

        with _quiet_info():
            self._study = optuna.create_study(
                storage=optuna.storages.InMemoryStorage(),
                sampler=sampler,
                pruner=self._pruner,
                # Fixed, not the run's id: HyperbandPruner hashes it into its brackets.
                study_name=f"hpo2nas-{self.name}",
                directions=self._directions,
            )
        self._trials: list[Any] = []  # the asked optuna Trials, by number
        self._recorded = 0  # trials appended to the stored study (told order)

    def _state(self) -> bytes:
        """The sampler and the study's system attributes (QMC's sequence position, NSGA-II's parents)."""
        study = self._study
        return pickle.dumps((study.sampler, study._storage.get_study_system_attrs(study._study_id)), protocol=5)

    def restore(self, recorded: int) -> int:
        """Rebuild the in-memory study from the stored one at trial ``min(recorded, stored)``."""
        self._restored = True
        if self._stored is None:
            return 0
        trials, state = self._stored.restore_point(recorded)
        if state is None:
            return 0
        sampler, system_attrs = pickle.loads(state)
        self._new_study(sampler)
        for key, value in system_attrs.items():
            self._study._storage.set_study_system_attr(self._study._study_id, key, value)
        with _quiet_info():
            self._study.add_trials(trials)
        self._trials = [None] * len(trials)
        self._recorded = len(trials)
        return len(trials)

    def ask(self) -> Suggestion:
        if self._stored is not None and not self._restored:
            self._stored.refuse_existing()
            self._restored = True
        with _quiet_info():
            trial = self._study.ask(self._distributions)
        self._trials.append(trial)
        origin = self.relative_origin if trial.relative_params else self.independent_origin
        return Suggestion(
            config=self.problem.space.from_params(trial.params), origin=origin, token=trial, intermediate=self.multi_fidelity
        )

    def report(self, suggestion: Suggestion, fidelity: int, valid_acc: float) -> bool:
        trial = suggestion.token
        trial.report(valid_acc, step=fidelity)
        return trial.should_prune()

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        from optuna.trial import TrialState

        with _quiet_info():
            if observation.status == "failed":  # a training that failed: Optuna's samplers skip FAIL trials
                self._study.tell(suggestion.token, state=TrialState.FAIL)
            elif observation.status == "pruned":
                # Optuna's convention: no value; it records the last reported epoch's value.
                self._study.tell(suggestion.token, state=TrialState.PRUNED)
            elif self._multi:
                self._study.tell(suggestion.token, list(observation.values))
            else:
                self._study.tell(suggestion.token, observation.valid_acc)

    def record(self, row: dict[str, Any]) -> None:
        """Append the finished trial to the run's stored study (with the sampler's state after it)."""
        if self._stored is None:
            return
        # The stored study numbers trials in the order they were told; with several workers
        # that differs from the order they were asked (``row["trial"]``).
        told = self._study._storage.get_trial(self._trials[row["trial"]]._trial_id)
        number, self._recorded = self._recorded, self._recorded + 1
        objective = self.problem.objective
        if not objective.maximize:  # the study was told the score, which its stored copy must hold to restore
            row = {**row, "valid_acc": objective.score(row["valid_acc"])}
        trial = frozen_trial(row, number, intermediate_values=told.intermediate_values, system_attrs=told.system_attrs,
                             objectives=self.problem.objectives, space=self.problem.space)
        self._stored.append(trial, self._state())

    def close(self) -> None:
        """Make the run's stored study durable (one fsync of its journal)."""
        if getattr(self, "_stored", None) is not None:
            self._stored.close()

    def settings(self) -> dict[str, Any]:
        settings = super().settings()
        if hasattr(self, "_study"):
            settings["sampler"] = self._sampler_name
            if self._stored is not None:
                settings["study_name"] = self._stored.name
                settings["storage"] = storage_label(self._stored.url)
            if self._pruner_settings:
                settings["pruner_settings"] = dict(self._pruner_settings)
        return settings


class OptunaTPE(OptunaOptimizer):
    """TPE (Bergstra et al. 2011), multivariate as Optuna 5 defaults for one objective.

    With several objectives it is MOTPE (Ozaki et al. 2020), kept multivariate (Optuna's
    multi-objective default is independent TPE): the same model on one or more objectives,
    and its model-based trials stay recognisable by their relative parameters.

    ``constant_liar`` (Optuna 5's default, on) makes TPE penalise running trials, so workers
    asked while others run spread out instead of repeating a cell; off, TPE ignores them.
    """

    name = "optuna-tpe"
    defaults = {**OptunaOptimizer.defaults, "n_startup_trials": 10, "constant_liar": True}
    limits = {**OptunaOptimizer.limits, "n_startup_trials": Between(0)}

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.samplers import TPESampler

        return TPESampler(seed=seed, n_startup_trials=self.options["n_startup_trials"], multivariate=True,
                          constant_liar=self.options["constant_liar"])


class OptunaRandom(OptunaOptimizer):
    """Optuna's random sampler: the baseline inside the same study machinery."""

    name = "optuna-random"
    independent_origin = "random"

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.samplers import RandomSampler

        return RandomSampler(seed=seed)


class OptunaNSGA2(OptunaOptimizer):
    """NSGA-II: a generational GA (non-dominated sorting, crowding distance); its first generation is random."""

    name = "optuna-nsga2"
    defaults = {**OptunaOptimizer.defaults, "population_size": 50}
    limits = {**OptunaOptimizer.limits, "population_size": Between(2)}
    relative_origin = "evolution"
    independent_origin = "random (initial population)"

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.samplers import NSGAIISampler

        return NSGAIISampler(seed=seed, population_size=self.options["population_size"])


class OptunaNSGA3(OptunaNSGA2):
    """NSGA-III: NSGA-II with reference points (Das-Dennis) in place of crowding distance,
    meant for several objectives; on one objective it behaves like NSGA-II."""

    name = "optuna-nsga3"

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.exceptions import ExperimentalWarning
        from optuna.samplers import NSGAIIISampler

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ExperimentalWarning, message="NSGAIIISampler")
            return NSGAIIISampler(seed=seed, population_size=self.options["population_size"])


class OptunaGP(OptunaOptimizer):
    """Gaussian-process BO; the objective is noisy (random data seeds), so noise is fitted.

    The GP is fitted with torch on one thread: every other adapter runs on one core, and on
    a busy 2-core machine torch's default thread pool made each ask about 3x slower (and
    cost 6x the CPU) for the same trials, which would inflate GP's charged overhead.
    """

    name = "optuna-gp"
    defaults = {**OptunaOptimizer.defaults, "n_startup_trials": 10}
    limits = {**OptunaOptimizer.limits, "n_startup_trials": Between(0)}
    torch_threads: ClassVar[int] = 1

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.samplers import GPSampler

        return GPSampler(seed=seed, n_startup_trials=self.options["n_startup_trials"], deterministic_objective=False)

    def ask(self) -> Suggestion:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(self.torch_threads)
        try:
            return super().ask()
        finally:
            torch.set_num_threads(threads)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "torch_threads": self.torch_threads}


class OptunaQMC(OptunaOptimizer):
    """Quasi-Monte Carlo. Optuna 5 maps each categorical edge to one QMC coordinate, so
    this is a low-discrepancy design, not a random fallback; only the first trial is random.

    Scrambling is on by default: unscrambled sequences ignore the seed, so every seed would
    ask for the same cells after the first.
    """

    name = "optuna-qmc"
    defaults = {**OptunaOptimizer.defaults, "qmc_type": "sobol", "scramble": True}
    limits = {**OptunaOptimizer.limits, "qmc_type": ("sobol", "halton")}
    relative_origin = "quasi-random"
    independent_origin = "random (first trial)"

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.exceptions import ExperimentalWarning
        from optuna.samplers import QMCSampler

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ExperimentalWarning, message="QMCSampler")
            return QMCSampler(seed=seed, qmc_type=self.options["qmc_type"], scramble=self.options["scramble"])

    def notes(self) -> list[str]:
        return [
            f"QMCSampler is experimental in Optuna; it maps each categorical edge to one {self.options['qmc_type']} "
            "coordinate (floor of a point in [0, 5)), so it is a low-discrepancy design, not random sampling; "
            "its first trial is random"
        ]


class OptunaCmaEs(OptunaOptimizer):
    """CMA-ES has no categorical support: on NB201's six categorical edges Optuna samples
    every parameter with its independent RandomSampler. The run is random search, labelled so.
    Optuna's CmaEsSampler refuses several objectives."""

    name = "optuna-cmaes"
    multi_objective = False
    relative_origin = "evolution strategy"
    independent_origin = "random (fallback)"

    def sampler_factory(self, seed: int) -> BaseSampler:
        from optuna.samplers import CmaEsSampler

        # The fallback warns 6 times a trial; notes() says it once for the whole run.
        return CmaEsSampler(seed=seed, warn_independent_sampling=False)

    def notes(self) -> list[str]:
        return [
            "CmaEsSampler falls back to independent random sampling on this all-categorical space: this run is "
            "random search (the same cells as optuna-random with the same seed)"
        ]


OPTUNA_OPTIMIZERS: tuple[type[OptunaOptimizer], ...] = (
    OptunaTPE,
    OptunaRandom,
    OptunaNSGA2,
    OptunaNSGA3,
    OptunaGP,
    OptunaQMC,
    OptunaCmaEs,
)

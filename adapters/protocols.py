"""The two seams every part plugs into: the Benchmark protocol and the ask/tell Optimizer protocol.

Only the runner combines a benchmark, an optimizer and a budget. Optimizer adapters see
cells and fidelities, never the table; benchmarks never see optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from adapters.types import FidelitySpace, QueryResult, SeedPolicy

__all__ = [
    "Benchmark", "Optimizer", "SearchProblem", "StudyTarget", "Suggestion", "Observation", "OPTIMIZER_OPTION_TYPES",
]


@runtime_checkable
class Benchmark(Protocol):
    """A tabular benchmark the runner can query (``benchmarks.TabularBenchmark`` is one)."""

    name: str
    checksum: str

    def fidelity_space(self, dataset: str) -> FidelitySpace: ...

    def query(
        self, cell: object, dataset: str, fidelity: int | None = None, seed: SeedPolicy | None = None
    ) -> QueryResult: ...

    def best(self, dataset: str, metric: str = "valid_acc", fidelity: int | None = None) -> QueryResult: ...


@dataclass(frozen=True)
class StudyTarget:
    """Where an optimizer that keeps a study (Optuna's samplers) writes it while it runs.

    Attributes:
        storage: an Optuna storage: an RDB URL (``sqlite:///runs.db``, ``postgresql://...``)
            or a journal file path.
        name: the study's name (the run's id, unique per run configuration).
        attrs: the run's identity, stored as the study's user attributes.
    """

    storage: str
    name: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchProblem:
    """What an optimizer is told before its first ask.

    Attributes:
        fidelity: the store's fidelity axis for the dataset (single value: no axis).
        seed: seeds the optimizer only; the harness draws data seeds itself.
        workdir: a folder for a library's own output (SMAC's), or None.
        max_trials: an upper bound on trials when the budget implies one (some libraries need it).
        dataset: the dataset searched; optimizers with per-dataset data of their own (the
            zero-cost tables) read it, so a run on cifar100 uses cifar100's proxies.
        objectives: the objectives' names (``adapters.OBJECTIVES``), in the order
            ``Observation.values`` holds them; one name (the accuracy) is a single-objective search.
        expected_trials: the number of trials the budget is expected to allow (the budget over
            the median cost of one evaluation at the highest fidelity), for libraries that size
            their start-up by a trial count (SMAC's initial design is 25% of it).
        study: where to keep a study while running, for optimizers that keep one; None: keep none.
        workers: how many trials may run at once (simulated workers); above 1 the optimizer is
            asked again before earlier trials are told.
    """

    fidelity: FidelitySpace
    seed: int
    workdir: Path | None = None
    max_trials: int | None = None
    dataset: str = "cifar10-valid"
    objectives: tuple[str, ...] = ("valid_acc",)
    expected_trials: int | None = None
    study: StudyTarget | None = None
    workers: int = 1


@dataclass
class Suggestion:
    """One trial an optimizer asks for.

    Attributes:
        cell: the cell to evaluate (an ``adapters.Cell``).
        fidelity: the fidelity to train to; None means the highest.
        origin: how the optimizer chose it (initial design, mutation, random, acquisition, promotion...).
        token: the adapter's own handle (SMAC TrialInfo, Optuna trial, DEHB job) for ``tell``.
        intermediate: whether the runner should call ``report`` at every epoch on the way (pruners).
        extra_cost_s: simulated seconds of the optimizer's own compute to charge with this trial
            (e.g. zero-cost proxies, when the user asks for them to be charged).
    """

    cell: Any
    fidelity: int | None = None
    origin: str = ""
    token: Any = None
    intermediate: bool = False
    extra_cost_s: float = 0.0


@dataclass(frozen=True)
class Observation:
    """What the runner tells back: the observed validation accuracy (maximised) and what it cost.

    ``values`` holds every objective's observed value in ``SearchProblem.objectives`` order
    (each in its own direction: see ``adapters.OBJECTIVES``); a single-objective search may ignore it.
    """

    valid_acc: float
    fidelity: int
    cost_s: float
    status: str = "ok"  # "ok" or "pruned"
    values: tuple[float, ...] = ()


OPTIMIZER_OPTION_TYPES = (bool, int, float, str)


class Optimizer(Protocol):
    """The public ask/tell protocol. ``--optimizer module:Class`` loads any class that has it.

    Class attributes:
        name: the registry name.
        multi_fidelity: True if it needs a fidelity axis (the runner refuses it otherwise).
        defaults: option name -> default value; constructors take exactly these as keywords.
        multi_objective: (optional, default False) True if it can search several objectives
            at once; the runner refuses a multi-objective search to any other optimizer.
        pending_trials (optional, default False): True if it may be asked again while earlier
            trials are still running (more than one worker); ``serial_reason`` says why not.
    """

    name: ClassVar[str]
    multi_fidelity: ClassVar[bool]
    defaults: ClassVar[dict[str, Any]]

    def setup(self, problem: SearchProblem) -> None:
        """Build the library's optimizer for this problem."""

    def ask(self) -> Suggestion: ...

    def tell(self, suggestion: Suggestion, observation: Observation) -> None: ...

    def report(self, suggestion: Suggestion, fidelity: int, valid_acc: float) -> bool:
        """An intermediate value for an ``intermediate`` suggestion; return True to prune."""

    def settings(self) -> dict[str, Any]:
        """Every setting that shapes its behaviour, for run.json."""

    def notes(self) -> list[str]:
        """Labels for the run record (e.g. 'falls back to random sampling on this space')."""

    # Optional hooks, called only if present:
    # ``close()``: once after the last trial (SMAC writes its own output folder there rather
    #   than on every tell).
    # ``record(row)``: after each trial, with its row as recorded (the trials.parquet columns
    #   but the run's identity); an optimizer that keeps a study stores the trial there.
    # ``restore(n) -> int``: on resume, before the first ask, with the number of recorded
    #   trials; an optimizer that saved its own state restores it at trial ``m <= n`` and
    #   returns ``m``. The runner then re-evaluates the first ``m`` recorded trials without
    #   asking or telling, and replays the rest through ask/tell.


@dataclass
class OptimizerSpec:
    """An optimizer by registry name or ``module:Class``, with its options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

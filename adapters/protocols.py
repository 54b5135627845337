"""The two seams every part plugs into: the Benchmark protocol and the ask/tell Optimizer protocol.

Only the runner combines a benchmark, an optimizer and a budget. Optimizer adapters see
configurations of a :class:`~adapters.search_space.SearchSpace` and fidelities, never the
table; benchmarks never see optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from adapters.nb201_space import NB201
from adapters.search_space import Config, SearchSpace
from adapters.types import FidelitySpace, QueryResult, SeedPolicy

if TYPE_CHECKING:
    from adapters._cell import Cell

__all__ = [
    "Benchmark", "TrainingBenchmark", "Capabilities", "Optimizer", "SearchProblem", "StudyTarget", "Suggestion",
    "Observation", "TaskObjective", "ACCURACY_OBJECTIVE", "task_objective", "task_space",
    "capabilities", "optimizer_notes", "optimizer_settings",
]


@runtime_checkable
class Benchmark(Protocol):
    """A tabular benchmark the harness can query (``benchmarks.TabularBenchmark`` is one).

    Everything the runner, the reports and the CLI call on a store; a key is a row of
    ``space`` (NB201's official index for NB201 stores).

    ``QueryResult.valid_acc`` is the dataset's objective in the source's own units and sign, and
    ``best`` its true optimum in its direction. Two optional members let a benchmark whose tasks
    differ say so (read through :func:`task_objective` and :func:`task_space`, with NB201's as
    the default): ``objective(dataset) -> TaskObjective`` (HPOLib's validation loss is
    minimised) and ``space_for(dataset) -> SearchSpace`` (NAS-Bench-Graph's proteins has its
    own ops).

    Attributes:
        name: the store's name (``default``, an imported store's name...).
        checksum: the store's content hash, recorded with every run.
        space: the search space the table is keyed by.
        datasets: the store's datasets, the search dataset first.
        manifest: the parsed manifest (source, licence, per-dataset facts) the CLI shows.
    """

    name: str
    checksum: str
    space: SearchSpace
    datasets: tuple[str, ...]
    manifest: Any

    def fidelity_space(self, dataset: str) -> FidelitySpace: ...

    def splits(self, dataset: str) -> dict[str, str]:
        """Which split each reported metric was measured on (``valid_acc`` -> ``x-valid``...)."""

    def has_test(self, dataset: str) -> bool: ...

    def query(
        self, cell: object, dataset: str, fidelity: int | None = None, seed: SeedPolicy | None = None
    ) -> QueryResult: ...

    def lookup(
        self, indices: Any, dataset: str, metric: str = "valid_acc", fidelity: int | None = None, seed: Any = ...
    ) -> Any:
        """One metric for many keys at once (a numpy array, NaN where unknown)."""

    def best(self, dataset: str, metric: str = "valid_acc", fidelity: int | None = None) -> QueryResult: ...


@runtime_checkable
class TrainingBenchmark(Benchmark, Protocol):
    """A benchmark that measures by training (``benchmarks.live.LiveBenchmark``), as the runner's live
    pricing (``harness.running.live_pricing``) uses it beyond :class:`Benchmark`.

    Attributes:
        trains: True: a query trains (and costs real time); the runner prices it by measuring.
        settings: the training recipe; the runner reads its ``seed`` (the one seed of
            ``data_seeds=mean``) and ``save_weights`` (whether a training can continue).
    """

    trains: bool
    settings: Any

    def query(self, cell: object, dataset: str, fidelity: int | None = None, seed: SeedPolicy | None = None,
              *, on_epoch: Any = None) -> QueryResult:
        """Train ``cell`` to epoch ``fidelity``; ``on_epoch(record) -> stop?`` sees every finished epoch."""

    def checkpoint(self, index: int, seed: int) -> Path:
        """The file holding one (cell, seed)'s curve and, with saved weights, its training state."""


@dataclass(frozen=True)
class TaskObjective:
    """The metric a dataset is searched on, and which way is better.

    The runner tells optimizers a score to maximise (:meth:`score`: the value, negated when it is
    minimised), keeps the incumbent by that score, and records the value itself with its regret
    against the task's optimum (:meth:`regret`, never negative), so optimizers stay written for
    one direction while records keep the source's exact numbers.

    Attributes:
        name: the source's metric (``valid_acc``, ``val_loss``, ``valid_neg_loss``...).
        maximize: its direction.
        split: the data split it is measured on.
        percent: whether its values are percentages (NB201's accuracies): regrets are then in
            percentage points; otherwise both are in the metric's own units (a fraction, a loss).
    """

    name: str
    maximize: bool = True
    split: str = ""
    percent: bool = False

    def score(self, value: float | None) -> float | None:
        """The value as a score to maximise (the value itself when maximised: NB201's numbers pass unchanged)."""
        return value if self.maximize or value is None else -value

    def regret(self, optimum: float, value: float) -> float:
        """How far ``value`` is from the task's ``optimum``, in the metric's units (0 at the optimum)."""
        return optimum - value if self.maximize else value - optimum

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "direction": "max" if self.maximize else "min", "split": self.split}


#: NB201's objective: the validation accuracy (%), maximised.
ACCURACY_OBJECTIVE = TaskObjective("valid_acc", True, "validation", percent=True)


def task_objective(benchmark: Benchmark, dataset: str) -> TaskObjective:
    """The objective ``benchmark`` declares for ``dataset`` (NB201's accuracy where it declares none)."""
    own = getattr(benchmark, "objective", None)
    return own(dataset) if callable(own) else ACCURACY_OBJECTIVE


def task_space(benchmark: Benchmark, dataset: str) -> SearchSpace:
    """The search space of ``dataset`` (``benchmark.space`` where the benchmark has one space for all)."""
    own = getattr(benchmark, "space_for", None)
    return own(dataset) if callable(own) else benchmark.space


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
        space: the search space; suggestions are its configurations (NB201's cell by default).
        objective: the task's metric and direction. Observations carry its score (maximised
            whatever the direction); an optimizer that stores trial records (whose ``valid_acc``
            is the metric itself) converts them with ``objective.score``.
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
    space: SearchSpace = NB201
    objective: TaskObjective = ACCURACY_OBJECTIVE


@dataclass(init=False)
class Suggestion:
    """One trial an optimizer asks for.

    Attributes:
        config: the configuration to evaluate: a choice index per hyperparameter of
            ``SearchProblem.space``, in its order (the runner maps it to the table key).
        fidelity: the fidelity to train to; None means the highest.
        origin: how the optimizer chose it (initial design, mutation, random, acquisition, promotion...).
        token: the adapter's own handle (SMAC TrialInfo, Optuna trial, DEHB job) for ``tell``.
        intermediate: whether the runner should call ``report`` at every epoch on the way (pruners).
        extra_cost_s: simulated seconds of the optimizer's own compute to charge with this trial
            (e.g. zero-cost proxies, when the user asks for them to be charged).

    Optimizers written for NB201 before the search-space seam pass ``cell=`` (an
    ``adapters.Cell``) instead of ``config``, and read ``.cell``: a cell's ops are its NB201
    configuration, so both stay valid on the NB201 space.
    """

    config: Config
    fidelity: int | None = None
    origin: str = ""
    token: Any = None
    intermediate: bool = False
    extra_cost_s: float = 0.0

    def __init__(self, config: Config | None = None, fidelity: int | None = None, origin: str = "",
                 token: Any = None, intermediate: bool = False, extra_cost_s: float = 0.0, *,
                 cell: Cell | None = None) -> None:
        if (config is None) == (cell is None):
            raise TypeError("a Suggestion takes exactly one of config= or cell=")
        self.config = tuple(config) if cell is None else cell.ops
        self.fidelity = fidelity
        self.origin = origin
        self.token = token
        self.intermediate = intermediate
        self.extra_cost_s = extra_cost_s

    @property
    def cell(self) -> Cell:
        """The configuration as an NB201 ``Cell`` (InvalidCellError for another space's configuration)."""
        from adapters._cell import Cell

        return Cell(self.config)


@dataclass(frozen=True)
class Observation:
    """What the runner tells back: the observed validation accuracy (maximised) and what it cost.

    ``values`` holds every objective's observed value in ``SearchProblem.objectives`` order
    (each in its own direction: see ``adapters.OBJECTIVES``); a single-objective search may ignore it.
    ``status`` ``failed`` is a training that failed (NaN loss, out of memory; live benchmarks only):
    ``valid_acc`` is then 0.0, the worst, for optimizers that keep no failure state; those that do
    (Optuna's FAIL, SMAC's CRASHED) record it as such.
    """

    valid_acc: float
    fidelity: int
    cost_s: float
    status: str = "ok"  # "ok", "pruned" or "failed"
    values: tuple[float, ...] = ()


class Optimizer(Protocol):
    """The public ask/tell protocol. ``--optimizer module:Class`` loads any class that has it.

    Required: the class attributes ``name`` (the registry name), ``multi_fidelity`` (True if
    it needs a fidelity axis: the runner refuses it otherwise) and ``defaults`` (option name
    -> default value; constructors take exactly these as keywords), and the methods ``setup``,
    ``ask`` and ``tell``. Everything else is optional; :func:`capabilities`,
    :func:`optimizer_settings` and :func:`optimizer_notes` read it, with its default, in one
    place:

    - ``multi_objective`` (False): it can search several objectives at once; the runner
      refuses a multi-objective search to any other optimizer.
    - ``pending_trials`` (False): it may be asked again while earlier trials are still running
      (more than one worker); ``serial_reason`` says why not.
    - ``uses_fidelity`` (``multi_fidelity``): it varies the fidelity where the store has an
      axis, though it runs without one (DEHB and BOHB); the CLI lists it as multi-fidelity.
    - ``spaces`` (None: any): the names of the search spaces it can search (the zero-cost
      optimizers' proxy tables hold NB201 cells only); the runner refuses it on any other.
    - ``report(suggestion, fidelity, valid_acc) -> bool``: an intermediate value for an
      ``intermediate`` suggestion; return True to prune. Needed only by optimizers that ask
      for intermediate values.
    - ``settings() -> dict``: every setting that shapes its behaviour, for run.json (default:
      none recorded beyond the run's options).
    - ``notes() -> list[str]``: labels for the run record (default: none).
    - ``close()``: once after the last trial (SMAC writes its own output folder there rather
      than on every tell).
    - ``record(row)``: after each trial, with its row as recorded (the trials.parquet columns
      but the run's identity); an optimizer that keeps a study stores the trial there.
    - ``restore(n) -> int``: on resume, before the first ask, with the number of recorded
      trials; an optimizer that saved its own state restores it at trial ``m <= n`` and returns
      ``m``. The runner then re-evaluates the first ``m`` recorded trials without asking or
      telling, and replays the rest through ask/tell.
    """

    name: ClassVar[str]
    multi_fidelity: ClassVar[bool]
    defaults: ClassVar[dict[str, Any]]

    def setup(self, problem: SearchProblem) -> None:
        """Build the library's optimizer for this problem."""

    def ask(self) -> Suggestion: ...

    def tell(self, suggestion: Suggestion, observation: Observation) -> None: ...


#: The members every optimizer must have (the loader refuses a class without one).
REQUIRED_METHODS = ("setup", "ask", "tell")
REQUIRED_ATTRIBUTES = ("name", "multi_fidelity", "defaults")


@dataclass(frozen=True)
class Capabilities:
    """What an optimizer declares it can do, with the protocol's defaults filled in.

    Attributes:
        multi_fidelity: it needs a fidelity axis.
        uses_fidelity: it varies the fidelity where there is an axis (listed as multi-fidelity).
        multi_objective: it searches several objectives at once.
        pending_trials: it may be asked while earlier trials run (W > 1 workers).
        serial_reason: why it may not, where it may not ("" when unstated).
        restores: it has ``restore`` (resumes from its own saved state).
        records: it has ``record`` (keeps a study of the trials).
        closes: it has ``close`` (writes its library's output at the end).
        spaces: the search spaces it can search by name, or None for any.
    """

    multi_fidelity: bool
    uses_fidelity: bool
    multi_objective: bool
    pending_trials: bool
    serial_reason: str
    restores: bool
    records: bool
    closes: bool
    spaces: tuple[str, ...] | None = None


def capabilities(optimizer: object) -> Capabilities:
    """What an optimizer (an instance or its class) can do: the one reader of the optional members.

    An instance may narrow its class's declaration by its options (an Optuna sampler with a
    pruner is multi-fidelity, serial and single-objective), so ask the instance where there is one.
    """
    multi_fidelity = bool(optimizer.multi_fidelity)  # type: ignore[attr-defined]
    return Capabilities(
        multi_fidelity=multi_fidelity,
        uses_fidelity=bool(getattr(optimizer, "uses_fidelity", multi_fidelity)),
        multi_objective=bool(getattr(optimizer, "multi_objective", False)),
        pending_trials=bool(getattr(optimizer, "pending_trials", False)),
        serial_reason=str(getattr(optimizer, "serial_reason", "") or ""),
        restores=callable(getattr(optimizer, "restore", None)),
        records=callable(getattr(optimizer, "record", None)),
        closes=callable(getattr(optimizer, "close", None)),
        spaces=None if getattr(optimizer, "spaces", None) is None else tuple(optimizer.spaces),  # type: ignore[attr-defined]
    )


def optimizer_settings(optimizer: object) -> dict[str, Any]:
    """Its ``settings()`` for run.json, or nothing where it declares none."""
    settings = getattr(optimizer, "settings", None)
    return dict(settings()) if callable(settings) else {}


def optimizer_notes(optimizer: object) -> list[str]:
    """Its ``notes()`` for the run record, or none."""
    notes = getattr(optimizer, "notes", None)
    return list(notes()) if callable(notes) else []

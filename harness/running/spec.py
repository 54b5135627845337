"""Declarative experiment specs (TOML), validated with errors that name the bad key.

A spec lists optimizers with their options, datasets, a store, a data-seed policy, an
output folder, and named profiles that fix seeds and budget. Every optimizer runs on the
same seeds, because rank statistics need paired runs.

What is searched: ``benchmark`` (default ``nb201``) with its ``datasets`` (a suite benchmark's
datasets are its tasks), or ``tasks``, a list of ``"benchmark/task"`` pairs that may span
benchmarks (``["nasbench-graph/cora", "hpolib/naval_propulsion"]``; a bare name is a task of
``benchmark``). A profile may name its own ``tasks`` (a quick subset); every run's ``RunConfig``
gets the pair's benchmark and dataset.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.running.budget import Budget
from harness.running.run_config import DATA_SEEDS, SPEC_SETTINGS
from harness.running import spec_values as values
from harness.running.spec_values import Task
from harness.running.smoke import smoke_seeds
from adapters.types import BadInputError

__all__ = ["ExperimentSpec", "OptimizerEntry", "Profile", "Task", "load_spec", "parse_spec"]

_TOP_KEYS = {
    "name", "description", "datasets", "output", "profiles", "optimizers", "transfer_datasets", "export_deepcave",
    "paper_table", "workers", "regret_target", "reference", "focus", "baselines", "benchmark", "benchmark_options",
    "tasks", *SPEC_SETTINGS,
}
_PROFILE_KEYS = {"seeds", "budget", "include_overhead", "skip", "description", "dataset_budgets", "runs", "tasks"}


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer of a spec: a label, what to load, and its options."""

    label: str
    optimizer: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """Seeds and budget of one profile; ``skip`` maps an optimizer label to why it is left out.

    ``dataset_budgets`` overrides the budget per dataset (NATS-Bench gives each its own), keyed by
    dataset, by ``benchmark/task``, or by benchmark for all its tasks; ``runs`` gives an optimizer fewer runs than the profile's seeds
    (its first N seeds), for optimizers too slow for a paper's 500 runs; paired statistics use the
    seeds all share. ``tasks``, where given, replaces the spec's tasks in this profile.
    """

    name: str
    seeds: tuple[int, ...]
    budget: Budget
    skip: dict[str, str] = field(default_factory=dict)
    description: str = ""
    dataset_budgets: dict[str, Budget] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    tasks: tuple[Task, ...] = ()

    def budget_for(self, dataset: str, benchmark: str | None = None) -> Budget:
        """The budget of a dataset's runs: its ``benchmark/task`` entry, else its dataset's, else its benchmark's
        (one budget for all of HPOLib's tasks), else the profile's."""
        for key in (f"{benchmark}/{dataset}", dataset, benchmark):
            if key in self.dataset_budgets:
                return self.dataset_budgets[key]
        return self.budget

    def seeds_for(self, label: str) -> tuple[int, ...]:
        return self.seeds[: self.runs[label]] if label in self.runs else self.seeds

    def budget_text(self, runs: Iterable[tuple[str, str]] = ()) -> str:
        """The budget per run as the report states it: per dataset where they differ, and the profile's
        own budget for the rest where any of ``runs`` ((benchmark, dataset) pairs) has it."""
        if not self.dataset_budgets:
            return str(self.budget)
        rest = any(self.budget_for(dataset, benchmark) is self.budget for benchmark, dataset in runs)
        return ", ".join([*(f"{budget} on {dataset}" for dataset, budget in self.dataset_budgets.items()),
                          *([f"{self.budget} on the others"] if rest else [])])


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated spec. Its fields named in ``harness.running.run_config.SPEC_SETTINGS`` pass unchanged into
    every run's ``RunConfig`` (``harness.compare.plan_runs``); the rest shape the grid and the report."""

    name: str
    path: Path
    store: str
    datasets: tuple[str, ...]
    data_seeds: str
    output: Path
    optimizers: tuple[OptimizerEntry, ...]
    profiles: dict[str, Profile]
    continue_promotions: bool = False
    transfer_datasets: tuple[str, ...] = ()
    export_deepcave: bool = False
    description: str = ""
    objectives: tuple[str, ...] = ("valid_acc",)
    #: The Optuna storage every Optuna sampler's run writes its study to (None: each run folder's optuna.journal).
    storage: str | None = None
    search_fidelity: int | None = None
    paper_table: tuple[str, ...] = ()
    #: Simulated workers per run; several values run every optimizer at each (labels ``NAME@W``)
    #: and add the parallel section (regret over simulated wall-clock, speed-up, utilisation).
    workers: tuple[int, ...] = (1,)
    #: The regret (pp of the search split) the parallel section's speed-up is measured to.
    regret_target: float = 0.3
    #: The optimizer label the report's margins and Wilcoxon tests are measured against; with several
    #: worker counts, that optimizer at the fewest workers (the serial baseline).
    reference: str = "random"
    #: The report's curves show the ``focus`` best optimizers by final rank plus the reference and
    #: ``baselines``; an appendix figure shows all of them when that leaves some out.
    focus: int = 5
    baselines: tuple[str, ...] = ()
    #: The benchmark ``datasets`` belong to (``benchmarks.registry.RUNNABLE_BENCHMARKS``).
    benchmark: str = "nb201"
    #: The benchmark's own settings, as every run records them (a live spec's data folder and recipe).
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    #: Explicit (benchmark, dataset) pairs; empty: ``datasets`` of ``benchmark``.
    tasks: tuple[Task, ...] = ()

    def tasks_for(self, profile: Profile) -> tuple[Task, ...]:
        """The pairs a profile searches: its own ``tasks``, else the spec's, else ``datasets`` of ``benchmark``."""
        return profile.tasks or self.tasks or tuple(Task(self.benchmark, d) for d in self.datasets)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise BadInputError(
                f"spec {self.name}: unknown profile {name!r}; allowed: {', '.join(self.profiles)}"
            ) from None


def _profile(spec_name: str, name: str, table: dict, labels: set[str], benchmark: str = "nb201") -> Profile:
    where = f"spec {spec_name}: profiles.{name}"
    values.check_keys(where, table, _PROFILE_KEYS)
    for key in ("seeds", "budget"):
        if key not in table:
            raise BadInputError(f"{where}: missing key {key!r}")
    seeds = values.seeds(where, table["seeds"])
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds) or len(set(seeds)) != len(seeds):
        raise BadInputError(f"{where}: key 'seeds' must be a non-empty list of distinct integers, got {seeds!r}")
    declared, seeds = seeds, smoke_seeds(seeds)  # HPO2NAS_SMOKE keeps the first two
    skip = values.typed(where, "skip", table.get("skip", {}), dict)
    for label, reason in skip.items():
        if label not in labels:
            raise BadInputError(f"{where}: skip names unknown optimizer {label!r}; allowed: {', '.join(sorted(labels))}")
        values.typed(where, f"skip.{label}", reason, str)
    overhead = values.typed(where, "include_overhead", table.get("include_overhead", False), bool)
    dataset_budgets = {
        str(dataset): Budget.parse(values.typed(where, f"dataset_budgets.{dataset}", text, str), include_overhead=overhead)
        for dataset, text in values.typed(where, "dataset_budgets", table.get("dataset_budgets", {}), dict).items()
    }
    runs = values.typed(where, "runs", table.get("runs", {}), dict)
    for label, count in runs.items():
        if label not in labels:
            raise BadInputError(f"{where}: runs names unknown optimizer {label!r}; allowed: {', '.join(sorted(labels))}")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= len(declared):
            raise BadInputError(f"{where}: runs.{label} must be an integer from 1 to {len(declared)}, got {count!r}")
    return Profile(
        name=name,
        seeds=tuple(seeds),
        budget=Budget.parse(values.typed(where, "budget", table["budget"], str), include_overhead=overhead),
        skip=dict(skip),
        description=values.typed(where, "description", table.get("description", ""), str),
        dataset_budgets=dataset_budgets,
        runs=dict(runs),
        tasks=values.tasks(where, table["tasks"], benchmark) if "tasks" in table else (),
    )


def load_spec(path: Path) -> ExperimentSpec:
    """Parse and validate a spec file (optimizer names and options are checked here too)."""
    path = Path(path)
    try:
        body = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"no spec file {path}") from None
    except IsADirectoryError:
        raise BadInputError(f"spec {path} is a folder, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(f"spec {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"spec {path}: invalid TOML: {exc}") from None
    return parse_spec(body, path)


def parse_spec(body: dict[str, Any], path: Path | None = None) -> ExperimentSpec:
    """Validate a spec given as the dict its TOML file parses to (the Python API builds one in code).

    ``path`` is the file it came from, if any; without one the spec needs a ``name``.
    """
    from adapters.optimizers import make_optimizer

    if path is None and "name" not in body:
        raise BadInputError("a spec given in code needs a 'name'")
    name = str(body["name"] if "name" in body else Path(path).stem)
    path = Path(path) if path is not None else Path(f"<{name}>")
    where = f"spec {name}"
    values.check_keys(where, body, _TOP_KEYS)
    for key in ("optimizers", "profiles"):
        if key not in body:
            raise BadInputError(f"{where}: missing key {key!r}")
    if ("datasets" in body) == ("tasks" in body):
        raise BadInputError(f"{where}: give key 'datasets' (of key 'benchmark', default nb201) or key 'tasks' "
                            "(benchmark/task pairs), " + ("not both" if "tasks" in body else "missing both"))
    benchmark = values.benchmark_name(where, body.get("benchmark", "nb201"))
    tasks = values.tasks(where, body["tasks"], benchmark) if "tasks" in body else ()
    data_seeds = body.get("data_seeds", "random")
    if data_seeds not in DATA_SEEDS:
        raise BadInputError(f"{where}: key 'data_seeds' must be one of {', '.join(DATA_SEEDS)}, got {data_seeds!r}")
    optimizers = []
    for label, table in values.typed(where, "optimizers", body["optimizers"], dict).items():
        table = dict(values.typed(where, f"optimizers.{label}", table, dict))
        target = str(table.pop("optimizer", label))
        make_optimizer(target, table)  # validates the name and every option now, not mid-run
        optimizers.append(OptimizerEntry(label=label, optimizer=target, options=table))
    if not optimizers:
        raise BadInputError(f"{where}: key 'optimizers' lists no optimizer")
    labels = {o.label for o in optimizers}
    profiles = {
        pname: _profile(name, pname, values.typed(where, f"profiles.{pname}", table, dict), labels, benchmark)
        for pname, table in values.typed(where, "profiles", body["profiles"], dict).items()
    }
    datasets = values.typed(where, "datasets", body.get("datasets", [t.dataset for t in tasks]), list)
    if not datasets:
        raise BadInputError(f"{where}: key 'datasets' must list at least one dataset")
    output = Path(values.typed(where, "output", body.get("output", f"results/{name}"), str))
    reference = values.typed(where, "reference", body.get("reference", "random"), str)
    if "reference" in body and reference not in labels:
        raise BadInputError(f"{where}: key 'reference' must name one of the optimizers "
                            f"({', '.join(sorted(labels))}), got {reference!r}")
    focus = values.typed(where, "focus", body.get("focus", 5), int)
    if focus < 1:
        raise BadInputError(f"{where}: key 'focus' must be a positive integer, got {focus!r}")
    baselines = tuple(str(b) for b in values.typed(where, "baselines", body.get("baselines", []), list))
    if set(baselines) - labels:
        raise BadInputError(f"{where}: key 'baselines' must name optimizers of the spec "
                            f"({', '.join(sorted(labels))}), got {', '.join(sorted(set(baselines) - labels))}")
    return ExperimentSpec(
        name=name,
        path=path,
        store=values.typed(where, "store", body.get("store", "default"), str),
        datasets=tuple(str(d) for d in datasets),
        data_seeds=data_seeds,
        output=output,
        optimizers=tuple(optimizers),
        profiles=profiles,
        continue_promotions=values.typed(where, "continue_promotions", body.get("continue_promotions", False), bool),
        transfer_datasets=values.names(where, "transfer_datasets", body.get("transfer_datasets", [])),
        export_deepcave=values.typed(where, "export_deepcave", body.get("export_deepcave", False), bool),
        description=values.typed(where, "description", body.get("description", ""), str),
        objectives=values.objectives(where, body.get("objectives", ["valid_acc"])),
        storage=values.storage(where, body.get("storage")),
        search_fidelity=values.search_fidelity(where, body.get("search_fidelity")),
        paper_table=values.names(where, "paper_table", body.get("paper_table", [])),
        workers=values.workers(where, body.get("workers", 1)),
        regret_target=values.regret_target(where, body.get("regret_target", 0.3)),
        reference=reference,
        focus=focus,
        baselines=baselines,
        benchmark=benchmark,
        benchmark_options=values.benchmark_options(where, body, benchmark, tuple(str(d) for d in datasets)),
        tasks=tasks,
    )



"""Checking one value of an experiment spec: each a one-line refusal naming the spec, the key and what it takes.

Kept apart from :mod:`harness.running.spec` (which assembles the spec from them) so that each
key's rule reads on its own; every refusal names ``where`` (the spec and, inside a profile, the
profile) and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters import parse_objectives
from adapters.bounds import check
from adapters.types import BadInputError

_LIVE_KEYS = {"data_dir", "settings"}


@dataclass(frozen=True)
class Task:
    """One searched (benchmark, dataset) pair of a spec; ``str`` gives its ``benchmark/dataset`` form."""

    benchmark: str
    dataset: str

    def __str__(self) -> str:
        return f"{self.benchmark}/{self.dataset}"


def check_keys(where: str, table: dict, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise BadInputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def typed(where: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadInputError(f"{where}: key {key!r} must be a {names}, got {value!r}")
    return value


def tasks(where: str, value: Any, benchmark: str) -> tuple[Task, ...]:
    """``tasks``: a non-empty list of ``"benchmark/task"`` (or a bare task of ``benchmark``), each once.

    Suite tasks are checked against the benchmark's registry here (no data is read); NB201
    datasets are resolved against the store when the runs are planned.
    """
    from benchmarks.registry import RUNNABLE_BENCHMARKS
    from benchmarks.suites import SUITE_BENCHMARKS

    names = typed(where, "tasks", value, list)
    if not names:
        raise BadInputError(f"{where}: key 'tasks' must list at least one benchmark/task")
    tasks = []
    for name in names:
        bench, sep, task = typed(where, "tasks", name, str).rpartition("/")
        bench = bench if sep else benchmark
        if bench not in RUNNABLE_BENCHMARKS:
            raise BadInputError(f"{where}: key 'tasks': {name!r} names unknown benchmark {bench!r}; "
                                f"benchmarks are {', '.join(RUNNABLE_BENCHMARKS)}")
        suite = SUITE_BENCHMARKS.get(bench)
        if suite is not None and task not in suite.tasks:
            raise BadInputError(f"{where}: key 'tasks': {bench} has no task {task!r}; tasks are {', '.join(suite.tasks)}")
        tasks.append(Task(bench, task))
    repeated = next((t for t in tasks if tasks.count(t) > 1), None)
    if repeated is not None:
        raise BadInputError(f"{where}: key 'tasks' names {repeated} twice")
    return tuple(tasks)


def seeds(where: str, value: Any) -> list:
    """A list of seeds, or ``"A..B"`` for A to B inclusive (a paper's 500 runs in one line).

    The count is bounded before the range is built: "0..100000000000" would not fit in memory.
    """
    if isinstance(value, str):
        start, sep, stop = value.partition("..")
        if not (sep and start.strip().isdigit() and stop.strip().isdigit() and int(start) <= int(stop)):
            raise BadInputError(f"{where}: key 'seeds' must be a list of integers or 'A..B' (A <= B), got {value!r}")
        check("seeds", int(stop) - int(start) + 1, f"{where}: the number of seeds in {value!r}")
        seeds = list(range(int(start), int(stop) + 1))
    else:
        seeds = typed(where, "seeds", value, list)
        check("seeds", max(len(seeds), 1), f"{where}: the number of seeds")
    for seed in seeds:
        if isinstance(seed, int) and not isinstance(seed, bool):
            check("seed", seed, f"{where}: seed")
    return seeds


def benchmark_name(where: str, value: Any) -> str:
    """The spec's ``benchmark``, one of ``benchmarks.registry.RUNNABLE_BENCHMARKS``."""
    from benchmarks.registry import RUNNABLE_BENCHMARKS

    if value not in RUNNABLE_BENCHMARKS:
        raise BadInputError(f"{where}: key 'benchmark' must be one of {', '.join(RUNNABLE_BENCHMARKS)}, got {value!r}")
    return value


def benchmark_options(where: str, body: dict[str, Any], name: str, datasets: tuple[str, ...]) -> dict[str, Any]:
    """``benchmark_options`` of benchmark ``name``; a live spec's options become the complete form runs record.

    A live spec trains on one dataset (``datasets``), read from ``benchmark_options.data_dir``
    (absolute, or relative to the folder compare runs in) with ``benchmark_options.settings``
    (TrainSettings fields).
    """
    from benchmarks.registry import LIVE

    options = dict(typed(where, "benchmark_options", body.get("benchmark_options", {}), dict))
    if name != LIVE:
        return options
    from benchmarks.live import live_options

    check_keys(f"{where}: benchmark_options", options, _LIVE_KEYS)
    if len(datasets) != 1:
        raise BadInputError(f"{where}: a live spec trains on one dataset; 'datasets' lists {len(datasets)}")
    data_dir = options.get("data_dir")
    settings = typed(where, "benchmark_options.settings", options.get("settings", {}), dict)
    try:
        recorded = live_options(datasets[0], None if data_dir is None else Path(str(data_dir)), settings)
    except BadInputError as exc:
        raise BadInputError(f"{where}: benchmark_options: {exc}") from None
    return recorded


def workers(where: str, value: Any) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values) or \
            len(set(values)) != len(values):
        raise BadInputError(f"{where}: key 'workers' must be a positive integer or a list of distinct ones, got {value!r}")
    for workers in values:
        check("workers", workers, f"{where}: key 'workers'")
    return tuple(values)


def names(where: str, key: str, value: Any) -> tuple[str, ...]:
    """A list of dataset names (transfer_datasets, paper_table): text only, checked against the store later."""
    names = typed(where, key, value, list)
    for name in names:
        typed(where, key, name, str)
    return tuple(names)


def regret_target(where: str, value: Any) -> float:
    """The parallel section's regret target: a finite regret in pp (TOML allows nan and -inf)."""
    return float(check("regret_target", typed(where, "regret_target", value, (int, float)), f"{where}: key 'regret_target'"))


def storage(where: str, value: Any) -> str | None:
    """The spec's Optuna storage, its form checked now rather than part-way through the grid."""
    if value is None:
        return None
    from adapters.optimizers.optuna_study import check_storage

    try:
        return check_storage(typed(where, "storage", value, str))
    except BadInputError as exc:
        raise BadInputError(f"{where}: key 'storage': {exc}") from None


def search_fidelity(where: str, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadInputError(f"{where}: key 'search_fidelity' must be a positive integer, got {value!r}")
    return value


def objectives(where: str, value: Any) -> tuple[str, ...]:
    try:
        return parse_objectives(typed(where, "objectives", value, list))
    except BadInputError as exc:
        raise BadInputError(f"{where}: key 'objectives': {exc}") from None

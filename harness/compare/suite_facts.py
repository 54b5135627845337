"""Each task's facts for the suite report, read from the benchmarks once, before the report is written.

The report reads only trial records and what its caller states; a suite's normalised regret
also needs each task's true optimum and median over every configuration, which only the
benchmark knows. ``benchmarks.suites.summary`` already computes both (the same numbers
``hpo2nas data summary --benchmark NAME --json`` prints), so this only picks them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.reporting.suite_stats import TaskFacts, task_label

__all__ = ["suite_facts"]


def suite_facts(tasks: Iterable[tuple[str, str]], *, root: Path | None = None,
                store: str | None = None) -> dict[str, TaskFacts]:
    """``benchmark/dataset`` -> :class:`TaskFacts` for each (benchmark, dataset), in the order given.

    Args:
        tasks: (benchmark, dataset) pairs.
        root: the data folder (default ``$HPO2NAS_DATA``).
        store: the NB201 store the runs read (its optimum is NB201's regret zero).
    """
    from benchmarks.suites import summary

    bodies: dict[str, dict] = {}
    facts: dict[str, TaskFacts] = {}
    for benchmark, dataset in tasks:
        if benchmark not in bodies:
            bodies[benchmark] = summary(benchmark, root=root, store=store if benchmark == "nb201" else None)
        body = bodies[benchmark]
        entry = body["tasks"][dataset]
        metric = entry["metrics"][entry["objective"]]
        label = task_label(benchmark, dataset)
        facts[label] = TaskFacts(label, body["kind"], entry["objective"], metric["split"], metric["direction"],
                                 float(metric["best"]), float(metric["median"]), int(entry["configs"]))
    return facts

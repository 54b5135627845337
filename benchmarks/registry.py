"""Every benchmark a run can name, opened by one function: ``--benchmark NAME`` and ``RunConfig.benchmark``.

Why one place: ``hpo2nas run``, a spec's runs, real workers and a resume all open a run's
benchmark from the same two recorded values (its name and its options), so a run folder says
how to reopen what it searched. NB201 is the default; ``options`` carry what a benchmark needs
beyond its name (a live benchmark's data folder and training settings), and are recorded in
run.json with the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.protocols import Benchmark
from adapters.types import BadInputError
from benchmarks.suites import SUITE_BENCHMARKS

__all__ = ["NB201", "LIVE", "RUNNABLE_BENCHMARKS", "open_named"]

#: The default benchmark: NB201's tabular store (``store`` picks which one).
NB201 = "nb201"
#: Training NB201's networks on the user's data (benchmarks.live).
LIVE = "live"
#: Every name ``--benchmark`` takes, the default first.
RUNNABLE_BENCHMARKS: tuple[str, ...] = (NB201, *SUITE_BENCHMARKS, LIVE)


def open_named(name: str, *, store: str = "default", root: Path | None = None,
               options: Mapping[str, Any] | None = None, workdir: Path | None = None) -> Benchmark:
    """Open the benchmark a run names.

    Args:
        name: one of :data:`RUNNABLE_BENCHMARKS`.
        store: NB201's store (the tabular NB201 benchmark only).
        root: the data root (default ``$HPO2NAS_DATA``).
        options: the benchmark's own settings, as recorded in run.json.
        workdir: a folder the benchmark may keep state in (a live run's checkpoints): the run folder.
    """
    options = dict(options or {})
    if name not in RUNNABLE_BENCHMARKS:
        raise BadInputError(f"unknown benchmark {name!r}; choose one of {', '.join(RUNNABLE_BENCHMARKS)}")
    if name == LIVE:
        from benchmarks.live import open_live

        return open_live(options, workdir)
    if options:  # only a benchmark that trains has settings beyond its name
        raise BadInputError(f"benchmark {name} takes no options, got {', '.join(sorted(options))}")
    if name == NB201:
        from benchmarks import open_benchmark

        return open_benchmark(store, root=root)
    from benchmarks.suites import SuiteRunBenchmark, open_suite

    return SuiteRunBenchmark(open_suite(name), root=root)

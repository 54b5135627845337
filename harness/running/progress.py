"""Progress bars on stderr that start only when there is something to show.

One helper, :func:`lazy_bar`, owns rich's start/stop; the two bars the CLI draws
(counted work, and a run's budget) differ only in their columns and fields. Without a
terminal (``nohup``, Slurm, ``2> log``) a bar draws nothing until it stops, so
:func:`counted_progress` prints plain lines there instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["lazy_bar", "delayed_progress", "byte_progress", "counted_progress", "line_progress"]


@contextmanager
def lazy_bar(*columns: ProgressColumn, delay_s: float = 0.0, **task: object) -> Iterator[Callable[..., None]]:
    """Yield ``update(**fields)`` for one rich task; the bar starts at the first update after ``delay_s``.

    Why lazily: quick work stays silent, and a command that fails on its input reports the
    error before any bar is drawn. ``task`` holds the task's initial ``add_task`` arguments.
    """
    start = time.perf_counter()
    progress = Progress(*columns, console=Console(stderr=True), transient=False)
    task_id = progress.add_task(**{"description": "", **task})

    def update(**fields: object) -> None:
        if not progress.live.is_started:
            if time.perf_counter() - start < delay_s:
                return
            progress.start()
        progress.update(task_id, **fields)

    try:
        yield update
    finally:
        if progress.live.is_started:
            progress.stop()


@contextmanager
def delayed_progress(description: str, *, delay_s: float = 1.0) -> Iterator[Callable[..., None]]:
    """Yield a ``progress(done, total, desc)`` callback for counted work (imports, compare's runs)."""
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with lazy_bar(*columns, delay_s=delay_s, description=description, total=None) as bar:

        def update(done: int, total: int, desc: str = "") -> None:
            bar(completed=done, total=total, description=f"{description} {desc}".strip())

        yield update


@contextmanager
def byte_progress(description: str, *, delay_s: float = 0.5) -> Iterator[Callable[..., None]]:
    """Yield a ``progress(done_bytes, total_bytes_or_None, name)`` callback: a bar with size and rate."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with lazy_bar(*columns, delay_s=delay_s, description=description, total=None) as bar:

        def update(done: int, total: int | None, name: str = "") -> None:
            bar(completed=done, total=total, description=f"{description} {name}".strip())

        yield update


@contextmanager
def line_progress(description: str) -> Iterator[Callable[..., None]]:
    """Yield a ``progress(done, total, desc)`` callback that prints one line on stderr per change of ``done``.

    For logs: each line is flushed at once and says how far the work is and how long it took.
    """
    start = time.perf_counter()
    last: int | None = None

    def update(done: int, total: int, desc: str = "") -> None:
        nonlocal last
        if done == last:
            return
        last = done
        title = f"{description} {desc}".strip()
        print(f"{title}: {done}/{total} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)

    yield update


def counted_progress(description: str) -> AbstractContextManager[Callable[..., None]]:
    """A bar on a terminal (:func:`delayed_progress`, drawn at once), else :func:`line_progress`."""
    if sys.stderr.isatty():
        return delayed_progress(description, delay_s=0.0)
    return line_progress(description)

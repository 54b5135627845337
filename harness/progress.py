"""Progress bars that appear only for work that takes longer than a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["delayed_progress"]


@contextmanager
def delayed_progress(description: str, *, delay_s: float = 1.0) -> Iterator:
    """Yield a ``progress(done, total, desc)`` callback that draws a bar after ``delay_s``.

    Quick work stays silent; long work shows a bar on stderr.
    """
    start = time.perf_counter()
    bar: dict = {}

    def update(done: int, total: int, desc: str = "") -> None:
        if "progress" not in bar:
            if time.perf_counter() - start < delay_s:
                return
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
                console=Console(stderr=True),
            )
            progress.start()
            bar["progress"] = progress
            bar["task"] = progress.add_task(description, total=total)
        bar["progress"].update(bar["task"], completed=done, total=total, description=f"{description} {desc}".strip())

    try:
        yield update
    finally:
        if "progress" in bar:
            bar["progress"].stop()

"""Ending a long command on SIGTERM the way Ctrl-C ends it.

Why: ``kill``, Slurm's ``scancel`` and ``timeout`` send SIGTERM, whose default action ends
the process at once, so ``finally`` blocks never run. ``compare`` then leaves its Dask
worker processes to die with it, and multiprocessing's resource tracker reports their
semaphores as leaked. Raised as KeyboardInterrupt instead, SIGTERM goes through the same
clean-up as Ctrl-C (the cluster is closed, the CLI prints "interrupted" and exits 130).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["sigterm_as_interrupt"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""SIGTERM handled as Ctrl-C, so ``finally`` blocks (temporary folders, clusters, locks) still run."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["raise_interrupt", "sigterm_as_interrupt"]


def raise_interrupt(signum: int, frame: object) -> None:
    """A SIGTERM handler: stop like Ctrl-C, through the same clean-up."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``KeyboardInterrupt`` instead of ending the process at once.

    Python's default for SIGTERM skips every ``finally``; this makes ``kill PID`` clean up as
    Ctrl-C does. The previous handler is restored afterwards (off the main thread, where
    handlers cannot be set, nothing changes).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

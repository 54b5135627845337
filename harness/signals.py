"""SIGTERM as an orderly exit, so ``finally`` blocks (temporary folders, clusters, locks) still run."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["terminate_as_exit"]


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SystemExit(143)`` instead of ending the process at once.

    Python's default for SIGTERM skips every ``finally``; this makes ``kill PID`` clean up like
    Ctrl-C does. The previous handler is restored afterwards (off the main thread, where
    handlers cannot be set, nothing changes).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

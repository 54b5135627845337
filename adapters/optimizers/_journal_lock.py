"""A journal lock that a killed process cannot leave behind (imported with Optuna, on first use)."""

from __future__ import annotations

import fcntl
from typing import IO

from optuna.storages.journal._file import BaseJournalFileLock  # the ABC that JournalFileBackend takes; not re-exported

__all__ = ["FlockLock"]


class FlockLock(BaseJournalFileLock):
    """An exclusive ``flock`` on the journal file itself, which the kernel releases when its holder dies.

    Optuna's default lock is a symlink beside the journal; a run killed while appending
    leaves it behind, and the next writer waits 30 s before breaking it. Every hpo2nas writer
    (runs, exports, compare's workers) takes this lock; readers need none. Another program
    writing the same journal at the same time would have to take it too.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._fh: IO[bytes] | None = None

    def acquire(self) -> bool:
        self._fh = open(self._path, "ab")  # noqa: SIM115 - held until release()
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        assert self._fh is not None, "release() without acquire()"
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None

"""Optuna's journal file backend as hpo2nas writes it (imported with Optuna, on first use).

Two changes to ``JournalFileBackend``, both about a run that is killed:

* the lock is an ``flock`` on the journal itself, which the kernel releases when its holder
  dies; Optuna's default lock is a symlink beside the journal, which a run killed while
  appending leaves behind, and the next writer waits 30 s before breaking it;
* an append is not fsynced on its own: a process killed (even by SIGKILL) loses nothing the
  kernel already holds, and a run appends one trial at a time, where an fsync each cost more
  than everything else the study costs. :meth:`SyncedLater.sync` fsyncs, at the end of a run.
  After an operating-system crash the study may lag the run's own fsynced checkpoint; a resume
  then replays the trials it lacks through ask/tell and appends them again.

Every hpo2nas writer (runs, exports, compare's workers) uses both; readers (optuna-dashboard,
``optuna.load_study``) need neither. Another program writing the same journal at the same
time would have to take the same lock.
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import IO, Any

from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import BaseJournalFileLock  # the ABC JournalFileBackend takes; not re-exported

__all__ = ["FlockLock", "SyncedLater"]


class FlockLock(BaseJournalFileLock):
    """An exclusive ``flock`` on the journal file itself, released by the kernel if its holder dies."""

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


class SyncedLater(JournalFileBackend):
    """``JournalFileBackend`` whose appends are written under the lock but fsynced only by :meth:`sync`."""

    def __init__(self, path: str) -> None:
        super().__init__(path, lock_obj=FlockLock(path))
        self.lock = self._lock

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        self._lock.acquire()
        try:
            with open(self._file_path, "ab") as fh:
                fh.write(text.encode("utf-8"))
        finally:
            self._lock.release()

    def sync(self) -> None:
        with open(self._file_path, "rb") as fh:
            os.fsync(fh.fileno())

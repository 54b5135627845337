"""Rebuild ``benchmarks/data/transnas101_micro.npz``: TransNAS-Bench-101 micro's final validation metric per cell and task.

The input is NASLib's copy of TransNAS-Bench-101's results (never shipped itself)::

    .venv/bin/python scripts/build_transnas101.py [--source ../shared/data/transnas101] [--out PATH]

``transnas101_micro_zen.zip`` (automl/NASLib @7a5496e, ``naslib/data/zc_benchmarks/all_benchmarks_zen.zip``)
holds ``zen/benchmark--transbench101_micro--TASK--START.json``: lists of records with ``arch`` (NASLib's
op tuple, the TransNAS op codes in the order of TransNAS's ``64-41414-a_bc_def`` string) and
``val_accuracy`` (the task's final validation metric as NASLib's ``query`` reads it; ``idx`` is
NASLib's running number, unused). The script checks that every task has each of the 4,096 cells
exactly once, that no two records of a cell disagree, and that each value is a float32 (so float32
storage is exact).

Output: one compressed ``.npz``: per task a float32 array of 4,096 values in
:class:`adapters.spaces.TransNasMicroSpace` row order, plus ``provenance``, a JSON string with the
source, licenses, the metric behind each task and the input's SHA-256.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from adapters.spaces import TransNasMicroSpace  # noqa: E402
from benchmarks.suites._transnas import TRANSNAS_METRICS, shipped_path  # noqa: E402
from build_nb201_extras import sha256, write  # noqa: E402

ZIP = "transnas101_micro_zen.zip"
_MEMBER = re.compile(r"zen/benchmark--transbench101_micro--(?P<task>\w+)--(?P<start>\d+)\.json$")


def read_zip(path: Path) -> dict[str, dict[str, float]]:
    """task -> NASLib op-tuple string -> value, or SystemExit saying what is wrong."""
    if not path.is_file():
        raise SystemExit(f"missing input {path}")
    tasks: dict[str, dict[str, float]] = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            match = _MEMBER.match(member)
            if not match:
                continue
            table = tasks.setdefault(match["task"], {})
            for record in json.loads(archive.read(member)):
                value = float(record["val_accuracy"])
                if table.setdefault(record["arch"], value) != value:
                    raise SystemExit(f"{member}: {record['arch']} has two different values")
    return tasks


def build(source: Path) -> dict[str, np.ndarray]:
    space = TransNasMicroSpace()
    tasks = read_zip(source / ZIP)
    if sorted(tasks) != sorted(TRANSNAS_METRICS):
        raise SystemExit(f"{ZIP}: tasks {sorted(tasks)}, expected {sorted(TRANSNAS_METRICS)}")
    arrays: dict[str, np.ndarray] = {}
    for task, table in tasks.items():
        values = np.full(space.size, np.nan)
        for arch, value in table.items():
            values[space.from_native(arch)] = value
        if len(table) != space.size or np.isnan(values).any():
            raise SystemExit(f"{task}: {len(table)} cells, {int(np.isnan(values).sum())} rows missing")
        if not (values.astype(np.float32).astype(np.float64) == values).all():
            raise SystemExit(f"{task}: values are not float32 numbers; store them as float64")
        arrays[task] = values.astype(np.float32)
    provenance = {
        "about": "Derived data for hpo2nas's transnas-micro benchmark; rebuild with scripts/build_transnas101.py",
        "order": "row k is the k-th cell of itertools.product(range(4), repeat=6) (NASLib's get_arch_iterator), "
                 "i.e. the base-4 number of the TransNAS op codes a,b,c,d,e,f of '64-41414-a_bc_def'",
        "tasks": {task: {"metric": name, "meaning": meaning, "split": "validation (final epoch)", "direction": "max"}
                  for task, (name, meaning) in TRANSNAS_METRICS.items()},
        "inputs": {ZIP: {
            "origin": "automl/NASLib @7a5496e2211d8ab65da40e0e2d5333aba87df614, "
                      "naslib/data/zc_benchmarks/all_benchmarks_zen.zip (the transbench101_micro files)",
            "license": "values from TransNAS-Bench-101 (yawen-d/TransNASBench, MIT); NASLib is Apache-2.0",
            "url": "https://github.com/automl/NASLib",
            "sha256": sha256(source / ZIP),
        }},
        "values": "the source's val_accuracy, exact as float32; no train time, no test split, no seeds",
    }
    arrays["provenance"] = np.array(json.dumps(provenance, sort_keys=True))
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "transnas101")
    parser.add_argument("--out", type=Path, default=shipped_path())
    args = parser.parse_args()
    arrays = build(args.source)
    write(arrays, args.out)
    best = {task: float(arrays[task].max()) for task in TRANSNAS_METRICS}
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes); optima: {best}")


if __name__ == "__main__":
    main()

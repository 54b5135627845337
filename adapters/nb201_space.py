"""NAS-Bench-201's cell as a :class:`~adapters.search_space.SearchSpace`, exact on all 15,625 cells.

A configuration is the cell's six op indices in NB201 edge order (``Cell.ops``), one
categorical hyperparameter per edge named ``edge_<to>_<from>`` with the ops in NB201 op order;
the key is the official NATS/NB201 index and the string form the arch string. Every cell is
its own table row (NB201 trained isomorphic cells separately), so ``canonical`` returns the
NATS-Bench isomorphism class's representative (the smallest official index of the class)
rather than the key's own configuration.
"""

from __future__ import annotations

from adapters._canonical import canonical_ids
import functools

from adapters._cell import EDGES, NUM_CELLS, OPS, Cell, _arch_str, _index_of_ops
from adapters.search_space import Config, FiniteSpace, Hyperparameter

__all__ = ["NB201Space", "NB201"]

#: nor_conv_3x3, the default of every edge in hpo2nas's ConfigSpace since its first release.
_DEFAULT_OP = OPS.index("nor_conv_3x3")


class NB201Space(FiniteSpace):
    """The NB201 cell: 6 edges x 5 ops, keyed by the official index."""

    name = "nb201"
    hyperparameters = tuple(Hyperparameter(f"edge_{to}_{frm}", OPS, default=_DEFAULT_OP, label=f"{to}<-{frm}")
                            for to, frm in EDGES)
    size = NUM_CELLS
    cell = True

    def key(self, config: Config) -> int:
        """The official index; a dict lookup on the hot path, the cell's own check for bad input."""
        try:
            return _index_of_ops()[tuple(config)]
        except (KeyError, TypeError):
            return Cell(config).index  # raises InvalidCellError naming the bad edge

    def config(self, key: int) -> Config:
        return Cell.from_index(key).ops

    def native_key(self, key: int) -> str:
        return str(self.check_key(key))

    def canonical(self, config: Config) -> Config:
        """The cell of the smallest official index isomorphic to ``config`` (NATS-Bench's unique string)."""
        return self.config(int(canonical_ids()[self.key(config)]))

    def canonical_key(self, key: int) -> int:
        """The class representative's index (a list lookup: the runner records it for every trial)."""
        if type(key) is int and 0 <= key < NUM_CELLS:
            return _canonical_list()[key]
        return int(canonical_ids()[self.check_key(key)])

    def to_str(self, config: Config) -> str:
        """The arch string (cached per cell: the runner records it for every trial)."""
        ops = tuple(config)
        if ops in _index_of_ops():
            return _arch_str(ops)
        return Cell(config).arch_str  # raises InvalidCellError naming the bad edge

    def from_str(self, text: str) -> Config:
        """An arch string (``|op~0|+|op~0|op~1|+|...|``) or the generic ``edge_1_0=op,...`` form."""
        if text.lstrip().startswith("|"):
            return Cell.from_arch_str(text.strip()).ops
        return super().from_str(text)


@functools.cache
def _canonical_list() -> list[int]:
    return canonical_ids().tolist()


#: The one NB201 space every optimizer, record and export shares.
NB201 = NB201Space()

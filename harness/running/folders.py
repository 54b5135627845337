"""Output folders: staging many files and checking a folder can be written.

Single files are replaced through :mod:`adapters.files` (the one atomic-write helper); this
module adds what many-file outputs need on top of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from adapters.errors import BadInputError
from adapters.files import os_error_text

__all__ = ["staged_folder", "writable_folder"]


@contextlib.contextmanager
def staged_folder(out: Path, *, last: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a hidden staging folder in ``out``; when the block succeeds, move its files onto ``out``.

    For outputs of many files (a report's figures, its Markdown and HTML): all are written
    before any earlier file is replaced, so a failure while writing (a full disk) leaves the
    earlier set whole. The moves are renames within one folder, which need no space. Files
    named in ``last`` move last (the documents that refer to the others).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield staging
        files = [p for p in sorted(staging.rglob("*")) if p.is_file()]
        files.sort(key=lambda p: last.index(p.name) if p.name in last else -1)
        for path in files:
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def writable_folder(path: Path, what: str = "output folder") -> Path:
    """Create ``path`` if needed and check a file can be made in it, or raise one BadInputError line.

    Called before any work, so a path that cannot be written (under /proc, read-only, a file
    in the way) is refused at once. Folders this call made are removed again on refusal, so
    nothing is left behind anywhere.
    """
    path = Path(path)
    made: list[Path] = []
    try:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir()
            made.append(folder)
        if not path.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(path))
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise BadInputError(f"cannot write the {what} {path}: {os_error_text(exc)}") from None
    return path

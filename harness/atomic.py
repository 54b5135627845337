"""Atomic file writes: write a temporary sibling, fsync, then rename over the target."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from adapters.errors import BadInputError

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_json", "os_error_text", "staged_folder", "writable_folder"]

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path``; a crash leaves the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are meant to be shared
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def atomic_write_json(path: Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


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


def os_error_text(exc: OSError) -> str:
    """An OSError as one line a user can act on: what failed, and where.

    ``shutil.copytree`` gathers every failed file into one ``shutil.Error`` whose text is the
    whole list (2 kB on a full disk); the first failure is named, and the others counted.
    """
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        failures = exc.args[0]
        _src, dst, why = failures[0] if len(failures[0]) == 3 else (None, "", str(failures[0]))
        why = re.sub(r"^\[Errno \d+\] ", "", str(why))  # copytree keeps str(OSError): "[Errno 28] ...: 'path'"
        more = f" (and {len(failures) - 1} more files)" if len(failures) > 1 else ""
        return f"{why if str(dst) in why else f'{why}: {dst}'}{more}"
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


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

"""The one way hpo2nas replaces a file or a folder: write a temporary sibling, fsync, rename.

Every writer of the project goes through here, so a crash, a kill or a full disk at any
point leaves either the old file or the new one, never a half-written one. The temporary
sibling is made with ``O_EXCL`` and mode 0666, so the process umask applies as it would to
any other file; nothing here changes process state (an earlier version flipped the
umask at import to learn it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "TEMP_MARK", "atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
    "replace_folder", "sibling_name", "os_error_text", "owned_temp_dir", "new_owned_temp_dir", "sweep_orphans",
]

#: Every temporary sibling's name starts with "." and holds this mark (so leftovers are recognisable).
TEMP_MARK = ".hpo2nas-tmp-"


def sibling_name(path: Path) -> Path:
    """A fresh hidden name next to ``path``, on the same filesystem (so a rename is atomic)."""
    path = Path(path)
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary sibling, fsync it and rename it onto ``path``.

    A crash or an error in ``write`` leaves the old ``path`` (or none) and no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling_name(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def atomic_write_json(path: Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def replace_folder(staging: Path, target: Path) -> None:
    """Move the complete folder ``staging`` onto ``target``, keeping the old ``target`` until the new is in place.

    Both must be on one filesystem. The old folder is first renamed aside (not deleted), then
    the new one renamed in, then the old one removed: a failure or kill at any point leaves a
    whole folder at ``target`` (at worst the old one under a hidden name beside it).
    """
    staging, target = Path(staging), Path(target)
    if not target.exists():
        os.replace(staging, target)
        return
    aside = sibling_name(target)
    os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


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


@contextlib.contextmanager
def owned_temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder named ``<prefix><pid>-<random>``, removed when the block ends however it ends.

    Removal on exit covers exceptions, and SIGTERM where the process turns it into an exit
    (``harness.running.signals.sigterm_as_interrupt``). Nothing runs after SIGKILL: the owner's pid in the
    name lets :func:`sweep_orphans` remove such a folder at the next start, once no process has
    that pid.
    """
    path = new_owned_temp_dir(prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def new_owned_temp_dir(prefix: str) -> Path:
    """Sweep ``prefix``'s orphans, then make ``<prefix><pid>-<random>``; the caller removes it when done."""
    sweep_orphans(prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def sweep_orphans(prefix: str) -> list[Path]:
    """Remove the temporary folders of :func:`owned_temp_dir` whose owning process is gone; return them."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid, marked, _ = path.name[len(prefix):].partition("-")  # mkdtemp's own part never holds "-"
        if marked and pid.isdigit() and path.is_dir() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True

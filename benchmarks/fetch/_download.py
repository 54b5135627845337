"""HTTP(S) download with resume, a stall timeout and SHA-256/size checks (standard library only).

A download writes ``<file>.part`` beside a small ``<file>.part.json`` (the URL and the server's
validator). A dropped connection or a stalled server keeps both, so the same command resumes
with an HTTP ``Range`` request (``If-Range`` guards against a file changed on the server since);
every other failure (an HTTP error, a web page instead of the file, a size or checksum
mismatch) deletes them. Only a complete, verified file is renamed to its final name.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.files import atomic_write_json
from adapters.schema import Nullable, Obj, Str, validate
from adapters.types import BadInputError

__all__ = ["RemoteFile", "ByteProgress", "Interrupted", "download", "verify", "sha256_of", "human_bytes"]

#: Called with (bytes done, bytes total or None when the server does not say, file name).
ByteProgress = Callable[[int, "int | None", str], None]
_BLOCK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a source: its name, where it is, and its pinned size and SHA-256 (None: not published)."""

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None


class Interrupted(BadInputError):
    """The transfer stopped part-way (connection dropped, server stalled); the part file is kept to resume."""


def human_bytes(n: float | None) -> str:
    if n is None:
        return "unknown size"
    if n < 1000:
        return f"{n:,.0f} B"
    for unit in ("KB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:,.1f} {unit}"
    return f"{n / 1000:,.1f} GB"


def sha256_of(path: Path, progress: ByteProgress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = Path(path).stat().st_size, 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total, f"checking {Path(path).name}")
    return digest.hexdigest()


def verify(path: Path, file: RemoteFile, progress: ByteProgress | None = None) -> str:
    """Check ``path`` against the file's pinned size and SHA-256; return the SHA-256 seen.

    Raises:
        BadInputError: a mismatch, naming both values.
    """
    size = Path(path).stat().st_size
    if file.size is not None and size != file.size:
        raise BadInputError(f"{file.name}: size mismatch: expected {file.size:,} bytes, got {size:,}")
    seen = sha256_of(path, progress)
    if file.sha256 is not None and seen != file.sha256:
        raise BadInputError(f"{file.name}: SHA-256 mismatch: expected {file.sha256}, got {seen}")
    return seen


def _discard(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


#: The ``.part.json`` beside a partial download: where it came from and the server's validator.
_STATE = Obj({"url": Str(), "validator": Nullable(Str(empty=True))})


def _resume_state(part: Path, state: Path, url: str) -> tuple[int, str | None]:
    """Bytes already downloaded from ``url`` and the validator to resume them with (0: start over)."""
    try:
        saved = json.loads(state.read_bytes())
        validate(saved, _STATE)
    except (OSError, ValueError):  # missing, not JSON or off its schema (SchemaError is a ValueError)
        saved = None
    if not part.exists() or saved is None or saved["url"] != url:
        _discard(part, state)
        return 0, None
    return part.stat().st_size, saved["validator"]


def download(
    file: RemoteFile,
    url: str,
    dest: Path,
    *,
    progress: ByteProgress | None = None,
    stall_timeout_s: float = 30.0,
    html_hint: str = "",
) -> str:
    """Download ``url`` to ``dest`` (resuming a kept ``dest.part``), verify it, and return the SHA-256 seen.

    Raises:
        Interrupted: the connection dropped or stalled for ``stall_timeout_s``; rerun to resume.
        BadInputError: an HTTP error, a web page instead of the file, or a size/SHA-256 mismatch
            (nothing of the file is kept).
    """
    dest = Path(dest)
    part, state = dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".part.json")
    have, validator = _resume_state(part, state, url)
    if file.size is not None and have > file.size:
        _discard(part, state)
        have, validator = 0, None
    headers = {"User-Agent": "hpo2nas", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator:
            headers["If-Range"] = validator
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=stall_timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have and have == file.size:  # the kept part is already the whole file
            os.replace(part, dest)
            _discard(state)
            return _verified(dest, file, progress)
        _discard(part, state)
        raise BadInputError(f"{file.name}: {url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if have:
            raise Interrupted(f"{file.name}: cannot reach {url} ({reason}); the {human_bytes(have)} downloaded "
                              "so far are kept: run the same command again to resume") from None
        raise BadInputError(f"{file.name}: cannot reach {url} ({reason}); offline, download it elsewhere and give "
                            "it with --from-file (URL and checksum: hpo2nas data fetch --list)") from None
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range (or the file changed): start over
        elif have and not (response.headers.get("Content-Range") or "").startswith(f"bytes {have}-"):
            _discard(part, state)
            raise BadInputError(f"{file.name}: {url} answered a resume request with the wrong range "
                                f"({response.headers.get('Content-Range')!r}); run again to start over")
        kind = response.headers.get_content_type()
        if kind == "text/html" and not file.name.endswith((".html", ".htm")):
            _discard(part, state)
            raise BadInputError(f"{file.name}: {url} returned a web page, not the file{html_hint}")
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None and length.isdigit() else None
        if file.size is not None and total is not None and total != file.size:
            _discard(part, state)
            raise BadInputError(f"{file.name}: size mismatch: expected {file.size:,} bytes, "
                                f"the server offers {total:,}")
        validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
        atomic_write_json(state, {"url": url, "validator": validator})
        _receive(response, part, have, total, file, progress, stall_timeout_s)
    os.replace(part, dest)
    _discard(state)
    return _verified(dest, file, progress)


def _receive(
    response: http.client.HTTPResponse, part: Path, have: int, total: int | None, file: RemoteFile,
    progress: ByteProgress | None, stall_timeout_s: float,
) -> None:
    """Append the response body to ``part``; an early end or a stall raises :class:`Interrupted`."""
    done = have
    try:
        with open(part, "ab" if have else "wb") as out:
            while True:
                block = response.read1(_BLOCK)
                if not block:
                    break
                out.write(block)
                done += len(block)
                if file.size is not None and done > file.size:
                    raise BadInputError(f"{file.name}: size mismatch: expected {file.size:,} bytes, "
                                        f"the server sent more")
                if progress:
                    progress(done, total, file.name)
            out.flush()
            os.fsync(out.fileno())
    except (socket.timeout, TimeoutError):
        if done == 0:
            _discard(part, part.with_name(part.name + ".json"))
            raise BadInputError(f"{file.name}: the server stalled for {stall_timeout_s:g} s before sending "
                                "any data") from None
        raise Interrupted(f"{file.name}: the server stalled for {stall_timeout_s:g} s after {human_bytes(done)}"
                          f"; the part is kept: run the same command again to resume") from None
    except (http.client.IncompleteRead, ConnectionError) as exc:
        raise Interrupted(f"{file.name}: the connection dropped after {human_bytes(done)} ({type(exc).__name__})"
                          f"; the part is kept: run the same command again to resume") from None
    except BadInputError:
        _discard(part, part.with_name(part.name + ".json"))
        raise
    if total is not None and done < total:
        raise Interrupted(f"{file.name}: the connection closed after {human_bytes(done)} of {human_bytes(total)}"
                          f"; the part is kept: run the same command again to resume")


def _verified(dest: Path, file: RemoteFile, progress: ByteProgress | None) -> str:
    try:
        return verify(dest, file, progress)
    except BadInputError:
        dest.unlink(missing_ok=True)
        raise

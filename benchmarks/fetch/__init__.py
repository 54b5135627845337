"""Fetchers: download, verify and import a known public source into a named store.

:func:`fetch_source` is the Python API behind ``hpo2nas data fetch``. The order of work makes
every failure clean: the store name and the options are checked before any byte moves; files
download into ``$HPO2NAS_DATA/.downloads/<source>/`` (see :mod:`benchmarks.fetch._download`
for resume); each is checked against its pinned size and SHA-256, or, where a source publishes
none, its structure is checked by the importer and the SHA-256 seen goes into the manifest; the
store is written atomically by :func:`benchmarks.write_store`; and the downloads are deleted.
Only an interrupted transfer keeps its ``.part`` file, so that the same command resumes it.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from adapters.types import BadInputError
from benchmarks._store import check_store_name, data_root, write_store
from benchmarks.fetch._download import ByteProgress, Interrupted, RemoteFile, download, human_bytes, verify
from benchmarks.fetch._sources import SOURCES, FetchSource
from benchmarks.importers import Progress

__all__ = ["SOURCES", "FetchSource", "RemoteFile", "Interrupted", "fetch_source", "get_source", "describe", "human_bytes"]

#: Downloads live here under the data root (a dot folder: never listed as a store).
DOWNLOADS = ".downloads"


def get_source(name: str) -> FetchSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise BadInputError(f"unknown source {name!r}; sources are {', '.join(SOURCES)} (see data fetch --list)") from None


def describe(source: FetchSource) -> dict[str, object]:
    """What ``data fetch --list`` shows for one source."""
    return {
        "name": source.name,
        "title": source.title,
        "size": _size_text(source),
        "license": source.license,
        "url": source.files[0].url if not source.folder else source.files[0].url.rsplit("/", 1)[0] + "/",
        "files": [f.name for f in source.files],
        "checksums": source.pin_note or "pinned",
        "splits": source.splits,
        "fidelities": source.fidelities,
        "seeds": source.seeds,
    }


def _size_text(source: FetchSource) -> str:
    known = [f.size for f in source.files if f.size is not None]
    if not known:
        return "not published"
    text = f"{sum(known):,} bytes ({human_bytes(sum(known))})"
    unknown = len(source.files) - len(known)
    return text if not unknown else f"{text} plus {unknown} small file(s) of unpublished size"


def fetch_source(
    source: FetchSource | str,
    *,
    name: str | None = None,
    url: str | None = None,
    from_file: Path | None = None,
    root: Path | None = None,
    force: bool = False,
    options: Mapping[str, object] | None = None,
    download_progress: ByteProgress | None = None,
    import_progress: Progress | None = None,
    stall_timeout_s: float = 30.0,
) -> Path:
    """Download (or take ``from_file``), verify and import one source; return the store's path.

    Args:
        source: a name from :data:`SOURCES`, or an entry (tests build ones with their fixtures' pins).
        url: a mirror: the file's URL, or the folder of the files for a source with several.
        from_file: the file downloaded by hand (a folder of the files for a source with several);
            it gets the same checks and is never modified or deleted.
        options: importer options, limited to the source's ``options``.

    Raises:
        Interrupted: the transfer stopped part-way; the part is kept and a rerun resumes it.
        BadInputError: anything else, with nothing left behind.
    """
    from benchmarks.importers import get_importer  # pandas-heavy: only when importing

    source = get_source(source) if isinstance(source, str) else source
    name = check_store_name(name or source.name)
    root = Path(root or data_root())
    if (root / name).exists() and not force:
        raise BadInputError(f"store {name!r} already exists at {root / name}; pass --force to replace it")
    options = dict(options or {})
    unknown = sorted(set(options) - set(source.options))
    if unknown:
        allowed = ", ".join(source.options) or "none"
        raise BadInputError(f"source {source.name} does not take {', '.join(unknown)} (it takes: {allowed})")
    if url is not None and from_file is not None:
        raise BadInputError("give --url or --from-file, not both")
    importer = get_importer(source.format)

    if from_file is not None:
        path, seen = _local(source, Path(from_file), download_progress)
        workdir = None
    else:
        workdir = root / DOWNLOADS / source.name
        path, seen = _download_all(source, source.mirrored(url) if url else source.files, workdir,
                                   download_progress, stall_timeout_s)
    try:
        result = importer.read(path, progress=import_progress, **options)
        provenance = {
            "fetched_from": "local file (--from-file)" if from_file is not None else (url or "default URL"),
            "files": [
                {"name": f.name, "sha256": seen[f.name], "pinned": f.pinned,
                 "check": "pinned size and SHA-256" if f.pinned else "no published checksum: structure checked, SHA-256 seen"}
                for f in source.files
            ],
            "pin_note": source.pin_note,
        }
        store = write_store(name, {**result.source, "fetch": {"source": source.name, **provenance}},
                            result.datasets, root=root, force=force)
    except BaseException:
        _discard_downloads(workdir)  # verified but unimportable: nothing is kept
        raise
    _discard_downloads(workdir)
    return store


def _discard_downloads(workdir: Path | None) -> None:
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
        _remove_if_empty(workdir.parent)


def _local(source: FetchSource, path: Path, progress: ByteProgress | None) -> tuple[Path, dict[str, str]]:
    """Check a hand-downloaded file (or folder of files) in place; never modify it."""
    if source.folder:
        if not path.is_dir():
            names = ", ".join(f.name for f in source.files)
            raise BadInputError(f"--from-file for {source.name} is the folder holding {names}; {path} is not a folder")
        files = {f.name: path / f.name for f in source.files}
    else:
        if not path.is_file():
            raise BadInputError(f"--from-file: no such file: {path}")
        files = {source.files[0].name: path}
    seen = {}
    for remote in source.files:
        file = files[remote.name]
        if not file.is_file():
            raise BadInputError(f"--from-file: {file} is missing")
        seen[remote.name] = verify(file, remote, progress)
    return path, seen


def _download_all(
    source: FetchSource, files: tuple[RemoteFile, ...], workdir: Path, progress: ByteProgress | None,
    stall_timeout_s: float,
) -> tuple[Path, dict[str, str]]:
    """Download every file of a source into ``workdir``; keep it only if a transfer was interrupted."""
    workdir.mkdir(parents=True, exist_ok=True)
    seen = {}
    try:
        for remote in files:
            dest = workdir / remote.name
            if dest.exists():
                # A whole file from an earlier, interrupted run: it was verified when it completed.
                seen[remote.name] = verify(dest, remote, progress)
                continue
            seen[remote.name] = download(remote, remote.url, dest, progress=progress,
                                         stall_timeout_s=stall_timeout_s, html_hint=source.html_hint)
    except (Interrupted, KeyboardInterrupt):
        raise  # the part is kept: the same command resumes it
    except BaseException:
        _discard_downloads(workdir)
        raise
    return (workdir if source.folder else workdir / files[0].name), seen


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass

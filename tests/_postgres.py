"""A throwaway PostgreSQL cluster from Debian's postgresql package, for tests and perf scripts.

initdb refuses root, so as root the server runs as ``nobody``; it listens only on a unix
socket in a temporary folder, and the folder is removed when the context ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl, or None when the server is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def throwaway_postgres(bindir: Path) -> Iterator[str]:
    """Start a cluster; yield its URL in the form the docs show (plain ``postgresql://``, unix socket); stop
    and remove it. The plain form is the one users write; SQLAlchemy alone would map it to psycopg 3."""
    root = Path(tempfile.mkdtemp(prefix="hpo2nas-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        shutil.chown(sock, "nobody")
        root.chmod(0o755)
        as_user = ["runuser", "-u", "nobody", "--"]
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start",
                        "-o", f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=60"],
                       check=True, capture_output=True)
        yield f"postgresql://postgres@/postgres?host={sock}"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

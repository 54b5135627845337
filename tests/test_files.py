"""The one atomic-write helper, temporary folders, folder locks and the declared-schema checker (issues 21, 23)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from adapters.errors import BadInputError
from adapters.files import (
    TEMP_MARK, atomic_write, atomic_write_bytes, atomic_write_json, owned_temp_dir, replace_folder, sweep_orphans,
)
from adapters.schema import Int, ListOf, Num, Obj, OneOf, Row, Str, check, read_json
from harness.running.run_folder import run_lock


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    """An error inside the writer leaves the earlier file byte for byte and no temporary sibling."""
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})
    before = target.read_bytes()

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text('{"v": 2')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_atomic_write_honours_the_umask_and_importing_changes_no_process_state():
    """Files get 0666 minus the umask; importing the writers leaves the umask as it was (no flip at import)."""
    code = (
        "import os, sys, tempfile, pathlib\n"
        "os.umask(0o027)\n"
        "import adapters.files, harness.running.folders, harness.running.run_folder, benchmarks._store\n"
        "assert os.umask(0o027) == 0o027, 'an import changed the umask'\n"
        "p = pathlib.Path(tempfile.mkdtemp()) / 'f'\n"
        "adapters.files.atomic_write_bytes(p, b'x')\n"
        "print(oct(p.stat().st_mode & 0o777))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0o640"


def test_replace_folder_keeps_the_old_folder_until_the_new_one_is_in_place(tmp_path):
    """A swap that cannot complete puts the old folder back; a swap that does leaves only the new one."""
    target, staging = tmp_path / "run", tmp_path / ".staging"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(FileNotFoundError):
        replace_folder(staging, target)  # the new folder is missing: the rename in fails
    assert (target / "old.txt").read_text() == "old"
    staging.mkdir()
    atomic_write_bytes(staging / "new.txt", b"new")
    replace_folder(staging, target)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_owned_temp_dirs_are_removed_and_orphans_swept():
    """A folder is removed when its block raises; a dead owner's folder is swept, a live owner's is kept."""
    prefix = f"hpo2nas-test-{os.getpid()}-sweep-"
    with pytest.raises(RuntimeError), owned_temp_dir(prefix) as path:
        (path / "x").write_text("x")
        raise RuntimeError
    assert not path.exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = Path(tempfile.mkdtemp(prefix=f"{prefix}{dead.stdout.strip()}-"))
    alive = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    try:
        assert sweep_orphans(prefix) == [orphan]
        assert not orphan.exists() and alive.exists()
    finally:
        alive.rmdir()


def test_a_second_lock_holder_is_refused_and_a_refused_lock_leaves_nothing(tmp_path):
    """Two holders of one folder: the second is refused in one line; a lock file made by a refused block is removed."""
    with run_lock(tmp_path, holder="compare"):
        with pytest.raises(BadInputError, match=r"in use by another hpo2nas compare \(pid \d+\)"):
            with run_lock(tmp_path, holder="compare"):
                pass
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with pytest.raises(BadInputError, match="refused"):
        with run_lock(fresh):
            raise BadInputError("refused")
    assert list(fresh.iterdir()) == []


CONFIG = Obj({"seed": Int(min=0), "kind": OneOf(("a", "b")), "rate": Num(min=0, finite=True),
              "rows": ListOf(Row((("index", Int()), ("name", Str()))))}, optional={"note": Str()})


@pytest.mark.parametrize(("body", "field"), [
    ([1], r"field \(top\): must be an object"),
    ({"kind": "a", "rate": 1, "rows": []}, "field seed: is missing"),
    ({"seed": True, "kind": "a", "rate": 1, "rows": []}, "field seed: must be a whole number"),
    ({"seed": 1, "kind": "c", "rate": 1, "rows": []}, "field kind: must be one of 'a', 'b'"),
    ({"seed": 1, "kind": "a", "rate": float("nan"), "rows": []}, "field rate: must be a number, got NaN"),
    ({"seed": 1, "kind": "a", "rate": float("inf"), "rows": []}, "field rate: must be finite"),
    ({"seed": 1, "kind": "a", "rate": 1, "rows": [(1, 2)]}, r"field rows\[0\]\.name: must be a string"),
    ({"seed": 1, "kind": "a", "rate": 1, "rows": [(1,)]}, r"field rows\[0\]: must be a row of 2 values"),
    ({"seed": 1, "kind": "a", "rate": 1, "rows": [], "colour": 1}, "field colour: is not a known field"),
])
def test_schema_refusals_name_the_file_and_the_field(body, field):
    """Each kind of violation is one BadInputError line that names the file and the field."""
    with pytest.raises(BadInputError, match=f"^corrupt cfg.json: {field}"):
        check(body, CONFIG, "cfg.json")
    check({"seed": 0, "kind": "b", "rate": 0.5, "rows": [[1, "x"]], "note": "n"}, CONFIG, "cfg.json")


def test_read_json_words_every_unreadable_file(tmp_path):
    """Non-UTF-8 bytes, broken JSON and a folder are each one line naming the file."""
    path = tmp_path / "f.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(BadInputError, match="f.json: not UTF-8 text"):
        read_json(path, CONFIG)
    path.write_text('{"seed": ')
    with pytest.raises(BadInputError, match="f.json: not JSON"):
        read_json(path, CONFIG)
    with pytest.raises(BadInputError, match="a folder, not a file"):
        read_json(tmp_path, CONFIG)


def test_temporary_names_are_marked(tmp_path):
    """Temporary siblings carry TEMP_MARK, so a test (or a person) can tell a leftover at a glance."""
    seen = []
    atomic_write(tmp_path / "x", lambda tmp: seen.append(tmp.name) or tmp.write_text("x"))
    assert TEMP_MARK in seen[0] and seen[0].startswith(".x")

"""Rewrite the results tables in README.md and docs/*.md from the compare runs that produce them.

A results table in the docs must come from a run the docs name, so that it can be regenerated
instead of drifting from what the code gives. Each such table sits between two markers that name
its command and the table of that command's report it copies::

    <!-- results id="paper-nb201" command="hpo2nas compare experiments/nb201_paper.toml --profile paper" table="The papers' table" columns="method;runs;cifar10-valid_x-valid" -->
    (generated: a line naming the command, then the table)
    <!-- /results -->

``table`` is a heading of the report (``A > B``: heading B after heading A, for a heading that
recurs per dataset); the table is the first one after it. ``columns`` (``;``-separated, in the
order wanted) and ``rows`` (first-column values, in the order wanted) optionally cut it down.
Every marker opens on one line. Usage::

    .venv/bin/python scripts/docs_results.py                       # rerun every table's command
    .venv/bin/python scripts/docs_results.py --table paper-nb201   # one table (its command only)
    .venv/bin/python scripts/docs_results.py --from results/nb201_paper/paper   # no rerun: read a folder
    make docs-results [TABLE=ID] [FROM=RESULTS_DIR]

``--from`` reads an existing compare output folder (its report.md) instead of rerunning, and
rewrites every selected table whose command is that report's spec and profile; a folder of
another spec or profile is refused, so a table never shows numbers of a run it does not name.
Bad input is one line on stderr and exit code 2; each document is written atomically.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.errors import BadInputError
from adapters.files import atomic_write_text
from harness.running.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
OPEN = re.compile(r"^<!-- results (?P<attrs>.*?) -->\s*$")
CLOSE = "<!-- /results -->"
ATTR = re.compile(r'(\w+)="([^"]*)"')
REPORT_TITLE = re.compile(r"^# hpo2nas report: (?P<spec>.+) \(profile (?P<profile>[^)]+)\)\s*$")
CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Marker:
    """One results table of a document: where it is and what regenerates it."""

    doc: Path
    id: str
    command: str
    table: str
    columns: tuple[str, ...]
    rows: tuple[str, ...]

    def run(self) -> CompareRun:
        return CompareRun.parse(self.command, f"{self.doc.name}: table {self.id!r}")


@dataclass(frozen=True)
class CompareRun:
    """``hpo2nas compare SPEC [--profile P] [--out DIR] [--skip LABEL ...]``: the one command a table may name."""

    argv: tuple[str, ...]
    spec: Path
    profile: str
    out: Path | None

    @classmethod
    def parse(cls, command: str, where: str) -> CompareRun:
        argv = tuple(shlex.split(command))
        if argv[:2] != ("hpo2nas", "compare") or len(argv) < 3:
            raise BadInputError(f"{where}: command must be 'hpo2nas compare SPEC ...', got {command!r}")
        pairs = list(zip(argv[3::2], argv[4::2]))
        if len(argv[3:]) % 2 or any(flag not in ("--profile", "--out", "--skip") for flag, _ in pairs):
            raise BadInputError(f"{where}: command may add only --profile, --out and --skip, got {command!r}")
        options = dict(pairs)
        out = options.get("--out")
        return cls(argv, Path(argv[2]), options.get("--profile", "quick"), Path(out) if out else None)

    def output(self, root: Path) -> Path:
        """The folder the command writes (compare's default: the spec's output/PROFILE)."""
        if self.out is not None:
            return root / self.out
        return root / load_spec(root / self.spec).output / self.profile

    def key(self, root: Path) -> tuple[str, str]:
        """(spec name, profile): what the report's title must say."""
        return load_spec(root / self.spec).name, self.profile


def find_markers(doc: Path) -> list[Marker]:
    """Every results marker of one Markdown file, each checked for its attributes and its end."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    markers = []
    for number, line in enumerate(lines, 1):
        match = OPEN.match(line)
        if not match:
            continue
        attrs = dict(ATTR.findall(match["attrs"]))
        where = f"{doc.name}:{number}"
        missing = [key for key in ("id", "command", "table") if key not in attrs]
        if missing:
            raise BadInputError(f"{where}: results marker lacks {', '.join(missing)}")
        if CLOSE not in lines[number:]:
            raise BadInputError(f"{where}: results marker {attrs['id']!r} has no {CLOSE}")
        split = lambda text: tuple(part.strip() for part in text.split(";") if part.strip())
        markers.append(Marker(doc, attrs["id"], attrs["command"], attrs["table"],
                              split(attrs.get("columns", "")), split(attrs.get("rows", ""))))
    return markers


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in CELL_SPLIT.split(line.strip())[1:-1]]


def report_table(report: Path, heading: str) -> tuple[list[str], list[list[str]]]:
    """The first table after ``heading`` (``A > B``: heading B after heading A) in a report.md."""
    lines = report.read_text(encoding="utf-8").splitlines()
    position = 0
    for part in (p.strip() for p in heading.split(">")):
        position = next((i for i in range(position, len(lines))
                         if lines[i].startswith("#") and lines[i].lstrip("#").strip() == part), None)
        if position is None:
            raise BadInputError(f"{report}: no heading {part!r} (looking for table {heading!r})")
    start = next((i for i in range(position, len(lines)) if lines[i].startswith("|")), None)
    if start is None or any(lines[i].startswith("#") for i in range(position + 1, start)):
        raise BadInputError(f"{report}: no table under heading {heading!r}")
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    headers, body = _cells(lines[start]), [_cells(line) for line in lines[start + 2:end]]
    return headers, body


def render(marker: Marker, report: Path) -> str:
    """The Markdown between the markers: the line naming the command, then the (cut) table."""
    headers, rows = report_table(report, marker.table)
    if marker.columns:
        absent = [c for c in marker.columns if c not in headers]
        if absent:
            raise BadInputError(f"{marker.doc.name}: table {marker.id!r}: report table {marker.table!r} "
                                f"has no column {absent[0]!r}; it has: {'; '.join(headers)}")
        picks = [headers.index(c) for c in marker.columns]
        headers, rows = [headers[i] for i in picks], [[row[i] for i in picks] for row in rows]
    if marker.rows:
        by_name = {row[0]: row for row in rows}
        absent = [r for r in marker.rows if r not in by_name]
        if absent:
            raise BadInputError(f"{marker.doc.name}: table {marker.id!r}: report table {marker.table!r} "
                                f"has no row {absent[0]!r}")
        rows = [by_name[r] for r in marker.rows]
    # Cells keep the report's own escaping (a literal | is already \|).
    table = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    caption = (f"*Regenerate: `{marker.command}`, then `make docs-results TABLE={marker.id}` "
               f"(copies its report's table \"{marker.table}\").*")
    return "\n".join([caption, "", *table])


def rewrite(doc: Path, tables: dict[str, str]) -> int:
    """Replace the body of each named marker of ``doc``; the file is written once, atomically."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out, index, changed = [], 0, 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        match = OPEN.match(line)
        index += 1
        if not match:
            continue
        marker_id = dict(ATTR.findall(match["attrs"])).get("id")
        if marker_id not in tables:
            continue
        end = lines.index(CLOSE, index)
        out += tables[marker_id].splitlines()
        out.append(CLOSE)
        index = end + 1
        changed += 1
    atomic_write_text(doc, "\n".join(out) + "\n")
    return changed


def documents(root: Path) -> list[Path]:
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.is_file()]


def _hpo2nas() -> str:
    beside = Path(sys.executable).parent / "hpo2nas"
    found = str(beside) if beside.exists() else shutil.which("hpo2nas")
    if not found:
        raise BadInputError("no hpo2nas command found: run `make install` first")
    return found


def report_key(folder: Path) -> tuple[str, str]:
    """(spec name, profile) a compare output folder's report.md was written for."""
    report = folder / "report.md"
    if not report.is_file():
        raise BadInputError(f"{folder} is not a compare output folder: report.md is missing")
    first = report.read_text(encoding="utf-8").splitlines()[:1]
    match = REPORT_TITLE.match(first[0]) if first else None
    if not match:
        raise BadInputError(f"{report}: not an hpo2nas report (its first line names no spec and profile)")
    return match["spec"], match["profile"]


def regenerate(root: Path, table_ids: Sequence[str], source: Path | None) -> list[str]:
    """Rewrite the selected tables (all where none named); returns one line per table rewritten."""
    markers = [m for doc in documents(root) for m in find_markers(doc)]
    known = {m.id for m in markers}
    unknown = [t for t in table_ids if t not in known]
    if unknown:
        raise BadInputError(f"no results table {unknown[0]!r}; tables: {', '.join(sorted(known)) or 'none'}")
    chosen = [m for m in markers if not table_ids or m.id in table_ids]
    if source is not None:
        spec, profile = report_key(source)
        fits = [m for m in chosen if m.run().key(root) == (spec, profile)]
        if not fits:
            wanted = "; ".join(sorted({m.command for m in chosen})) or "none"
            raise BadInputError(f"{source} holds spec {spec} profile {profile}; the selected tables need: {wanted}")
        folders = {m.id: source for m in fits}
        chosen = fits
    else:
        folders = {}
        for command in dict.fromkeys(m.command for m in chosen):
            run = CompareRun.parse(command, "command")
            subprocess.run([_hpo2nas(), *run.argv[1:]], cwd=root, check=True)
            for m in chosen:
                if m.command == command:
                    folders[m.id] = run.output(root)
    done = []
    for doc in dict.fromkeys(m.doc for m in chosen):
        mine = [m for m in chosen if m.doc == doc]
        tables = {m.id: render(m, folders[m.id] / "report.md") for m in mine}
        rewrite(doc, tables)
        done += [f"{doc.relative_to(root)}: {m.id} <- {folders[m.id] / 'report.md'}" for m in mine]
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--table", action="append", default=[], metavar="ID",
                        help="rewrite only this table (repeatable); default: every table")
    parser.add_argument("--from", dest="source", type=Path, metavar="RESULTS_DIR",
                        help="read this compare output folder instead of rerunning the command")
    parser.add_argument("--root", type=Path, default=REPO, help="the repository whose docs to rewrite")
    parser.add_argument("--list", action="store_true", help="check and list every results table and its command")
    args = parser.parse_args(argv)
    try:
        if args.list:
            for doc in documents(args.root):
                for m in find_markers(doc):
                    m.run().key(args.root)  # the command parses and names a spec that loads
                    print(f"{m.id}\t{doc.relative_to(args.root)}\t{m.command}")
            return 0
        for line in regenerate(args.root.resolve(), args.table, args.source):
            print(line)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {shlex.join(exc.cmd)} failed with exit code {exc.returncode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

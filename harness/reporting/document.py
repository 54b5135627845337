"""A tiny document model, rendered to Markdown, to HTML and (tables) to LaTeX from the same blocks.

The report builds its content once as blocks, so report.md, report.html and the LaTeX tables
can never disagree on a number; no Markdown library is needed to produce the HTML.

report.html is self-contained: every figure is embedded as a base64 PNG (the file alone
keeps its figures when mailed or archived), and each figure and table links to its vector
(PDF) or LaTeX twin beside it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Heading", "Paragraph", "Bullets", "Table", "Image", "Block", "to_markdown", "to_html", "to_latex"]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Plain text; `backticks` mark code in both renderings."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table; with a ``latex`` file name, the report also writes it there as a LaTeX table (:func:`to_latex`)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    latex: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A figure beside the report, referenced by its file name (a PNG; a PDF of the same stem may sit beside it).

    ``alt`` describes the image for readers who cannot see it; it is also the caption.
    """

    path: str
    alt: str


Block = Heading | Paragraph | Bullets | Table | Image

_CODE = re.compile(r"`([^`]+)`")


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _vector(path: str, folder: Path | None) -> str:
    """The PDF twin's file name, where it exists (none without a folder to look in)."""
    pdf = Path(path).with_suffix(".pdf").name
    return pdf if folder is not None and (folder / pdf).is_file() else ""


def _markdown_block(block: Block, folder: Path | None) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_md_cell(h) for h in block.headers) + " |"]
        lines.append("|" + "---|" * len(block.headers))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        if block.latex:
            lines.append(f"\nLaTeX: [{block.latex}]({block.latex})")
        return "\n".join(lines)
    pdf = _vector(block.path, folder)
    return f"![{block.alt}]({block.path})" + (f"\n\nVector: [{pdf}]({pdf})" if pdf else "")


def to_markdown(blocks: Iterable[Block], folder: Path | None = None) -> str:
    """Markdown that links the figures (and, when ``folder`` holds them, their PDF twins)."""
    return "\n\n".join(_markdown_block(b, folder) for b in blocks) + "\n"


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def _image_source(path: str, folder: Path | None) -> str:
    """A data URI of the PNG in ``folder`` (the HTML needs nothing beside it), else the plain link."""
    if folder is not None and (folder / path).is_file():
        return "data:image/png;base64," + base64.b64encode((folder / path).read_bytes()).decode("ascii")
    return html.escape(path)


def _html_block(block: Block, folder: Path | None) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{_inline(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{_inline(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{_inline(h)}</th>" for h in block.headers)
        body = "\n".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        latex = (f'<p class="files">LaTeX: <a href="{html.escape(block.latex)}">{html.escape(block.latex)}</a></p>'
                 if block.latex else "")
        return (f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n'
                f"</table></div>{latex}")
    pdf = _vector(block.path, folder)
    link = f' <a href="{html.escape(pdf)}">PDF</a>' if pdf else ""
    return (f'<figure><img src="{_image_source(block.path, folder)}" alt="{html.escape(block.alt)}">'
            f"<figcaption>{_inline(block.alt)}.{link}</figcaption></figure>")


_STYLE = """
:root{--ink:#1d1d1f;--muted:#5a5a60;--rule:#d8d8dc;--band:#f5f5f7}
html{font-size:16px}
body{font-family:"Source Sans Pro","Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);max-width:62rem;
margin:2.5rem auto;padding:0 1.25rem;line-height:1.55}
h1{font-size:1.7rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.35rem;margin:2.5rem 0 .75rem;padding-bottom:.3rem;border-bottom:2px solid var(--rule)}
h3{font-size:1.1rem;margin:2rem 0 .5rem}
p,li{max-width:48rem}
ul{padding-left:1.25rem}
code{font-family:"Source Code Pro",Menlo,Consolas,monospace;font-size:.88em;background:var(--band);
padding:.05rem .3rem;border-radius:3px;overflow-wrap:anywhere}
.table{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .65rem;text-align:left;border-bottom:1px solid var(--rule);vertical-align:top}
td:not(:first-child){white-space:nowrap}
thead th{border-bottom:2px solid var(--ink);font-weight:600}
tbody tr:nth-child(even){background:var(--band)}
figure{margin:1.5rem 0;text-align:center}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption,.files{font-size:.88rem;color:var(--muted);margin-top:.4rem}
figcaption{max-width:48rem;margin-left:auto;margin-right:auto}
a{color:#0b5cad}
"""


def to_html(blocks: Iterable[Block], title: str, folder: Path | None = None) -> str:
    """A self-contained page: the PNGs found in ``folder`` are embedded, PDFs and LaTeX files linked."""
    body = "\n".join(_html_block(b, folder) for b in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "−": r"$-$",
    "²": r"$^2$", "—": "---", "–": "--", "≤": r"$\le$", "≥": r"$\ge$", "<": r"$<$", ">": r"$>$",
}


def _latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in _CODE.sub(r"\1", text))


def to_latex(table: Table) -> str:
    """A booktabs table (``\\usepackage{booktabs}``): first column left, the rest right-aligned."""
    spec = "l" + "r" * (len(table.headers) - 1)
    lines = [r"\begin{table}[t]", r"\centering", r"\small"]
    if table.caption:
        lines.append(rf"\caption{{{_latex(table.caption)}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(_latex(h) for h in table.headers) + r" \\",
              r"\midrule"]
    lines += [" & ".join(_latex(c) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"

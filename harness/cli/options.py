"""Typer options whose ranges come from the one bounds table (``adapters.bounds``).

Shared by every CLI module, so each bounded option is checked at parse time, before any
work, and its ``--help`` states the range.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from adapters.bounds import check, help_text
from adapters.types import BadInputError

__all__ = ["bounded", "bounded_list"]


def _checker(name: str, flag: str) -> Callable[[object], object]:
    def callback(value: object) -> object:
        return value if value is None else check(name, value, flag)
    callback.bound = name  # type: ignore[attr-defined]  # lets a test find every bounded option
    return callback


def bounded(default: object, flag: str, name: str, text: str) -> object:
    """A typer option checked against ``BOUNDS[name]`` (None: not given), its range in ``--help``."""
    return typer.Option(default, flag, help=help_text(name, text), callback=_checker(name, flag))


def bounded_list(text: str, flag: str, name: str, most: int | None = None) -> list[int]:
    """Comma-separated whole numbers (``--fit 20,100``), each checked against ``BOUNDS[name]``.

    ``most`` bounds how many there may be (each is a separate analysis run).
    """
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or "" in parts:
        raise BadInputError(f"{flag} {text!r}: expected comma-separated whole numbers, e.g. 20,100")
    if most is not None and len(parts) > most:
        raise BadInputError(f"{flag} {text!r}: at most {most} values")
    return [int(check(name, part, flag)) for part in parts]

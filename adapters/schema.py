"""Declared schemas for the files hpo2nas reads back, and the one check that applies them.

Every file the project writes and later reads (run.json, the checkpoint journal's frames,
a store's manifest, a zero-cost checkpoint) is checked on read against a schema declared
beside its owner, so a hand-edited, truncated or foreign file is refused with one line that
names the file and the field, never a ``KeyError`` or ``TypeError`` from deep inside.

A schema is plain data built from a few node types (hand-written: smaller than a model
class per file, and it reads the same in every layer)::

    >>> RUN = Obj({"seed": Int(min=0), "label": Str()}, optional={"note": Str()})
    >>> check({"seed": -1, "label": "re"}, RUN, "run.json")
    Traceback (most recent call last):
    ...
    adapters.errors.BadInputError: corrupt run.json: field seed: must be at least 0, got -1
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.errors import BadInputError

__all__ = [
    "Node", "Anything", "Bool", "Int", "Num", "Str", "OneOf", "Nullable", "ListOf", "Row", "MapOf", "Obj",
    "SchemaError", "check", "validate", "read_json",
]


class SchemaError(ValueError):
    """A value that breaks its schema: ``field`` is the dotted path to it, ``message`` what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field or '(top)'}: {message}")
        self.field = field
        self.message = message


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(where: str, key: object) -> str:
    return f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{key}" if where else str(key))


class Node:
    """One schema node: :meth:`validate` raises :class:`SchemaError` or returns None."""

    def validate(self, value: Any, where: str) -> None:  # pragma: no cover - every node overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class Anything(Node):
    """Any JSON value (free-form fields such as a library's settings)."""

    def validate(self, value: Any, where: str) -> None:
        return None


@dataclass(frozen=True)
class Bool(Node):
    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, bool):
            raise SchemaError(where, f"must be true or false, got {_shown(value)}")


@dataclass(frozen=True)
class Int(Node):
    """A whole number (not a bool) in [min, max]."""

    min: int | None = None
    max: int | None = None

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise SchemaError(where, f"must be a whole number, got {_shown(value)}")
        _bounds(value, self.min, self.max, where)


@dataclass(frozen=True)
class Num(Node):
    """A real number (int or float, not a bool) in [min, max]; NaN only where ``nan`` says so."""

    min: float | None = None
    max: float | None = None
    nan: bool = False
    finite: bool = False

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SchemaError(where, f"must be a number, got {_shown(value)}")
        if math.isnan(value):
            if not self.nan:
                raise SchemaError(where, "must be a number, got NaN")
            return
        if self.finite and math.isinf(value):
            raise SchemaError(where, f"must be finite, got {value}")
        _bounds(value, self.min, self.max, where)


def _bounds(value: float, low: float | None, high: float | None, where: str) -> None:
    if low is not None and value < low:
        raise SchemaError(where, f"must be at least {low}, got {_shown(value)}")
    if high is not None and value > high:
        raise SchemaError(where, f"must be at most {high}, got {_shown(value)}")


@dataclass(frozen=True)
class Str(Node):
    """A string; non-empty unless ``empty``."""

    empty: bool = False

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise SchemaError(where, f"must be a string, got {_shown(value)}")
        if not value and not self.empty:
            raise SchemaError(where, "must not be empty")


@dataclass(frozen=True)
class OneOf(Node):
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def validate(self, value: Any, where: str) -> None:
        if isinstance(value, bool) or value not in self.values:
            raise SchemaError(where, f"must be one of {', '.join(map(repr, self.values))}, got {_shown(value)}")


@dataclass(frozen=True)
class Nullable(Node):
    """``None`` (JSON null) or the inner node."""

    inner: Node

    def validate(self, value: Any, where: str) -> None:
        if value is not None:
            self.inner.validate(value, where)


@dataclass(frozen=True)
class ListOf(Node):
    """A list (or tuple) of items of one node, with at least ``min_len`` items."""

    item: Node
    min_len: int = 0

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, (list, tuple)):
            raise SchemaError(where, f"must be a list, got {_shown(value)}")
        if len(value) < self.min_len:
            raise SchemaError(where, f"must have at least {self.min_len} items, got {len(value)}")
        for i, item in enumerate(value):
            self.item.validate(item, _join(where, i))


@dataclass(frozen=True)
class Row(Node):
    """A fixed-length list or tuple: one node per position, named for the messages."""

    columns: tuple[tuple[str, Node], ...]

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, (list, tuple)):
            raise SchemaError(where, f"must be a row of {len(self.columns)} values, got {_shown(value)}")
        if len(value) != len(self.columns):
            raise SchemaError(where, f"must be a row of {len(self.columns)} values, got {len(value)}")
        for (name, node), item in zip(self.columns, value):
            node.validate(item, _join(where, name))


@dataclass(frozen=True)
class MapOf(Node):
    """An object with string keys and values of one node."""

    value: Node

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise SchemaError(where, f"must be an object, got {_shown(value)}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise SchemaError(where, f"keys must be strings, got {_shown(key)}")
            self.value.validate(item, _join(where, key))


@dataclass(frozen=True)
class Obj(Node):
    """An object with ``required`` and ``optional`` keys; other keys are refused unless ``extra``.

    ``rule`` checks the object as a whole once its fields passed (a relation between fields);
    it returns None or ``(field, message)``.
    """

    required: Mapping[str, Node]
    optional: Mapping[str, Node] = field(default_factory=dict)
    extra: bool = False
    rule: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise SchemaError(where, f"must be an object, got {_shown(value)}")
        for key, node in self.required.items():
            if key not in value:
                raise SchemaError(_join(where, key), "is missing")
            node.validate(value[key], _join(where, key))
        for key, node in self.optional.items():
            if key in value:
                node.validate(value[key], _join(where, key))
        if not self.extra:
            unknown = sorted(str(k) for k in value if k not in self.required and k not in self.optional)
            if unknown:
                raise SchemaError(_join(where, unknown[0]), "is not a known field")
        if self.rule is not None:
            broken = self.rule(value)
            if broken is not None:
                raise SchemaError(_join(where, broken[0]), broken[1])


def validate(value: Any, schema: Node, where: str = "") -> None:
    """Raise :class:`SchemaError` if ``value`` breaks ``schema``."""
    schema.validate(value, where)


def check(value: Any, schema: Node, file: Path | str, where: str = "") -> Any:
    """Return ``value`` if it fits ``schema``, else raise one BadInputError line naming ``file`` and the field."""
    try:
        schema.validate(value, where)
    except SchemaError as exc:
        raise BadInputError(f"corrupt {file}: {exc}") from None
    return value


def read_json(path: Path, schema: Node) -> Any:
    """Read a JSON file written by hpo2nas and check it against ``schema``; one line for any fault.

    Non-UTF-8 bytes, invalid JSON and a schema violation all become a BadInputError naming
    the file (and the field); a missing file stays FileNotFoundError for the caller to word.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        body = json.loads(text)
    except UnicodeDecodeError as exc:
        raise BadInputError(f"corrupt {path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"corrupt {path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except IsADirectoryError:
        raise BadInputError(f"corrupt {path}: a folder, not a file") from None
    return check(body, schema, path)


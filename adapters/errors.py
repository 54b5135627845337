"""The one error type every layer raises for input a user can fix (bottom layer: imports nothing)."""

from __future__ import annotations

__all__ = ["BadInputError"]


class BadInputError(ValueError):
    """Input a user can fix. The CLI prints its message on one line and exits with code 2."""

"""What every layer raises or warns about input a user can fix (bottom layer: imports nothing)."""

from __future__ import annotations

__all__ = ["BadInputError", "RunCaveat"]


class BadInputError(ValueError):
    """Input a user can fix. The CLI prints its message on one line and exits with code 2."""


class RunCaveat(UserWarning):
    """A run goes ahead with less than its options suggest (e.g. fewer zero-cost proxies).

    Warned once at set-up, so ``hpo2nas run`` can show it on the progress line; the
    optimizer also records it in its notes (run.json). Its message is one short line.
    """

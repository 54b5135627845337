"""Shared option handling for optimizer adapters (keyword-only, validated at once)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.types import BadInputError

__all__ = ["OptimizerBase", "Promotions", "coerce_option", "nearest_fidelity", "quiet", "rounding_note"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce_option(owner: str, key: str, value: Any, default: Any) -> Any:
    """Turn a ``--set key=value`` string into the default's type, or explain why not."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            low = value.lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(value)
            return low in _TRUE
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise BadInputError(f"{owner}: option {key}={value!r} must be a {type(default).__name__}") from None
    return None if value.lower() == "none" else value


def nearest_fidelity(axis: Sequence[int], budget: float) -> int:
    """The fidelity on the axis closest to a library's budget (the lower one on a tie).

    SMAC and DEHB space budgets geometrically (200/81 = 2.47, 7.41, ...), but the table has
    results only at the axis values, so a budget is evaluated at the nearest one.
    """
    return min(axis, key=lambda value: (abs(value - budget), value))


def rounding_note(library: str, budgets: Iterable[float], axis: Sequence[int]) -> str:
    """A note for the run record: which fidelity each of the library's budgets ran at."""
    pairs = ", ".join(f"{budget:.3g} -> {nearest_fidelity(axis, budget)}" for budget in budgets)
    return f"{library} budgets run at the nearest fidelity on the axis: {pairs}"


class Promotions:
    """Recognises a library re-asking a configuration at a higher budget than it first asked.

    The library's own budgets are compared, not the rounded fidelities: two budgets that
    round to the same axis value are still a promotion in the library's bracket.
    """

    def __init__(self) -> None:
        self._first: dict[Hashable, float] = {}

    def is_promotion(self, key: Hashable, budget: float) -> bool:
        return budget > self._first.setdefault(key, budget)


@contextlib.contextmanager
def quiet(logger_name: str | None = None) -> Iterator[None]:
    """Silence a library for one call: its stdlib logger below ERROR, and DeprecationWarnings.

    The CLI draws a progress bar that a line per trial would break, and neither kind of
    message is actionable for a user (DEHB 0.1.2 calls ConfigSpace methods deprecated in 1.x).
    """
    logger = logging.getLogger(logger_name) if logger_name else None
    level = logger.level if logger else logging.NOTSET
    if logger:
        logger.setLevel(max(level, logging.ERROR))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        if logger:
            logger.setLevel(level)


class OptimizerBase:
    """Base for the shipped adapters: validated options, no-op hooks.

    Subclasses set ``name``, ``multi_fidelity``, ``multi_objective`` and ``defaults`` and
    implement ``setup``/``ask``/``tell``; ``self.options`` holds every setting.
    """

    name: ClassVar[str] = ""
    multi_fidelity: ClassVar[bool] = False
    multi_objective: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            allowed = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items()) or "none"
            raise BadInputError(f"{self.name}: unknown option {', '.join(unknown)}; options are {allowed}")
        self.options = {
            key: coerce_option(self.name, key, options.get(key, default), default)
            for key, default in self.defaults.items()
        }
        self.validate()

    def validate(self) -> None:
        """Check option values; raise BadInputError naming the bad one."""

    def setup(self, problem: SearchProblem) -> None:
        self.problem = problem

    def ask(self) -> Suggestion:
        raise NotImplementedError

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        raise NotImplementedError

    def report(self, suggestion: Suggestion, fidelity: int, valid_acc: float) -> bool:
        return False

    def close(self) -> None:
        """After the last tell: write what the library keeps on disk. Nothing by default."""

    def library_dir(self) -> Path:
        """Where the library writes its own files: the problem's workdir, else a temporary folder.

        SMAC and DEHB insist on writing somewhere; the temporary folder goes with this object.
        """
        if self.problem.workdir is not None:
            return Path(self.problem.workdir)
        if not hasattr(self, "_tmpdir"):
            self._tmpdir = tempfile.TemporaryDirectory(prefix=f"hpo2nas-{self.name}-")
        return Path(self._tmpdir.name)

    def settings(self) -> dict[str, Any]:
        return dict(self.options)

    def notes(self) -> list[str]:
        return []

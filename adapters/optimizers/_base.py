"""Shared option handling for optimizer adapters (keyword-only, validated at once)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Union

from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.types import BadInputError, finite_float

__all__ = [
    "Between", "Limit", "OptimizerBase", "Promotions", "check_limits", "coerce_option", "nearest_fidelity", "quiet",
    "rounding_note",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce_option(owner: str, key: str, value: Any, default: Any) -> Any:
    """Turn a ``--set key=value`` string (or a spec's TOML value) into the default's type, or explain why not.

    Floats must be finite: ``float()`` accepts "nan", "inf" and "1e309", and a NaN passes
    every range check because it compares false with any bound.
    """
    where = f"{owner}: option {key}={value!r}"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise BadInputError(f"{where} must be true or false")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            if isinstance(value, str):
                return int(value)
        except ValueError:
            pass
        raise BadInputError(f"{where} must be an integer")
    if isinstance(default, float):
        return finite_float(value, f"{owner}: option {key}")
    if isinstance(default, str) and not isinstance(value, str):
        raise BadInputError(f"{where} must be text")
    if isinstance(value, str) and default is None and value.lower() == "none":
        return None
    return value


@dataclass(frozen=True)
class Between:
    """The allowed range of a numeric option: inclusive bounds, ``None`` for an unbounded side.

    ``low_open``/``high_open`` exclude the bound itself (DE's mutation factor must be above 0,
    an EMA momentum below 1).
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def admits(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        low = None if self.low is None else f"{'above' if self.low_open else 'at least'} {self.low:g}"
        high = None if self.high is None else f"{'below' if self.high_open else 'at most'} {self.high:g}"
        return " and ".join(part for part in (low, high) if part) or "any number"


#: An option's limit: a numeric range, or the tuple of allowed text values.
Limit = Union[Between, tuple[str, ...]]


def check_limits(owner: str, options: Mapping[str, Any], limits: Mapping[str, Limit]) -> None:
    """Refuse the first option outside its declared limit, naming the option and the limit."""
    for key, limit in limits.items():
        value = options.get(key)
        if isinstance(limit, Between):
            if not limit.admits(value):
                raise BadInputError(f"{owner}: option {key} must be {limit}, got {value!r}")
        elif value not in limit:
            raise BadInputError(f"{owner}: option {key} must be one of {', '.join(limit)}, got {value!r}")


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

    Subclasses set ``name``, ``multi_fidelity``, ``multi_objective``, ``defaults`` and
    ``pending_trials`` and implement ``setup``/``ask``/``tell``; ``self.options`` holds every setting. ``limits`` declares the
    range of every numeric option and the choices of closed text options, checked here for
    every adapter alike (the contract suite requires a range for each numeric option);
    ``validate`` adds rules between options.
    """

    name: ClassVar[str] = ""
    multi_fidelity: ClassVar[bool] = False
    multi_objective: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {}
    limits: ClassVar[dict[str, Limit]] = {}
    #: Whether it may be asked again while earlier trials are pending (W > 1 workers); every
    #: adapter states it, and ``serial_reason`` says why not where it cannot.
    pending_trials: ClassVar[bool] = False
    serial_reason: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            allowed = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items()) or "none"
            raise BadInputError(f"{self.name}: unknown option {', '.join(unknown)}; options are {allowed}")
        self.options = {
            key: coerce_option(self.name, key, options.get(key, default), default)
            for key, default in self.defaults.items()
        }
        check_limits(self.name, self.options, self.limits)
        self.validate()

    def validate(self) -> None:
        """Check rules between options (each one's own range is in ``limits``); raise BadInputError naming them."""

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

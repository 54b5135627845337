"""Shared option handling for optimizer adapters (keyword-only, validated at once)."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.protocols import Observation, SearchProblem, Suggestion
from harness.types import BadInputError

__all__ = ["OptimizerBase", "coerce_option"]

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


class OptimizerBase:
    """Base for the shipped adapters: validated options, no-op hooks.

    Subclasses set ``name``, ``multi_fidelity`` and ``defaults`` and implement
    ``setup``/``ask``/``tell``; ``self.options`` holds every setting.
    """

    name: ClassVar[str] = ""
    multi_fidelity: ClassVar[bool] = False
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

    def settings(self) -> dict[str, Any]:
        return dict(self.options)

    def notes(self) -> list[str]:
        return []

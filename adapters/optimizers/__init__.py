"""Optimizer adapters, one per library, all behind adapters.protocols.Optimizer."""

from __future__ import annotations

from typing import Any

from adapters.optimizers._base import OptimizerBase
from adapters.optimizers._bohb import BOHBOptimizer
from adapters.optimizers._dehb import DEHBOptimizer
from adapters.optimizers._evolution import RegularizedEvolution
from adapters.optimizers._optuna import OPTUNA_OPTIMIZERS, OptunaOptimizer
from adapters.optimizers._optuna_custom import PREFIXES as SAMPLER_PREFIXES
from adapters.optimizers._optuna_custom import sampler_optimizer
from adapters.optimizers._random import RandomSearch
from adapters.optimizers._reinforce import Reinforce
from adapters.optimizers._smac import SMAC_OPTIMIZERS
from adapters.optimizers._user_code import import_user_module
from adapters.optimizers._zerocost import ZeroCostSearch, ZeroCostWarmRE
from adapters.protocols import REQUIRED_ATTRIBUTES, REQUIRED_METHODS
from adapters.types import BadInputError

__all__ = ["OPTIMIZERS", "OptimizerBase", "OptunaOptimizer", "make_optimizer", "optimizer_class"]

OPTIMIZERS: dict[str, type] = {
    cls.name: cls for cls in (RandomSearch, RegularizedEvolution, Reinforce, *SMAC_OPTIMIZERS, DEHBOptimizer, BOHBOptimizer,
                  *OPTUNA_OPTIMIZERS, ZeroCostSearch, ZeroCostWarmRE)
}

def optimizer_class(name: str) -> type:
    """A registered name, ``module:Class`` for a user's own optimizer, or ``optuna:MODULE:Class`` /
    ``optunahub:PATH:Class`` for a user's own Optuna sampler.

    A user's module is imported from the installed packages or else the working directory
    (see :func:`adapters.optimizers._user_code.import_user_module`).
    """
    if name.startswith(SAMPLER_PREFIXES):
        return sampler_optimizer(name)
    if ":" not in name:
        try:
            return OPTIMIZERS[name]
        except KeyError:
            raise BadInputError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)} (or module:Class, "
                              "optuna:MODULE:SamplerClass, optunahub:PATH:SamplerClass)") from None
    module_name, _, class_name = name.partition(":")
    try:
        cls = getattr(import_user_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise BadInputError(f"cannot load optimizer {name!r}: {exc}") from None
    missing = [m for m in REQUIRED_METHODS if not callable(getattr(cls, m, None))]
    missing += [a for a in REQUIRED_ATTRIBUTES if not hasattr(cls, a)]
    if missing:
        raise BadInputError(f"{name} does not implement the optimizer protocol: missing {', '.join(missing)}")
    return cls


def make_optimizer(name: str, options: dict[str, Any] | None = None) -> Any:
    cls = optimizer_class(name)
    options = dict(options or {})
    if not issubclass(cls, OptimizerBase):
        from adapters.optimizers._base import coerce_option

        unknown = sorted(set(options) - set(cls.defaults))
        if unknown:
            raise BadInputError(f"{name}: unknown option {', '.join(unknown)}; options are {dict(cls.defaults)}")
        options = {k: coerce_option(name, k, v, cls.defaults[k]) for k, v in options.items()}
    return cls(**options)

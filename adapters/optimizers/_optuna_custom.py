"""Any Optuna sampler as an hpo2nas optimizer: ``optuna:MODULE:Class`` and ``optunahub:PATH:Class``.

``optuna:MODULE:Class`` imports ``MODULE`` (a dotted Python module path) and
``optunahub:PATH:Class`` loads the local OptunaHub package in folder ``PATH`` with
``optunahub.load_local_module``; either way ``Class`` must subclass
``optuna.samplers.BaseSampler``. It runs as the shipped Optuna adapters do (same study,
budget, records, pruners, live storage and resume): its options are the keyword arguments of
its ``__init__`` that have plain defaults (bool, int, float, str or None), set with
``--set key=value``, plus ``pruner`` and ``reduction_factor``; ``seed`` is the run's
optimizer seed when the sampler takes one.
"""

from __future__ import annotations

import ast
import inspect
import os
from typing import Any, ClassVar

from adapters.optimizers._optuna import OptunaOptimizer
from adapters.optimizers._user_code import import_user_module
from adapters.types import BadInputError

__all__ = ["PREFIXES", "SamplerOptimizer", "sampler_optimizer"]

#: How a user names a sampler of their own.
PREFIXES: tuple[str, ...] = ("optuna:", "optunahub:")
_PLAIN = (bool, int, float, str, type(None))


class SamplerOptimizer(OptunaOptimizer):
    """A user's Optuna sampler; :func:`sampler_optimizer` makes one subclass per sampler class."""

    sampler_class: ClassVar[type]
    sampler_options: ClassVar[tuple[str, ...]] = ()
    takes_seed: ClassVar[bool] = False
    relative_origin = "relative sampling (model)"
    independent_origin = "independent sampling (random)"

    def __init__(self, **options: Any) -> None:
        # A None default gives coerce_option no type to convert to: read the text as a Python literal.
        for key, value in options.items():
            if self.defaults.get(key, "") is None and isinstance(value, str):
                options[key] = _literal(value)
        super().__init__(**options)

    def sampler_factory(self, seed: int) -> Any:
        kwargs = {key: self.options[key] for key in self.sampler_options}
        if self.takes_seed:
            kwargs["seed"] = seed
        try:
            return self.sampler_class(**kwargs)
        except (TypeError, ValueError) as exc:
            raise BadInputError(f"{self.name}: {exc}") from None

    def notes(self) -> list[str]:
        if self.takes_seed:
            return []
        return [f"{self.sampler_class.__name__} takes no seed: its runs are reproducible only if it is deterministic"]


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _load(spec: str) -> type:
    kind, _, rest = spec.partition(":")
    where, sep, class_name = rest.rpartition(":")
    if not sep or not where or not class_name:
        raise BadInputError(f"cannot load sampler {spec!r}: use optuna:MODULE:Class or optunahub:PATH:Class")
    try:
        if kind == "optuna":
            module = import_user_module(where)
        else:
            import optunahub

            path = os.path.abspath(where)
            if not os.path.isfile(os.path.join(path, "__init__.py")):
                raise BadInputError(f"cannot load sampler {spec!r}: {where} is not an OptunaHub package "
                                    "(a folder with __init__.py)")
            module = optunahub.load_local_module(os.path.basename(path), registry_root=os.path.dirname(path))
        cls = getattr(module, class_name)
    except (ImportError, AttributeError, SyntaxError) as exc:
        raise BadInputError(f"cannot load sampler {spec!r}: {exc}") from None
    from optuna.samplers import BaseSampler

    if not (isinstance(cls, type) and issubclass(cls, BaseSampler)):
        raise BadInputError(f"{spec} is not a subclass of optuna.samplers.BaseSampler")
    return cls


def sampler_optimizer(spec: str) -> type[SamplerOptimizer]:
    """The optimizer class for ``optuna:MODULE:Class`` or ``optunahub:PATH:Class``."""
    sampler = _load(spec)
    parameters = inspect.signature(sampler.__init__).parameters
    options = {
        name: p.default for name, p in parameters.items()
        if name not in ("self", "seed") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.default is not p.empty and isinstance(p.default, _PLAIN)
    }
    clash = sorted(set(options) & set(OptunaOptimizer.defaults))
    if clash:
        raise BadInputError(f"{spec}: its option {clash[0]!r} clashes with hpo2nas's own Optuna option")
    return type(
        f"Sampler_{sampler.__name__}",
        (SamplerOptimizer,),
        {
            "name": spec,
            "defaults": {**OptunaOptimizer.defaults, **options},
            "sampler_class": sampler,
            "sampler_options": tuple(options),
            "takes_seed": "seed" in parameters,
            "__doc__": f"Optuna sampler {sampler.__module__}.{sampler.__qualname__} ({spec}).",
        },
    )


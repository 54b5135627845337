"""hpo2nas: hyperparameter optimizers searching NAS-Bench-201 under one shared, simulated budget.

The public Python API in one namespace::

    import hpo2nas

    result = hpo2nas.run("re", budget="100000s", seed=0, out="results/py-re-0")
    print(result)             # one line: label, trials, budget used, incumbent, folder
    result.incumbent          # the final cell with its seed-mean accuracies and regret
    result.trials             # every trial as a DataFrame

Why a thin package over ``adapters``, ``benchmarks`` and ``harness`` rather than moving them
under ``hpo2nas.*``: the three layers keep their import paths, so no code, test or spec
changes; the cost is that they stay installed as top-level names that can clash with other
distributions' packages of the same names (docs/README.md, "Package layout", weighs it).

Names load on first use (PEP 562), so ``import hpo2nas`` stays cheap: Optuna, SMAC and Dask
are imported only by what needs them.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # benchmarks: the tabular stores and what is asked of them
    "open_benchmark": "benchmarks", "open_store": "benchmarks", "import_store": "benchmarks",
    "exact_front": "benchmarks", "DATASETS": "benchmarks",
    # adapters: the cell, its search space, the optimizers and the shared types
    "Cell": "adapters", "configspace": "adapters", "OBJECTIVES": "adapters",
    "OPTIMIZERS": "adapters.optimizers", "make_optimizer": "adapters.optimizers",
    "SEED_MEAN": "adapters.types", "RandomSeed": "adapters.types", "BadInputError": "adapters.types",
    # harness: runs, experiments, records and exports
    "run": "hpo2nas._run",
    "Budget": "harness.running.budget", "RunConfig": "harness.running.runner", "execute_run": "harness.running.runner",
    "RunResult": "harness.running.results", "Incumbent": "harness.running.results",
    "ExperimentSpec": "harness.running.spec", "load_spec": "harness.running.spec", "parse_spec": "harness.running.spec",
    "compare": "harness.compare", "CompareResult": "harness.compare",
    "RunRecord": "harness.running.records", "read_run": "harness.running.records", "find_runs": "harness.running.records",
    "export_deepcave": "harness.exports.deepcave", "export_optuna": "harness.exports.optuna",
}

__all__ = sorted([*_EXPORTS, "__version__"])
__version__ = metadata.version("hpo2nas")


def __getattr__(name: str) -> Any:
    """Import the defining module of a public name on first use, and keep the name here."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hpo2nas' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

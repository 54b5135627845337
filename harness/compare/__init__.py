"""An experiment: a spec's runs planned, fanned out on Dask, and gathered into one report."""

from harness.compare.experiment import CompareResult, compare, plan_runs

__all__ = ["CompareResult", "compare", "plan_runs"]

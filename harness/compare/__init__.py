"""An experiment: a spec's runs planned, fanned out on Dask, and gathered into one report."""

from harness.compare.experiment import compare, plan_runs

__all__ = ["compare", "plan_runs"]

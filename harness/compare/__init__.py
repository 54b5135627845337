"""An experiment: a spec's runs planned (``planning``), fanned out on Dask (``grid``), and gathered into one
report (``experiment``)."""

from harness.compare.experiment import CompareResult, compare
from harness.compare.planning import plan_runs

__all__ = ["CompareResult", "compare", "plan_runs"]

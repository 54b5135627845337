"""The top layer: the only place a benchmark, an optimizer and a budget meet.

Grouped by job, each subpackage importing only those listed before it:

- ``harness.running``: one run. The run config, refusals, pricing, the simulator and the one
  loop (``runner``), real workers, specs, and the run folders' records.
- ``harness.reporting``: what runs mean. Statistics, figures in one style, and the report's
  sections (transfer, Pareto, parallel, the paper's protocol).
- ``harness.exports``: run folders as DeepCAVE runs and Optuna studies; they read only records.
- ``harness.dashboards``: DeepCAVE and optuna-dashboard served over those exports.
- ``harness.compare``: an experiment, a spec's runs fanned out on Dask, then its report.
- ``harness.cli``: the ``hpo2nas`` command, a thin typer layer over the functions above.

The public Python API gathers them in the ``hpo2nas`` package.
"""

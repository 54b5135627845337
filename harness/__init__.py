"""The top layer: the only place a benchmark, an optimizer and a budget meet.

``runner`` holds the one loop and the one simulated clock; ``compare`` fans a spec's runs
out on Dask and writes the report (``report``, ``figures``, ``stats``); ``records`` reads and
writes run folders; ``export_deepcave``, ``export_optuna`` and the dashboards read only those
records; ``cli`` is the ``hpo2nas`` command, a thin layer over these functions. The public
Python API gathers them in the ``hpo2nas`` package.
"""

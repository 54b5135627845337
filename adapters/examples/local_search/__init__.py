"""An example Optuna sampler, laid out as a local OptunaHub package.

Load it either way (see docs/running.md):

* ``--optimizer optuna:adapters.examples.local_search:LocalSearchSampler`` (a Python module);
* ``--optimizer optunahub:adapters/examples/local_search:LocalSearchSampler``
  (``optunahub.load_local_module`` on this folder).
"""

from .sampler import LocalSearchSampler

__all__ = ["LocalSearchSampler"]

"""DeepCAVE 1.4.1's pages as ``hpo2nas dashboard`` shows them: two made usable for hpo2nas runs.

Imported by the DeepCAVE server (``Config.PLUGINS``) and by the job worker (``worker.py``), where
static pages such as Footprint compute.

* **Configuration Footprint** adds border and random configurations to a run's own until
  4,000 are reached, then runs MDS over all of them: on NB201's 15,625-cell space that never
  stops early and took more than 10 minutes per run on two cores. Here the support
  configurations stop at :data:`FOOTPRINT_CONFIGS` (run's configurations included), which
  maps the same space more coarsely in seconds.
* **Symbolic Explanations** fits formulas over numeric hyperparameters only. On a space without
  any (NB201's six categorical edges) DeepCAVE's page fails with an IndexError in its server log
  and shows empty selectors; here its run check refuses such runs with a notice that says why,
  as DeepCAVE's Budget Correlation does for runs with one budget. DeepCAVE keeps one notice for
  the whole server and the browser drops a reply that a newer poll overtakes, so on a busy machine
  the notice can be lost: the page also states the rule above its inputs, where it always shows.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import dash_bootstrap_components as dbc
import numpy as np
from ConfigSpace import CategoricalHyperparameter
from deepcave.constants import BORDER_CONFIG_ID, RANDOM_CONFIG_ID
from deepcave.evaluators.footprint import Footprint
from deepcave.plugins.hyperparameter import symbolic_explanations as _symbolic_page
from deepcave.plugins.hyperparameter.symbolic_explanations import SymbolicExplanations as _SymbolicExplanations
from deepcave.plugins.summary import footprint as _footprint_page
from deepcave.runs import AbstractRun

#: What Symbolic Explanations offers, stated on its page.
SYMBOLIC_RULE = ("Only runs with a numeric hyperparameter can be selected: symbolic explanations fit formulas "
                 "over numeric hyperparameters, and a run whose hyperparameters are all categorical "
                 "(NB201's six edges) has none.")

#: The most configurations (the run's own plus border and random ones) Footprint's MDS places
#: (DeepCAVE's own limit: 4,000).
FOOTPRINT_CONFIGS = 400


class CappedFootprint(Footprint):
    """DeepCAVE's footprint evaluator, rejecting support configurations beyond :data:`FOOTPRINT_CONFIGS`.

    DeepCAVE's loop stops after three rounds in which every new configuration was rejected, so
    rejecting them all once the limit is reached ends it there.
    """

    def _update_distances(self, config: np.ndarray, config_id: int,
                          rejection_threshold: Optional[float] = 0.0) -> bool:
        support = config_id in (BORDER_CONFIG_ID, RANDOM_CONFIG_ID)
        if support and self._distances is not None and self._distances.shape[0] >= FOOTPRINT_CONFIGS:
            return True
        return super()._update_distances(config, config_id, rejection_threshold)


# DeepCAVE's Footprint page builds its evaluator from this module-level name, in the worker's jobs.
_footprint_page.Evaluator = CappedFootprint


def has_numeric_hyperparameters(run: AbstractRun) -> bool:
    """Whether Symbolic Explanations has anything to fit a formula over."""
    return any(not isinstance(hp, CategoricalHyperparameter) for hp in run.configspace.values())


class SymbolicExplanations(_SymbolicExplanations):
    """DeepCAVE's Symbolic Explanations, offering only runs with a numeric hyperparameter."""

    @staticmethod
    def check_run_compatibility(run: AbstractRun) -> bool:
        if has_numeric_hyperparameters(run):
            return True
        from deepcave import notification  # the server's (the worker has none)

        notification.update(f"{run.name} can not be selected because its hyperparameters are all "
                            "categorical: symbolic explanations fit formulas over numeric ones.")
        return False

    @staticmethod
    def get_input_layout(register: Callable) -> List[Any]:
        """DeepCAVE's inputs, below the rule for which runs the page offers."""
        rule = dbc.Alert(SYMBOLIC_RULE, color="info", id="symbolic-rule", className="mb-3")
        return [rule, *_SymbolicExplanations.get_input_layout(register)]


def plugins(deepcave_pages: Callable[[], Dict[str, List[Any]]]) -> Dict[str, List[Any]]:
    """DeepCAVE's sidebar (``deepcave_pages`` builds it), with Symbolic Explanations built from the class above.

    A DeepCAVE page registers its Dash callbacks when it is built, so an instance of DeepCAVE's
    own class swapped out afterwards would still answer the page (it offered every run). DeepCAVE
    imports its page classes when it builds the list: it is built while that name is this class.
    """
    original = _symbolic_page.SymbolicExplanations
    _symbolic_page.SymbolicExplanations = SymbolicExplanations
    try:
        pages = deepcave_pages()
    finally:
        _symbolic_page.SymbolicExplanations = original
    built = [type(page) for group in pages.values() for page in group]
    if SymbolicExplanations not in built or original in built:
        raise RuntimeError("DeepCAVE no longer builds Symbolic Explanations from its module: see hpo2nas_deepcave/plugins.py")
    return pages

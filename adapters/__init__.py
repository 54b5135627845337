"""Search spaces (the SearchSpace seam and NB201's cell, exact) and the value types every layer shares."""

from __future__ import annotations

from adapters._canonical import canonical_id, canonical_ids, canonical_str
from adapters._cell import EDGE_NAMES, EDGES, NUM_CELLS, NUM_EDGES, OPS, Cell, InvalidCellError
from adapters.nb201_space import NB201, NB201Space
from adapters.search_space import Config, FiniteSpace, Hyperparameter, InvalidConfigError, SearchSpace
from adapters._objectives import ACCURACY, OBJECTIVES, Objective, parse_objectives
from adapters._encodings import (
    NASLIB_OPS,
    SYNETUNE_OPS,
    from_hpobench,
    from_naslib,
    from_optunahub,
    from_simple_key,
    from_synetune,
    parse_cell,
    to_hpobench,
    to_naslib,
    to_optunahub,
    to_simple_key,
    to_synetune,
)
from adapters._spaces import (
    HP_NAMES,
    configspace,
    from_configuration,
    from_dehb_vector,
    from_optuna_params,
    optuna_distributions,
    to_configuration,
    to_dehb_vector,
    to_optuna_params,
)

__all__ = [
    "SearchSpace",
    "FiniteSpace",
    "Hyperparameter",
    "Config",
    "InvalidConfigError",
    "NB201",
    "NB201Space",
    "OPS",
    "EDGES",
    "EDGE_NAMES",
    "NUM_CELLS",
    "NUM_EDGES",
    "HP_NAMES",
    "NASLIB_OPS",
    "SYNETUNE_OPS",
    "Cell",
    "InvalidCellError",
    "parse_cell",
    "canonical_str",
    "canonical_id",
    "canonical_ids",
    "to_naslib",
    "from_naslib",
    "to_simple_key",
    "from_simple_key",
    "to_hpobench",
    "from_hpobench",
    "to_synetune",
    "from_synetune",
    "to_optunahub",
    "from_optunahub",
    "configspace",
    "to_configuration",
    "from_configuration",
    "optuna_distributions",
    "to_optuna_params",
    "from_optuna_params",
    "to_dehb_vector",
    "from_dehb_vector",
    "Objective",
    "OBJECTIVES",
    "ACCURACY",
    "parse_objectives",
]

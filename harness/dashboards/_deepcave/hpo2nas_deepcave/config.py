"""The DeepCAVE ``Config`` that ``hpo2nas dashboard`` passes with ``--config``.

DeepCAVE imports this module (``parse_config``) in its server and its worker. Everything
comes from ``HPO2NAS_DC_*`` variables set by ``harness/dashboards/deepcave.py``: both servers listen
on loopback only, the cache lives in the dashboard's own temporary folder (not inside
DeepCAVE's installed package), and the exported runs are preselected, so the dashboard
opens with them loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List

from deepcave.config import Config as _DeepCAVEConfig


class Config(_DeepCAVEConfig):
    REDIS_ADDRESS = "redis://127.0.0.1"
    REDIS_PORT = int(os.environ["HPO2NAS_DC_REDIS_PORT"])
    DASH_ADDRESS = "127.0.0.1"
    DASH_PORT = int(os.environ["HPO2NAS_DC_DASH_PORT"])
    META_DEFAULT: Dict[str, Any] = {
        "working_dir": os.environ["HPO2NAS_DC_WORKING_DIR"],
        "selected_run_paths": json.loads(os.environ["HPO2NAS_DC_RUNS"]),
        "groups": {},
    }

    @property
    def PLUGINS(self) -> Dict[str, List[Any]]:  # noqa: N802 (DeepCAVE's name)
        """DeepCAVE's pages, two of them adapted to hpo2nas runs (see :mod:`hpo2nas_deepcave.plugins`)."""
        from hpo2nas_deepcave.plugins import plugins

        return plugins(lambda: _DeepCAVEConfig.PLUGINS.fget(self))

    @property
    def CACHE_DIR(self) -> Path:  # noqa: N802 (DeepCAVE's name)
        return Path(os.environ["HPO2NAS_DC_CACHE_DIR"])

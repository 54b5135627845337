"""Runs inside .venv-deepcave: loads run folders with DeepCAVE's own converters, prints JSON.

Usage: ``.venv-deepcave/bin/python tests/deepcave_probe.py DIR...``. Each DIR is loaded as
the dashboard's ``RunHandler.update_run`` loads it: every converter's ``from_path`` is tried
and the last that succeeds wins (``is_valid_run`` is not enough: BOHB's accepts any folder
with a configspace.json). Everything the tests check is printed as one JSON document (one
process for all runs, because importing DeepCAVE takes seconds).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from deepcave.config import Config


def _num(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def load(path: str) -> dict[str, Any]:
    loaded, errors = {}, {}
    for cls in Config().CONVERTERS:
        try:
            loaded[cls.__name__] = cls.from_path(Path(path))
        except Exception as exc:  # noqa: BLE001 (what the dashboard does: try the next converter)
            errors[cls.__name__] = f"{type(exc).__name__}: {exc}"
    if not loaded:
        return {"error": f"no DeepCAVE converter loads {path}: {errors}"}
    name, run = list(loaded.items())[-1]
    return {
        "converters": list(loaded),
        "converter": name,
        "name": run.name,
        "objectives": [o.to_json() for o in run.get_objectives()],
        "budgets": [_num(b) for b in run.get_budgets(include_combined=False)],
        "seeds": run.get_seeds(include_combined=False),
        "trials": [
            {
                "config": dict(run.get_config(t.config_id)),
                "origin": run.get_origin(t.config_id),
                "budget": _num(t.budget),
                "seed": t.seed,
                "costs": [_num(c) for c in t.costs],
                "start_time": _num(t.start_time),
                "end_time": _num(t.end_time),
                "status": t.status.name,
                "additional": {k: v for k, v in (t.additional or {}).items()},
            }
            for t in run.get_trials()
        ],
    }


if __name__ == "__main__":
    json.dump({path: load(path) for path in sys.argv[1:]}, sys.stdout,
              default=lambda o: o.item() if hasattr(o, "item") else str(o))

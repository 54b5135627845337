"""Import a user's own module (``module:Class`` optimizers, ``optuna:MODULE:Class`` samplers).

Why the working directory: a researcher writes ``myopt.py`` in their own folder and runs
``hpo2nas run --optimizer myopt:HillClimb`` there. The installed console script puts its own
``bin/`` folder, not the working directory, on ``sys.path``, so without this the import fails
unless the user knows to set ``PYTHONPATH=.``. The working directory is searched *after* the
installed packages, so a stray ``optuna.py`` or ``random.py`` in it never shadows a library.
Dask workers started by ``hpo2nas compare`` inherit the working directory and resolve the
same module the same way.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

__all__ = ["import_user_module"]


def import_user_module(name: str) -> ModuleType:
    """Import ``name`` from the installed packages, or else from the current working directory."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
        importlib.invalidate_caches()
    return importlib.import_module(name)

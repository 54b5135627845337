"""DeepCAVE's job worker as DeepCAVE 1.4.1's own ``worker.py`` runs it (static plugins' jobs).

Run with ``.venv-deepcave/bin/python harness/dashboards/_deepcave/worker.py --config <config.py>``:
DeepCAVE connects its queue at import time when ``worker.py`` is in ``sys.argv[0]``. The
worker imports :mod:`hpo2nas_deepcave.plugins` before any job, so every job (forked from it)
computes Configuration Footprint with that module's configuration cap, and writes
DeepCAVE's caches whole (:mod:`hpo2nas_deepcave.atomic_cache`).
"""

from __future__ import annotations

from rq import Connection, Worker

from deepcave import queue
import hpo2nas_deepcave.plugins  # noqa: E402,F401 (Footprint's cap in the jobs this worker runs)
from hpo2nas_deepcave.atomic_cache import write_caches_whole

if __name__ == "__main__":
    write_caches_whole()  # its jobs write run caches that the server reads
    with Connection(queue._connection):
        Worker([queue._queue]).work()

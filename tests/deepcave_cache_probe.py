"""Runs inside .venv-deepcave: rewrites one DeepCAVE ``Cache`` while another thread reads its file.

Usage: ``.venv-deepcave/bin/python tests/deepcave_cache_probe.py DIR [--whole]``; prints JSON
``{"reads": N, "torn": M}``: M reads met a half-written file. With ``--whole`` the writes go
through :func:`hpo2nas_deepcave.atomic_cache.write_caches_whole` first.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from deepcave.utils.cache import Cache

if "--whole" in sys.argv:
    from hpo2nas_deepcave.atomic_cache import write_caches_whole

    write_caches_whole()

path = Path(sys.argv[1]) / "cache.json"
cache = Cache(path, defaults={"rows": [{"cell": i, "value": i / 7} for i in range(20_000)]})
stop = threading.Event()
counts = {"reads": 0, "torn": 0}


def read() -> None:
    while not stop.is_set():
        try:
            json.loads(path.read_text())
        except json.JSONDecodeError:
            counts["torn"] += 1
        counts["reads"] += 1


reader = threading.Thread(target=read)
reader.start()
end = time.monotonic() + 2
step = 0
while time.monotonic() < end:
    step += 1
    cache.set("step", value=step)
stop.set()
reader.join()
leftovers = sorted(p.name for p in path.parent.iterdir() if p != path)
print(json.dumps({**counts, "writes": step, "leftovers": leftovers}))

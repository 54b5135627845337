"""Whole writes for DeepCAVE's JSON caches.

DeepCAVE 1.4.1's ``Cache.write`` truncates its JSON file and dumps into it in place. The
server's callbacks (threads) and the job worker (another process) read the same files while
one is being rewritten, and a reader that meets a half-written file fails with
``JSONDecodeError``: the page's graph stays empty until it is loaded again. Writing a
temporary file beside it and renaming it over the old one makes every read see a whole file.
(The project's own ``adapters.files.atomic_write`` is not importable here: this code runs in
the isolated DeepCAVE environment, without the project on its path.)
"""

from __future__ import annotations

import json
import os
import threading

__all__ = ["write_caches_whole"]


def write_caches_whole() -> None:
    """Make every DeepCAVE ``Cache`` in this process write by rename (idempotent).

    Called by the server and the job worker before they serve; the worker's jobs are forked
    from it and inherit the change.
    """
    from deepcave.utils.cache import Cache
    from deepcave.utils.compression import JSON_DENSE_SEPARATORS, Encoder

    if getattr(Cache.write, "whole", False):
        return

    def write(self: Cache) -> None:
        filename = self._filename
        if filename is None:
            return
        filename.parent.mkdir(exist_ok=True, parents=True)
        spacing = {"indent": 4} if self._debug else {"separators": JSON_DENSE_SEPARATORS}
        # One temporary name per process and thread: callbacks write the same cache concurrently.
        tmp = filename.with_name(f".{filename.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with tmp.open("w") as f:
                json.dump(self._data, f, cls=Encoder, **spacing)
            os.replace(tmp, filename)
        finally:
            tmp.unlink(missing_ok=True)

    write.whole = True  # type: ignore[attr-defined]
    Cache.write = write

"""One accelerator per worker: the ``CUDA_VISIBLE_DEVICES`` each worker process of a live search gets.

Why: live runs on several workers (Dask's processes) would otherwise all train on GPU 0. Each
worker is pinned to one device, round-robin over the devices this machine may use (those
``CUDA_VISIBLE_DEVICES`` names, else every GPU torch counts), before the worker touches CUDA.
Without a GPU nothing is pinned and the variable is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["visible_gpus", "pinned_device", "pin_worker"]

_VARIABLE = "CUDA_VISIBLE_DEVICES"


def visible_gpus(environ: Mapping[str, str] | None = None, count: int | None = None) -> tuple[str, ...]:
    """The GPU ids workers may use: ``CUDA_VISIBLE_DEVICES``'s list where it is set, else ``0..count-1``
    (``count``: torch's device count, asked only when not given)."""
    environ = os.environ if environ is None else environ
    listed = environ.get(_VARIABLE)
    if listed is not None:
        return tuple(part.strip() for part in listed.split(",") if part.strip() and part.strip() != "-1")
    if count is None:
        import torch

        count = torch.cuda.device_count()  # NVML: does not initialise CUDA in this process
    return tuple(str(i) for i in range(count))


def pinned_device(worker: int, gpus: tuple[str, ...]) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES`` value of worker number ``worker`` (round-robin), or None without GPUs."""
    if worker < 0:
        raise ValueError(f"worker numbers start at 0, got {worker}")
    return gpus[worker % len(gpus)] if gpus else None


def pin_worker(worker: int, environ: dict[str, str] | None = None) -> str | None:
    """Pin this process (``environ``: default ``os.environ``) to its worker's GPU; the id pinned, or None."""
    environ = os.environ if environ is None else environ
    device = pinned_device(worker, visible_gpus(environ))
    if device is not None:
        environ[_VARIABLE] = device
    return device

"""Every choice of a live training, in one frozen value that round-trips through JSON (run.json).

The defaults are NB201's recipe (``configs/nas-benchmark/hyper-opts/{12E,200E}.config``): SGD
with Nesterov momentum 0.9, learning rate 0.1 decayed by a cosine to 0 over the schedule,
weight decay 5e-4, batch 256, cross-entropy. NB201's 12-epoch schedule is its own cosine over
12 epochs (its config says ``epochs 12``), not the first 12 epochs of the 200-epoch run, so
``epochs`` is the schedule's length and a fidelity is an epoch *of that schedule*.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from adapters.errors import BadInputError

__all__ = ["TrainSettings", "NB201_SCHEDULES"]

#: The schedule lengths NB201 published results for.
NB201_SCHEDULES = (12, 200)


@dataclass(frozen=True)
class TrainSettings:
    """How a live trial trains. Keyword-only; validated at once.

    Attributes:
        epochs: the length of the cosine schedule (NB201: 12 or 200).
        lr, eta_min: the cosine's start and end learning rate (updated every iteration, as xautodl does).
        momentum, nesterov, weight_decay: SGD's settings.
        batch_size: training batch (NB201: 256); eval_batch_size: for validation only.
        augment: NB201's random crop (zero padding) and horizontal flip on training images.
        seed: the default training seed (weights, data order, augmentation).
        device: ``auto`` (CUDA when there is one), ``cpu``, ``cuda`` or ``cuda:N``.
        channels_last, amp: memory format and mixed precision (CUDA only; off by default).
        train_images, valid_images: use a stratified subset (a reduced setting, stated as such).
        threads: CPU threads for torch (None: torch's default). On a CPU shared with other jobs
            fewer threads can be many times faster: OpenMP threads spin while they wait for a core.
        save_weights: keep each trial's latest weights and optimizer state (so it can continue);
            results are always kept.
    """

    epochs: int = 200
    lr: float = 0.1
    eta_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    batch_size: int = 256
    eval_batch_size: int = 512
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    channels_last: bool = False
    amp: bool = False
    train_images: int | None = None
    valid_images: int | None = None
    threads: int | None = None
    save_weights: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise BadInputError(f"live setting {name} must be a positive integer, got {value!r}")
        for name in ("train_images", "valid_images", "threads"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise BadInputError(f"live setting {name} must be a positive integer or unset, got {value!r}")
        for name in ("lr", "eta_min", "momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
                raise BadInputError(f"live setting {name} must be a finite number >= 0, got {value!r}")
        if self.nesterov and self.momentum == 0:
            raise BadInputError("live setting nesterov needs momentum > 0")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise BadInputError(f"live setting device must be auto, cpu, cuda or cuda:N, got {self.device!r}")

    @property
    def reduced(self) -> bool:
        """Whether this is less than NB201's setting (a subset of images or a schedule NB201 did not publish)."""
        return self.train_images is not None or self.valid_images is not None or self.epochs not in NB201_SCHEDULES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainSettings:
        """The settings a dict (run.json's, or a user's overrides) names; unknown keys are refused."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BadInputError(f"unknown live setting {unknown[0]!r}; settings are {', '.join(sorted(known))}")
        return cls(**values)

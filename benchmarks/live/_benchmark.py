"""``LiveBenchmark``: the harness's Benchmark protocol answered by training, not by a table.

Only another benchmark to the runner: ``query(cell, dataset, fidelity)`` trains the cell to
epoch ``fidelity`` of the settings' schedule and answers a :class:`LiveQueryResult` whose
``train_time_s`` is the measured seconds the curve cost (cumulative, like a table's) and whose
``cost_s`` is what this call spent. A cell asked again at a higher epoch continues from its
checkpoint (same cell, seed and settings), so a promoted trial pays only for the new epochs;
asked at an epoch it already passed, it answers from the saved curve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adapters import NB201, parse_cell
from adapters.errors import BadInputError
from adapters.types import FidelitySpace, QueryResult, SeedMean, SeedPolicy
from benchmarks.live._data import LiveData
from benchmarks.live._settings import TrainSettings
from benchmarks.live._trainer import EpochRecord, TrainResult, train
from benchmarks.zerocost import NET_SHAPES, flop_count

__all__ = ["LiveBenchmark", "LiveQueryResult"]


class LiveQueryResult(QueryResult):
    """A :class:`QueryResult` from a real training, with what the training measured.

    ``valid_acc`` is None when the training failed (``status`` ``failed``, ``reason`` why);
    ``status`` ``pruned`` means the epoch callback stopped it at ``fidelity``.
    """

    __slots__ = ("cost_s", "status", "reason", "device", "images_per_s", "curve", "resumed_from")

    def __init__(self, index: int, dataset: str, seed: int, train: TrainResult, split: dict[str, str],
                 flops_m: float | None) -> None:
        super().__init__(index, dataset, train.epoch, seed, None if train.status == "failed" else train.valid_acc,
                         None, train.total_seconds, train.params / 1e6, flops_m, None, split)
        self.cost_s = train.seconds
        self.status = train.status
        self.reason = train.reason
        self.device = train.device
        self.images_per_s = train.images_per_s
        self.curve: tuple[EpochRecord, ...] = train.curve
        self.resumed_from = train.resumed_from  # epochs a checkpoint already held when this call began

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.update(valid_acc=self.valid_acc, train_time_s=self.train_time_s, cost_s=self.cost_s, status=self.status,
                   reason=self.reason, device=self.device, images_per_s=self.images_per_s,
                   curve=[r.valid_acc for r in self.curve])
        return out


class LiveBenchmark:
    """Evaluates NB201 cells by training them on ``data`` with ``settings``.

    Args:
        data: the dataset (see :func:`benchmarks.live.load_dataset` and :func:`synthetic_data`);
            ``settings.train_images``/``valid_images`` reduce it to a stratified subset.
        settings: the training recipe (NB201's by default).
        workdir: where each (cell, seed)'s checkpoint lives; reused across calls and processes.

    Example:
        >>> bench = LiveBenchmark(synthetic_data(), TrainSettings(epochs=4), workdir=Path("live"))  # doctest: +SKIP
        >>> bench.query("333132", "synthetic", fidelity=2).valid_acc                             # doctest: +SKIP
    """

    name = "live"
    #: The runner's cue that this benchmark measures by training (harness.running.live_pricing).
    trains = True
    #: Live training evaluates NB201 cells; keys are NB201's official indices.
    space = NB201

    def __init__(self, data: LiveData, settings: TrainSettings | None = None, *, workdir: Path) -> None:
        self.settings = settings or TrainSettings()
        self.data = data.reduced(self.settings.train_images, self.settings.valid_images)
        digest = hashlib.sha256(f"{self.settings.to_json()}|{self.data.fingerprint()}".encode()).hexdigest()
        self.checksum = digest[:16]
        self.folder = Path(workdir) / self.checksum

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.data.name,)

    @property
    def manifest(self) -> dict[str, object]:
        """What the run records about this benchmark: the recipe and the data it trains on."""
        return {"name": self.name, "checksum": self.checksum, "settings": json.loads(self.settings.to_json()),
                "data": self.data.name, "split": dict(self.data.split)}

    def splits(self, dataset: str) -> dict[str, str]:
        """Which split each reported metric is measured on (the protocol's keys; ``data.split`` says more)."""
        self._check(dataset)
        return {"valid_acc": self.data.split["valid"], "train": self.data.split["train"],
                "train_time_s": "measured wall-clock of training and validation, per epoch"}

    def has_test(self, dataset: str) -> bool:
        """Live training measures the validation split only; no test accuracy is reported."""
        self._check(dataset)
        return False

    def lookup(self, indices: Any, dataset: str, metric: str = "valid_acc", fidelity: int | None = None,
               seed: Any = None) -> np.ndarray:
        """``metric`` of many cells at once from what has been trained (NaN for a cell not yet trained
        that far): live training has no table of every cell, and a lookup never starts a training."""
        self._check(dataset)
        if metric != "valid_acc":
            raise BadInputError(f"the live benchmark measures valid_acc only, not {metric!r}")
        epoch = fidelity or self.settings.epochs
        known: dict[int, float] = {}
        for index, trained_seed, curve in self.trained():
            if len(curve) >= epoch and (seed is None or isinstance(seed, SeedMean) or seed == trained_seed):
                known.setdefault(index, curve[epoch - 1].valid_acc)
        return np.array([known.get(int(i), np.nan) for i in np.atleast_1d(indices)], dtype=float)

    def _check(self, dataset: str) -> None:
        if dataset != self.data.name:
            raise BadInputError(f"the live benchmark trains on {self.data.name!r}, not {dataset!r}")

    def fidelity_space(self, dataset: str) -> FidelitySpace:
        self._check(dataset)
        epochs = self.settings.epochs
        return FidelitySpace("epoch", tuple(range(1, epochs + 1)),
                             f"epoch of a live {epochs}-epoch cosine schedule (trained, measured)")

    def _flops_m(self, cell: object) -> float | None:
        shape = NET_SHAPES.get(self.data.name)
        if shape is None or shape.resolution != self.data.resolution:
            return None  # NB201's FLOP convention is per image of its own datasets' shape
        return flop_count(cell, self.data.name) / 1e6  # type: ignore[arg-type]

    def checkpoint(self, index: int, seed: int) -> Path:
        """The file holding one (cell, seed)'s curve (always) and weights (if ``save_weights``)."""
        return self.folder / f"{index:05d}-seed{seed}.pt"

    def query(
        self,
        cell: object,
        dataset: str,
        fidelity: int | None = None,
        seed: SeedPolicy | None = None,
        *,
        on_epoch: Callable[[EpochRecord], bool] | None = None,
    ) -> LiveQueryResult:
        """Train ``cell`` to epoch ``fidelity`` (default: the whole schedule) and say what happened.

        ``seed``: an int is the training seed; None or a random-seed policy uses ``settings.seed``
        (a real training has its own noise); a seed mean cannot be trained and is refused.
        ``on_epoch`` sees every epoch's record and may stop the training (True: pruned).
        """
        self._check(dataset)
        if isinstance(seed, SeedMean):
            raise BadInputError("a live benchmark trains one seed at a time; it has no seed mean")
        train_seed = seed if isinstance(seed, int) else self.settings.seed
        parsed = parse_cell(cell)
        result = train(parsed, self.data, self.settings, until=fidelity, seed=train_seed,
                       checkpoint=self.checkpoint(parsed.index, train_seed), on_epoch=on_epoch)
        return LiveQueryResult(parsed.index, dataset, train_seed, result, self.data.split, self._flops_m(parsed))

    def trained(self) -> list[tuple[int, int, list[EpochRecord]]]:
        """(cell index, seed, curve) of every cell this benchmark's folder holds."""
        out = []
        for path in sorted(self.folder.glob("*-seed*.pt")):
            state = torch.load(path, map_location="cpu", weights_only=False)
            out.append((state["cell"], state["seed"], [EpochRecord(**r) for r in state["records"]]))
        return out

    def best(self, dataset: str, metric: str = "valid_acc", fidelity: int | None = None) -> QueryResult:
        """The best cell trained so far at ``fidelity`` (live has no table of every cell)."""
        self._check(dataset)
        if metric != "valid_acc":
            raise BadInputError(f"the live benchmark measures valid_acc only, not {metric!r}")
        epoch = fidelity or self.settings.epochs
        reached = [(curve[epoch - 1].valid_acc, index, seed) for index, seed, curve in self.trained() if len(curve) >= epoch]
        if not reached:
            raise BadInputError(f"no cell has been trained to epoch {epoch} in {self.folder}")
        _, index, seed = max(reached, key=lambda t: (t[0], -t[1]))
        return self.query(index, dataset, epoch, seed)

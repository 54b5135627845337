"""Train one NB201 network by NB201's recipe, epoch by epoch, with checkpoints and a stop callback.

The trainer knows nothing of optimizers or budgets (the issue's "training code separated from
the Optuna code"): after every epoch it calls ``on_epoch(record)``, and a True answer stops the
training as pruned. A checkpoint is written (atomically) after every finished epoch, so a
trial asked for more epochs continues where it stopped, and a killed process loses at most the
unfinished epoch, whose time is then never counted. A NaN loss or an out-of-memory error ends
the training as ``failed`` with its reason; it never raises into the search.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from adapters import Cell
from adapters.errors import BadInputError
from benchmarks.live._batches import Normaliser, epoch_generator, eval_batches, train_batches
from benchmarks.live._data import LiveData
from benchmarks.live._settings import TrainSettings
from benchmarks.zerocost import NB201Network

__all__ = ["EpochRecord", "TrainResult", "build_live_network", "resolve_device", "train"]

@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch: training and validation loss and accuracy (%), and its seconds."""

    epoch: int
    train_loss: float
    train_acc: float
    valid_loss: float
    valid_acc: float
    train_s: float
    valid_s: float


@dataclass(frozen=True)
class TrainResult:
    """What a call to :func:`train` did.

    Attributes:
        status: ``ok``, ``pruned`` (the callback stopped it) or ``failed`` (see ``reason``).
        curve: every finished epoch from epoch 1, including those a checkpoint already held.
        resumed_from: the epoch the call started from (0: from scratch).
        seconds: wall-clock of this call (start-up, training and validation); the cost to charge.
        start_up_s: from the call to the end of the first training batch (building, loading, warm-up).
        images_per_s: training images per second of training time in this call (0 if none trained).
        device: where it ran (``cpu``, ``cuda:0 (NVIDIA ...)``).
        params: trainable parameters of the network.
        peak_memory_mb: the CUDA allocator's peak on a GPU; the process's peak resident memory on a CPU.
    """

    status: str
    reason: str
    curve: tuple[EpochRecord, ...]
    resumed_from: int
    seconds: float
    start_up_s: float
    images_per_s: float
    device: str
    params: int
    peak_memory_mb: float

    @property
    def epoch(self) -> int:
        return self.curve[-1].epoch if self.curve else 0

    @property
    def valid_acc(self) -> float | None:
        return self.curve[-1].valid_acc if self.curve else None

    @property
    def total_seconds(self) -> float:
        """Training plus validation seconds of every finished epoch, across calls (what the curve cost)."""
        return sum(r.train_s + r.valid_s for r in self.curve)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["curve"] = [asdict(r) for r in self.curve]
        return out


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA where there is one, else the CPU; an unusable device is bad input."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BadInputError(f"live setting device={name} but torch sees no CUDA device")
    return torch.device(name)


def _device_label(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def build_live_network(cell: Cell, num_classes: int, seed: int) -> NB201Network:
    """NB201's network (the zero-cost tables' code: C=16, N=5) with weights drawn from ``seed`` alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NB201Network(cell, num_classes)


def _learning_rate(settings: TrainSettings, progress: float) -> float:
    """xautodl's cosine: ``eta_min + (lr - eta_min)(1 + cos(pi t / T)) / 2`` at fractional epoch ``t``."""
    return settings.eta_min + (settings.lr - settings.eta_min) * (1 + math.cos(math.pi * progress / settings.epochs)) / 2


def _save(path: Path, state: dict) -> None:
    """``torch.save`` to a temporary file, then an atomic rename: a kill never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load(path: Path | None, settings: TrainSettings, cell: Cell, seed: int) -> dict | None:
    if path is None or not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("settings") != settings.to_dict() or state.get("cell") != cell.index or state.get("seed") != seed:
        raise BadInputError(f"checkpoint {path} belongs to another cell, seed or setting; move it away or use another folder")
    return state


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _evaluate(model: nn.Module, normalise: Normaliser, settings: TrainSettings,
              images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    model.eval()
    loss_sum = torch.zeros((), device=normalise.device)
    correct = torch.zeros((), device=normalise.device, dtype=torch.long)
    with torch.no_grad(), torch.autocast(normalise.device.type, enabled=settings.amp and normalise.device.type == "cuda"):
        for x, y in eval_batches(images, labels, settings.eval_batch_size):
            x = normalise(x)
            if settings.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = y.to(normalise.device, non_blocking=True)
            logits = model(x)
            loss_sum += nn.functional.cross_entropy(logits.float(), y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
    n = len(labels)
    return float(loss_sum) / n, 100.0 * float(correct) / n


def train(
    cell: Cell,
    data: LiveData,
    settings: TrainSettings,
    *,
    until: int | None = None,
    seed: int | None = None,
    checkpoint: Path | None = None,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
) -> TrainResult:
    """Train ``cell`` on ``data`` to epoch ``until`` of the ``settings.epochs`` schedule.

    Args:
        until: the epoch to stop at (default: the whole schedule); the learning rate follows
            the full schedule either way, so epoch 3 of a 12-epoch run is the same whether or not
            the run goes on.
        seed: the training seed (default ``settings.seed``).
        checkpoint: a file to continue from (if it exists) and to update after every epoch.
        on_epoch: called after every epoch with its record; True stops the training (pruned).
    """
    started = time.perf_counter()
    seed = settings.seed if seed is None else seed
    until = settings.epochs if until is None else until
    if not 1 <= until <= settings.epochs:
        raise BadInputError(f"live fidelity must be an epoch in 1..{settings.epochs}, got {until}")
    device = resolve_device(settings.device)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    state = _load(checkpoint, settings, cell, seed)
    curve = [EpochRecord(**r) for r in state["records"]] if state else []
    model = build_live_network(cell, data.num_classes, seed)
    params = sum(p.numel() for p in model.parameters())

    def result(status: str, reason: str, resumed: int, trained_images: int, train_s: float, first: float) -> TrainResult:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return TrainResult(status, reason, tuple(curve), resumed, time.perf_counter() - started,
                           first if first else time.perf_counter() - started,
                           trained_images / train_s if train_s else 0.0, _device_label(device), params,
                           _peak_memory_mb(device))

    if len(curve) >= until:  # the saved curve already holds the epoch: answer from it, train nothing
        del curve[until:]
        return result("ok", "", until, 0, 0.0, 0.0)
    if state and "model" not in state:
        raise BadInputError(f"checkpoint {checkpoint} holds results only (save_weights off): it cannot continue to epoch {until}")

    model.to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                                nesterov=settings.nesterov, weight_decay=settings.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=settings.amp and device.type == "cuda")
    if state:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
    resumed = len(curve)
    normalise = Normaliser(data.mean, data.std, device)
    train_x, train_y = torch.from_numpy(data.train.images), torch.from_numpy(data.train.labels)
    valid_x, valid_y = torch.from_numpy(data.valid.images), torch.from_numpy(data.valid.labels)
    steps = -(-len(train_y) // settings.batch_size)
    trained_images, train_total, first_batch = 0, 0.0, 0.0
    try:
        for epoch in range(resumed + 1, until + 1):
            model.train()
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            generator = epoch_generator(seed, epoch)
            batches = train_batches(train_x, train_y, settings.batch_size, data.crop_padding, settings.augment, generator)
            for step, (x, y) in enumerate(batches):
                for group in optimizer.param_groups:
                    group["lr"] = _learning_rate(settings, epoch - 1 + step / steps)
                x, y = normalise(x), y.to(device, non_blocking=True)
                if settings.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, enabled=scaler.is_enabled()):
                    logits = model(x)
                    loss = nn.functional.cross_entropy(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                loss_sum += loss.detach() * len(y)
                correct += (logits.detach().argmax(1) == y).sum()
                if not first_batch:
                    first_batch = time.perf_counter() - started
            train_loss = float(loss_sum) / len(train_y)  # one sync per epoch, not per batch
            t1 = time.perf_counter()
            trained_images += len(train_y)
            train_total += t1 - t0
            if not math.isfinite(train_loss):
                return result("failed", f"the training loss became {train_loss} in epoch {epoch}",
                              resumed, trained_images, train_total, first_batch)
            valid_loss, valid_acc = _evaluate(model, normalise, settings, valid_x, valid_y)
            record = EpochRecord(epoch, train_loss, 100.0 * float(correct) / len(train_y), valid_loss, valid_acc,
                                 t1 - t0, time.perf_counter() - t1)
            curve.append(record)
            if checkpoint is not None:
                saved = {"settings": settings.to_dict(), "cell": cell.index, "seed": seed,
                         "records": [asdict(r) for r in curve]}
                if settings.save_weights:
                    saved.update(model=model.state_dict(), optimizer=optimizer.state_dict(), scaler=scaler.state_dict())
                _save(checkpoint, saved)
            if on_epoch is not None and on_epoch(record) and epoch < until:
                return result("pruned", f"stopped by the callback after epoch {epoch}",
                              resumed, trained_images, train_total, first_batch)
    except (torch.OutOfMemoryError, MemoryError) as exc:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return result("failed", f"out of memory: {str(exc).splitlines()[0][:200]}", resumed, trained_images,
                      train_total, first_batch)
    return result("ok", "", resumed, trained_images, train_total, first_batch)

"""Batches from an in-memory uint8 image set: NB201's augmentation and normalisation on tensors.

Why on tensors, batch-wise: torchvision is not a dependency, and a per-image PIL pipeline in
DataLoader workers would compete for the same few cores as training. The random crop (zero
padding, as torchvision's ``RandomCrop(padding=p)`` pads the image before ``ToTensor``) and the
horizontal flip are gathers over a padded batch, drawn from one seeded generator per epoch,
so a run is repeatable and a resumed epoch sees the same data as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

__all__ = ["Normaliser", "epoch_generator", "train_batches", "eval_batches"]


class Normaliser:
    """uint8 NHWC -> normalised float NCHW on the training device."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], device: torch.device) -> None:
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)
        self.device = device

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        return x.sub_(self.mean).div_(self.std)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's order and augmentation: a function of (seed, epoch) alone."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def _crop_and_flip(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Random ``padding``-pixel crop of a zero-padded NHWC uint8 batch, then a random horizontal flip."""
    n, h, w, _ = images.shape
    padded = torch.nn.functional.pad(images, (0, 0, padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
    rows = (dy + torch.arange(h)).view(n, h, 1)
    cols = (dx + torch.arange(w)).view(n, 1, w)
    flip = torch.rand(n, generator=generator) < 0.5
    cols = torch.where(flip.view(n, 1, 1), cols.flip(-1), cols)
    return padded[torch.arange(n).view(n, 1, 1), rows, cols]


def train_batches(
    images: torch.Tensor, labels: torch.Tensor, batch_size: int, padding: int, augment: bool, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled (and augmented) uint8 batches; the last batch may be smaller, as in NB201's loader."""
    order = torch.randperm(len(labels), generator=generator)
    for start in range(0, len(order), batch_size):
        take = order[start : start + batch_size]
        batch = images[take]
        yield (_crop_and_flip(batch, padding, generator) if augment and padding else batch), labels[take]


def eval_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The images in order, no augmentation (NB201's test-time transform: normalise only)."""
    for start in range(0, len(labels), batch_size):
        yield images[start : start + batch_size], labels[start : start + batch_size]

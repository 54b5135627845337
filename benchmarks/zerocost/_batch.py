"""The one fixed, seeded minibatch that data-dependent proxies see.

Two kinds, both a pure function of (dataset, batch size, seed) and drawn on the CPU, so every
machine gets the same tensor:

* ``patches`` (default): natural-image patches from the two photographs scikit-learn ships
  (``sklearn.datasets.load_sample_images``: china.jpg and flower.jpg, CC BY 2.0, by
  danielbuechele and vultilion on Flickr). Each image of the batch is a seeded random square
  crop of 64..256 px from one photo (alternating), area-resized to the dataset's resolution;
  the batch is then standardised per channel. Labels are uniformly random.
* ``noise``: i.i.d. N(0, 1) pixels with uniformly random labels.

Why patches by default: jacov, nwot and fisher measure how a network separates *inputs*, and
on i.i.d. noise they rank NB201 cells clearly worse than with real images (on NASLib's 724
cells, rho with accuracy 0.66/0.73/0.41 on noise against 0.78/0.80/0.54 on patches; NASLib's
own values, computed on CIFAR-10 batches, give 0.80/0.80/0.53). No real CIFAR image ships with
any package here; the two photos do, with scikit-learn, a dependency of the project. The
labels stay random: patches have no classes.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from benchmarks.zerocost._network import NET_SHAPES

__all__ = ["BATCH_KINDS", "DEFAULT_BATCH", "DEFAULT_BATCH_KIND", "fixed_batch"]

BATCH_KINDS = ("patches", "noise")
DEFAULT_BATCH_KIND = "patches"
#: NASLib's batch size for its precomputed NB201 proxies (NAS-Bench-Suite-Zero,
#: ``scripts/zc/create_configs_correlation.py``); nwot and jacov scale with it.
#: Abdelfattah et al. used 64.
DEFAULT_BATCH = 32


def _photos() -> list[torch.Tensor]:
    try:
        from sklearn.datasets import load_sample_images
    except ImportError as exc:  # a bare GPU machine: say what to do instead
        raise RuntimeError(
            "batch kind 'patches' needs scikit-learn (and Pillow) for its two sample photos; "
            "install them or use batch kind 'noise'"
        ) from exc
    return [torch.tensor(im, dtype=torch.float32).permute(2, 0, 1) / 255.0 for im in load_sample_images().images]


def fixed_batch(
    dataset: str, batch_size: int = DEFAULT_BATCH, seed: int = 0, kind: str = DEFAULT_BATCH_KIND
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) of the fixed minibatch for ``dataset``; see the module docstring.

    Cached (decoding the photos costs more than a small network's proxies); callers get copies.
    """
    images, labels = _batch(dataset, batch_size, seed, kind)
    return images.clone(), labels.clone()


@lru_cache(maxsize=8)
def _batch(dataset: str, batch_size: int, seed: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    if kind not in BATCH_KINDS:
        raise ValueError(f"unknown batch kind {kind!r}; kinds: {BATCH_KINDS}")
    shape = NET_SHAPES[dataset]
    side = shape.resolution
    gen = torch.Generator().manual_seed(seed)
    if kind == "noise":
        images = torch.randn(batch_size, 3, side, side, generator=gen)
    else:
        photos = _photos()
        crops = []
        for i in range(batch_size):
            photo = photos[i % len(photos)]
            size = int(torch.randint(64, 257, (1,), generator=gen))
            top = int(torch.randint(0, photo.shape[1] - size + 1, (1,), generator=gen))
            left = int(torch.randint(0, photo.shape[2] - size + 1, (1,), generator=gen))
            crop = photo[None, :, top : top + size, left : left + size]
            crops.append(F.interpolate(crop, size=(side, side), mode="area")[0])
        images = torch.stack(crops)
        images = (images - images.mean(dim=(0, 2, 3), keepdim=True)) / images.std(dim=(0, 2, 3), keepdim=True)
    labels = torch.randint(0, shape.num_classes, (batch_size,), generator=gen)
    return images, labels

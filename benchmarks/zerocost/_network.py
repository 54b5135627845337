"""NB201 networks in plain torch, built exactly like xautodl's ``TinyNetwork`` + ``InferCell``.

Only ``torch.nn`` layers are used (no torchvision, no xautodl), so the same code runs with the
pinned torch here and on a GPU machine with another torch and no package registry.

Why copy the official layout module for module: the proxies sum over ``Conv2d``/``Linear``
weights and hook ``ReLU`` modules, so an extra bias, a fused op or a functional ReLU would
change their values even where the function computed is the same. Official details kept:

* ``ReLUConvBN``: ReLU -> Conv2d(bias=False) -> BatchNorm2d(affine=True);
* ``none`` multiplies by 0 (``x.mul(0.)``), so gradients flow as zeros, as in NB201;
* ``avg_pool_3x3``: AvgPool2d(3, stride 1, padding 1, count_include_pad=False), no params,
  computed by :class:`AvgPool3x3` (bit-for-bit the same as torch's CPU kernel, 4x faster);
* the reduction block (``ResNetBasicblock``, stride 2): two ReLUConvBN 3x3 and a shortcut of
  AvgPool2d(2) + Conv2d 1x1 (no BN);
* head: BatchNorm2d + ReLU, global average pooling, Linear.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from adapters import EDGES, OPS, Cell

__all__ = ["C", "N", "NetShape", "NET_SHAPES", "NB201Network", "AvgPool3x3", "build_network"]

C = 16  #: stem channels; the stages have C, 2C, 4C
N = 5  #: cells per stage


@dataclass(frozen=True)
class NetShape:
    """The input and output shape a dataset gives the network."""

    num_classes: int
    resolution: int


#: hpo2nas dataset names -> network shape (ImageNet16-120 uses 16x16 inputs).
NET_SHAPES: dict[str, NetShape] = {
    "cifar10-valid": NetShape(10, 32),
    "cifar10": NetShape(10, 32),
    "cifar100": NetShape(100, 32),
    "ImageNet16-120": NetShape(120, 16),
}


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """``none``: a zero tensor that stays in the autograd graph (NB201's ``x.mul(0.)``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


_WINDOW = [(a, b) for a in range(3) for b in range(3)]  # row-major, the order torch's CPU kernel sums in


def _window_sum(x: torch.Tensor) -> torch.Tensor:
    """Each pixel's 3x3 neighbourhood sum (zero padding), adding terms in torch's kernel order."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1))
    total = padded[..., 0:h, 0:w] + padded[..., 0:h, 1 : w + 1]
    for a, b in _WINDOW[2:]:
        total += padded[..., a : a + h, b : b + w]
    return total


def _window_counts(like: torch.Tensor) -> torch.Tensor:
    """How many in-image pixels each 3x3 window covers (9 inside, 6 on edges, 4 in corners)."""
    def covered(n: int) -> torch.Tensor:
        i = torch.arange(n, device=like.device)
        return (3 - (i == 0).long() - (i == n - 1).long()).to(like.dtype)

    h, w = like.shape[-2:]
    return covered(h)[:, None] * covered(w)[None, :]


class _AvgPool3x3Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        return _window_sum(x) / _window_counts(x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        # The window is symmetric, so scattering grad/count back is the same shifted sum.
        return _window_sum(grad / _window_counts(grad))


class AvgPool3x3(nn.Module):
    """``AvgPool2d(3, stride=1, padding=1, count_include_pad=False)`` from shifted slices.

    Why: torch's CPU kernel for this pool is scalar and took half of a proxy pass over a
    pool-heavy cell. Adding the nine shifted slices in the kernel's own order and dividing
    by the same counts gives bit-identical outputs and gradients (tested), so the shipped
    table's values do not depend on which one computed them.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _AvgPool3x3Function.apply(x)


def _op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    raise ValueError(f"unknown NB201 op {name!r}")


class InferCell(nn.Module):
    """One NB201 cell: node i sums op(node j) over its incoming edges j -> i."""

    def __init__(self, cell: Cell, channels: int) -> None:
        super().__init__()
        # Layers in NB201 edge order, which is also InferCell's (node by node, source ascending).
        self.layers = nn.ModuleList(_op(OPS[op], channels) for op in cell.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            nodes.append(sum(self.layers[e](nodes[frm]) for e, (to, frm) in enumerate(EDGES) if to == node))
        return nodes[3]


class ResNetBasicblock(nn.Module):
    """The fixed reduction block between stages (stride 2, channels doubled)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NB201 macro skeleton around one cell (xautodl ``TinyNetwork(C=16, N=5)``)."""

    def __init__(self, cell: Cell, num_classes: int) -> None:
        super().__init__()
        self.cell = cell
        self.stem = nn.Sequential(nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C))
        cells: list[nn.Module] = []
        channels = C
        for stage in range(3):
            if stage:
                cells.append(ResNetBasicblock(channels, channels * 2))
                channels *= 2
            cells.extend(InferCell(cell, channels) for _ in range(N))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map before global pooling (after the final BN + ReLU), for Zen-NAS."""
        x = self.stem(x)
        for block in self.cells:
            x = block(x)
        return self.lastact(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.features(x)).flatten(1))


def build_network(cell: Cell, dataset: str = "cifar10-valid", *, seed: int | None = None) -> NB201Network:
    """The network of ``cell`` for ``dataset``'s class count, in train mode.

    With ``seed``, the default PyTorch initialisation is drawn under ``torch.manual_seed(seed)``
    so the weights are a function of (cell, dataset, seed) alone, whatever ran before.
    """
    shape = NET_SHAPES[dataset]
    if seed is None:
        return NB201Network(cell, shape.num_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NB201Network(cell, shape.num_classes)


def built_param_count(cell: Cell, num_classes: int = 10) -> int:
    """Trainable parameters of the real module tree, built on torch's meta device.

    Why: the closed form (``param_count``) is what the table check uses; this counts what
    ``NB201Network`` actually allocates, so the closed form can be checked against it cell by cell.
    Meta tensors have shapes only, so no initialisation is paid.
    """
    with torch.device("meta"):
        net = NB201Network(cell, num_classes)
    return sum(p.numel() for p in net.parameters())

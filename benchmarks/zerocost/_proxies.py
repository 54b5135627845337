"""Zero-cost proxies of one NB201 network at initialisation, following NASLib's definitions.

NASLib (``naslib/predictors/pruners/measures``, from Abdelfattah et al. 2021's zero-cost-nas)
is the reference, so that values can be compared with its precomputed table. Every proxy
sums over the weights of ``Conv2d`` and ``Linear`` layers, with the network in train mode
(BatchNorm normalises with batch statistics) and PyTorch's default initialisation drawn
under ``torch.manual_seed(seed)``.

The one fixed minibatch comes from ``_batch.fixed_batch``: by default 32 natural-image
patches (scikit-learn's two sample photos) with random labels, optionally i.i.d. noise; see
that module for why. **Deviation:** NASLib used one batch of real CIFAR/ImageNet16 training
images with their labels; the README's zero-cost section reports the effect on rank correlations.

Data-free proxies need no batch: ``synflow`` feeds a single all-ones image, ``zen`` its own
seeded Gaussian inputs, and ``params``/``flops`` are closed-form counts.

Further deviations, each small and deliberate:

* non-finite scores become -1e8 and ``synflow`` is reported as ``log(score)``, exactly
  NASLib's post-processing (``ZeroCost.query``);
* ``jacov`` takes the Jacobian of the summed logits w.r.t. the input and the eigenvalues of
  its correlation matrix with a symmetric solver (``eigvalsh``; NASLib's ``eig`` can return
  complex noise for a symmetric matrix);
* ``nwot`` accumulates NASWOT's Hamming kernel over the inputs of every ReLU module in float64;
* ``fisher`` keeps NASLib's broadcast of each channel's value over that channel's fan-in
  (the per-channel sum is multiplied by ``in_channels * k * k``), because NASLib sums the
  broadcast array;
* ``zen`` reads the feature map after the final BN + ReLU (NASLib's input of the global
  pooling) and BN running variances updated by its two forward passes (momentum 0.1, from 1).
"""

from __future__ import annotations

import copy
import math
import time
import types
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from adapters import Cell
from benchmarks.zerocost._batch import DEFAULT_BATCH, DEFAULT_BATCH_KIND, fixed_batch
from benchmarks.zerocost._counts import flop_count, param_count
from benchmarks.zerocost._network import NET_SHAPES, NB201Network, build_network

__all__ = [
    "TORCH_PROXIES",
    "ANALYTIC_PROXIES",
    "PROXIES",
    "DATA_FREE",
    "compute_proxies",
]

#: Proxies that need a network; in the order of the table's columns.
TORCH_PROXIES: tuple[str, ...] = ("synflow", "grad_norm", "snip", "grasp", "fisher", "jacov", "nwot", "zen")
#: Closed-form proxies (no network is built).
ANALYTIC_PROXIES: tuple[str, ...] = ("params", "flops")
PROXIES: tuple[str, ...] = TORCH_PROXIES + ANALYTIC_PROXIES
#: Proxies that use no minibatch.
DATA_FREE: frozenset[str] = frozenset({"synflow", "zen", "params", "flops"})

#: Proxies computed from one shared forward pass on the fixed batch.
_BATCH_PASS = frozenset({"grad_norm", "snip", "fisher", "nwot", "grasp", "jacov"})


def timing_group(name: str) -> str:
    """The ``timings`` key a proxy's time is recorded under (the table's ``mean_seconds_per_cell``).

    jacov's backward is timed on its own; the other batch proxies share ``loss_pass``.
    """
    return "loss_pass" if name in _BATCH_PASS and name != "jacov" else name
_FAILED = -1e8  # NASLib's value for NaN/inf scores


def _weighted_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _finite(value: float) -> float:
    return value if math.isfinite(value) else _FAILED


def _jacov_score(jacob: torch.Tensor) -> float:
    """Jacobian covariance (Mellor et al. v1) of per-image input gradients, NASLib's variant with k = 1e-5."""
    jacob_np = jacob.flatten(1).to(torch.float64).cpu().numpy()
    with np.errstate(all="ignore"):
        corrs = np.corrcoef(jacob_np)
        if not np.all(np.isfinite(corrs)):
            return float("nan")
        eig = np.linalg.eigvalsh(corrs)
        k = 1e-5
        return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


def _batch_pass(
    net: NB201Network, x: torch.Tensor, y: torch.Tensor, names: set[str], timings: Callable[[str, float], None]
) -> dict[str, float]:
    """Every minibatch proxy (grad_norm, snip, fisher, nwot, grasp, jacov) from one forward pass.

    Sharing the forward is exact: NASLib runs each proxy on a fresh copy of the same initial
    network and batch, and train-mode BN does not depend on running statistics, so each
    backward below sees the graph its own forward would have built. ``timings`` gets
    ``loss_pass`` (the forward, the cross-entropy backward and grasp's Hessian pass) and
    ``jacov`` (the input-gradient backward and the eigenvalues).
    """
    t0 = time.perf_counter()
    layers = _weighted_layers(net)
    weights = [m.weight for m in layers]
    module_hooks = []
    grad_hooks: list[torch.utils.hooks.RemovableHandle] = []
    kernel = torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64, device=x.device)
    fisher_terms: list[torch.Tensor] = []

    if "nwot" in names:
        def relu_hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            # c c^T + (1-c)(1-c)^T = 2 c c^T + D - s_i - s_j (s: row sums, D: features), one
            # matmul instead of two; float32 is exact for 0/1 codes (sums < 2^24), then float64.
            nonlocal kernel
            codes = (inputs[0].detach().flatten(1) > 0).to(torch.float32)
            sums = codes.sum(1, dtype=torch.float64)
            agree = 2.0 * (codes @ codes.t()).to(torch.float64) + codes.shape[1] - sums[:, None] - sums[None, :]
            kernel = kernel + agree

        module_hooks += [m.register_forward_hook(relu_hook) for m in net.modules() if isinstance(m, nn.ReLU)]

    if "fisher" in names:
        def fisher_hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            act = output.detach()
            fan_in = math.prod(module.weight.shape[1:])

            def on_grad(grad: torch.Tensor) -> None:
                grad = grad.detach()  # it carries a graph when grasp asked for create_graph
                g_nk = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
                fisher_terms.append(0.5 * g_nk.pow(2).mean(0).abs().sum() * fan_in)

            grad_hooks.append(output.register_hook(on_grad))

        module_hooks += [m.register_forward_hook(fisher_hook) for m in layers]

    backward = names - {"nwot", "jacov"}
    if "jacov" in names:  # a copy, so the cached fixed batch never carries requires_grad
        x = x.clone().requires_grad_(True)
    try:
        logits = net(x)
        grads: Sequence[torch.Tensor | None] = ()
        if backward:
            loss = F.cross_entropy(logits, y)
            # grasp differentiates these gradients again, so they keep their graph (bit-identical
            # values, one backward fewer than NASLib's separate grad_w and grad_f passes).
            grads = torch.autograd.grad(loss, weights, allow_unused=True, retain_graph=bool(names & {"jacov", "grasp"}),
                                        create_graph="grasp" in names)
    finally:
        for handle in module_hooks + grad_hooks:  # fisher reads the cross-entropy gradients only
            handle.remove()

    hessian_grads, grads = grads, [None if g is None else g.detach() for g in grads]
    out: dict[str, float] = {}
    if "grad_norm" in names:
        out["grad_norm"] = float(sum(g.norm() for g in grads if g is not None))
    if "snip" in names:
        out["snip"] = float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads) if g is not None))
    if "fisher" in names:
        out["fisher"] = float(sum(fisher_terms))
    if "nwot" in names:
        out["nwot"] = float(torch.linalg.slogdet(kernel)[1])
    if "grasp" in names:
        # GraSP: Hg by differentiating g_detached . g; score = sum(-theta * Hg).
        z = sum((g.detach() * g).sum() for g in hessian_grads if g is not None)
        hg = torch.autograd.grad(z, weights, allow_unused=True, retain_graph="jacov" in names)
        out["grasp"] = float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg) if h is not None))
    if "jacov" in names:
        t1 = time.perf_counter()
        timings("loss_pass", t1 - t0)
        (jacob,) = torch.autograd.grad(logits, x, grad_outputs=torch.ones_like(logits))
        out["jacov"] = _jacov_score(jacob)
        timings("jacov", time.perf_counter() - t1)
    else:
        timings("loss_pass", time.perf_counter() - t0)
    return out


def _no_bn(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x


def _synflow(net: NB201Network, resolution: int, device: torch.device) -> float:
    """SynFlow: |theta| in float64, BN bypassed, one all-ones image, sum of |theta * dR/dtheta|."""
    net = copy.deepcopy(net).double()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            tensor.abs_()
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.forward = types.MethodType(_no_bn, module)
    layers = _weighted_layers(net)
    weights = [m.weight for m in layers]
    out = net(torch.ones(1, 3, resolution, resolution, dtype=torch.float64, device=device))
    grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    return float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads) if g is not None))


def _zen(net: NB201Network, batch_shape: Sequence[int], seed: int, device: torch.device) -> float:
    """Zen-score (Lin et al. 2021): Gaussian weights, log E|f(x) - f(x + 0.01 eps)| + sum log BN scale."""
    net = copy.deepcopy(net)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
                module.reset_running_stats()  # as if fresh: other proxies' forwards moved them
        x = torch.randn(list(batch_shape), generator=gen).to(device)
        x2 = torch.randn(list(batch_shape), generator=gen).to(device)
        out = net.features(x)
        mixed = net.features(x + 0.01 * x2)
        score = torch.log((out - mixed).abs().sum(dim=(1, 2, 3)).mean())
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                score = score + torch.log(torch.sqrt(module.running_var.mean()))
    return float(score)


def compute_proxies(
    cell: Cell,
    dataset: str = "cifar10-valid",
    names: Iterable[str] = PROXIES,
    *,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH,
    batch_kind: str = DEFAULT_BATCH_KIND,
    device: str | torch.device = "cpu",
    timings: dict[str, float] | None = None,
) -> dict[str, float]:
    """The requested proxies of ``cell``'s network on ``dataset`` (a pure function of the arguments).

    Every proxy starts from the same initial network (built on the CPU under ``seed``, then
    moved to ``device``). ``timings``, if given, receives seconds per proxy group
    (``loss_pass`` covers grad_norm, snip, fisher, nwot and grasp together).
    """
    names = list(dict.fromkeys(names))
    unknown = sorted(set(names) - set(PROXIES))
    if unknown:
        raise ValueError(f"unknown proxies {unknown}; known: {PROXIES}")
    device = torch.device(device)
    shape = NET_SHAPES[dataset]
    out: dict[str, float] = {}
    if "params" in names:
        out["params"] = float(param_count(cell, shape.num_classes))
    if "flops" in names:
        out["flops"] = float(flop_count(cell, dataset))
    wanted = set(names) & set(TORCH_PROXIES)
    if not wanted:
        return {n: out[n] for n in names}

    def record(group: str, seconds: float) -> None:
        if timings is not None:
            timings[group] = timings.get(group, 0.0) + seconds

    def timed(group: str, fn: Callable[[], object]) -> object:
        t0 = time.perf_counter()
        result = fn()
        record(group, time.perf_counter() - t0)
        return result

    net = build_network(cell, dataset, seed=seed).to(device).train()
    if wanted - DATA_FREE:
        x, y = (t.to(device) for t in fixed_batch(dataset, batch_size, seed, batch_kind))
    if "synflow" in wanted:
        raw = timed("synflow", lambda: _synflow(net, shape.resolution, device))
        out["synflow"] = math.log(raw) if raw > 0 else (0.0 if raw == 0 else -math.log(-raw))
    if wanted & _BATCH_PASS:
        out.update(_batch_pass(net, x, y, wanted & _BATCH_PASS, record))
    if "zen" in wanted:
        batch_shape = (batch_size, 3, shape.resolution, shape.resolution)
        out["zen"] = timed("zen", lambda: _zen(net, batch_shape, seed, device))
    return {n: _finite(out[n]) for n in names}

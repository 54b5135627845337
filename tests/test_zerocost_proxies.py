"""Zero-cost proxies: deterministic, shared passes exact, data-free ones need no batch, NASLib's code paths."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from adapters import Cell
from benchmarks.zerocost import PROXIES, TORCH_PROXIES, build_network, compute_proxies, fixed_batch

#: Every op once (conv 1x1 and 3x3, pool, skip, none), and the all-none cell whose output ignores its input.
MIXED = Cell.from_op_names(["nor_conv_1x1", "skip_connect", "avg_pool_3x3", "nor_conv_3x3", "none", "skip_connect"])
ALL_NONE = Cell.from_op_names(["none"] * 6)
BATCH = 8  # small, to keep tests fast; the table uses 32


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def mixed_values() -> dict[str, float]:
    return compute_proxies(MIXED, "cifar10-valid", PROXIES, seed=1, batch_size=BATCH)


def test_deterministic_and_finite(mixed_values):
    assert compute_proxies(MIXED, "cifar10-valid", PROXIES, seed=1, batch_size=BATCH) == mixed_values
    assert all(math.isfinite(v) and v != -1e8 for v in mixed_values.values()), mixed_values


def test_seed_changes_values(mixed_values):
    other = compute_proxies(MIXED, "cifar10-valid", ("snip", "synflow"), seed=2, batch_size=BATCH)
    assert other["snip"] != mixed_values["snip"] and other["synflow"] != mixed_values["synflow"]


def test_each_proxy_alone_equals_shared_passes(mixed_values):
    """Sharing one cross-entropy pass is exact: each proxy alone gives the same value."""
    for name in TORCH_PROXIES:
        assert compute_proxies(MIXED, "cifar10-valid", (name,), seed=1, batch_size=BATCH)[name] == mixed_values[name]


def test_data_free_proxies_use_no_batch(monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("a data-free proxy asked for the minibatch")

    monkeypatch.setattr("benchmarks.zerocost._proxies.fixed_batch", no_data)
    values = compute_proxies(MIXED, "ImageNet16-120", ("synflow", "zen", "params", "flops"), batch_size=BATCH)
    assert set(values) == {"synflow", "zen", "params", "flops"}


def test_degenerate_network_gets_naslib_failure_value():
    """The all-none network's output ignores its input: jacov is undefined, reported as NASLib's -1e8."""
    values = compute_proxies(ALL_NONE, "cifar10-valid", ("jacov", "synflow", "params"), batch_size=BATCH)
    assert values["jacov"] == -1e8 and math.isfinite(values["synflow"])


def test_fixed_batch_is_seeded():
    x, y = fixed_batch("cifar100", 16, seed=5)
    x2, y2 = fixed_batch("cifar100", 16, seed=5)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert x.shape == (16, 3, 32, 32) and 0 <= int(y.min()) and int(y.max()) < 100


def test_grad_norm_and_snip_match_naslib_code_path(mixed_values):
    """NASLib computes grad_norm from ``loss.backward()`` and snip from the gradient of a ones mask."""
    net = build_network(MIXED, seed=1).train()
    x, y = fixed_batch("cifar10-valid", BATCH, seed=1)
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    masks = {m: torch.ones_like(m.weight, requires_grad=True) for m in layers}
    originals = {m: m.weight for m in layers}

    def masked_forward(module: nn.Module, inputs: tuple[torch.Tensor]) -> None:
        module.weight = originals[module] * masks[module]

    for m in layers:
        del m.weight
        m.register_forward_pre_hook(masked_forward)
    F.cross_entropy(net(x), y).backward()
    snip = sum(masks[m].grad.abs().sum() for m in layers)
    grad_norm = sum(originals[m].grad.norm() for m in layers)
    assert float(snip) == pytest.approx(mixed_values["snip"], rel=1e-5)
    assert float(grad_norm) == pytest.approx(mixed_values["grad_norm"], rel=1e-5)

"""The torch NB201 builder: shapes, parameter counts against the table, FLOPs against hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from adapters import NUM_CELLS, Cell, from_naslib
from benchmarks.zerocost import NET_SHAPES, build_network, flop_count, flop_counts, param_count, param_counts
from benchmarks.zerocost._network import AvgPool3x3, InferCell, built_param_count
from benchmarks.zerocost._counts import ONE_CONV_PARAMS, find_model_size_exceptions, model_size_exceptions

from conftest import shared_table

DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("dataset", DATASETS)
def test_forward_shape(dataset):
    """32x32 (16x16 for ImageNet16-120) in, one logit per class out."""
    shape = NET_SHAPES[dataset]
    net = build_network(Cell.from_index(6111), dataset, seed=0)
    out = net(torch.randn(2, 3, shape.resolution, shape.resolution))
    assert out.shape == (2, shape.num_classes)


def test_seeded_build_is_reproducible():
    a, b = build_network(Cell.from_index(6111), seed=3), build_network(Cell.from_index(6111), seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_known_values():
    """NB201's best cell: 1.073466 M params (model_size) and 153.27 MFLOPs on CIFAR-10."""
    assert param_count(Cell.from_index(6111)) == 1_073_466
    assert flop_count(Cell.from_index(6111)) == 153_272_970
    assert param_count(Cell.from_op_names(["none"] * 6)) == 73_306


def test_closed_form_params_match_built_networks():
    """The formula equals whole built networks on a seeded sample, for every class count."""
    sample = np.random.default_rng(0).choice(NUM_CELLS, 12, replace=False).tolist() + [6111, 0]
    for index in sample:
        cell = Cell.from_index(int(index))
        assert built_param_count(cell, 10) == param_count(cell, 10), cell
    for num_classes in (100, 120):
        cell = Cell.from_index(int(sample[0]))
        assert built_param_count(cell, num_classes) == param_count(cell, num_classes)


def test_closed_form_params_match_built_cells_of_every_exception():
    """On all 150 listed cells the formula equals real modules: fixed layers + 5 built cells per stage.

    Building the three stage cells instead of whole networks keeps this fast; the whole-network
    test above checks that the network is exactly those parts.
    """
    fixed = built_param_count(Cell.from_op_names(["none"] * 6), 10)
    for index in model_size_exceptions():
        cell = Cell.from_index(index)
        with torch.device("meta"):
            stages = [InferCell(cell, c) for c in (16, 32, 64)]
        built = fixed + 5 * sum(p.numel() for stage in stages for p in stage.parameters())
        assert built == param_count(cell, 10), cell


def _hook_flops(net: nn.Module, resolution: int) -> int:
    """NB201's counter (xautodl get_model_infos): conv and linear multiply-accumulates + biases."""
    total = 0

    def conv(m: nn.Conv2d, inputs, out) -> None:
        nonlocal total
        per_pos = m.kernel_size[0] * m.kernel_size[1] * m.in_channels * m.out_channels // m.groups
        total += out.shape[2] * out.shape[3] * (per_pos + (m.out_channels if m.bias is not None else 0))

    def linear(m: nn.Linear, inputs, out) -> None:
        nonlocal total
        total += m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)

    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        net(torch.zeros(1, 3, resolution, resolution))
    return total


@pytest.mark.parametrize("dataset", DATASETS)
def test_closed_form_flops_match_hook_counter(dataset):
    for index in (6111, 0, 3, 12345):
        cell = Cell.from_index(index)
        assert _hook_flops(build_network(cell, dataset), NET_SHAPES[dataset].resolution) == flop_count(cell, dataset)


def test_table_model_size_matches_except_listed_cells(default_bench):
    """Every cell on every dataset equals the built network, but the 150 listed, each off by one conv."""
    listed = model_size_exceptions()
    assert len(listed) == 150
    for dataset in DATASETS:
        table = default_bench.lookup(np.arange(NUM_CELLS), dataset, "params_m")
        found = find_model_size_exceptions(table, NET_SHAPES[dataset].num_classes)
        assert {row["index"]: row["table_minus_built"] for row in found} == listed
        assert all(abs(row["table_minus_built"]) == ONE_CONV_PARAMS[row["conv"]] for row in found)
        ok = np.ones(NUM_CELLS, bool)
        ok[list(listed)] = False
        assert np.array_equal(np.rint(table[ok] * 1e6).astype(np.int64), param_counts(NET_SHAPES[dataset].num_classes)[ok])


def test_naslib_params_and_flops_agree():
    """NASLib's 'params' equal the closed form; its FLOPs differ only by what tensorwatch adds.

    NASLib counted FLOPs with tensorwatch, which also counts 3 per element for each conv op's
    ReLU + BN and 9 per output element for each 3x3 average pool, plus a constant for the
    fixed layers; NB201's convention (ours) counts conv/linear multiply-accumulates only.
    """
    from benchmarks.zerocost._quality import read_naslib_zc

    for dataset in ("cifar10-valid", "cifar100", "ImageNet16-120"):
        theirs = read_naslib_zc(shared_table("naslib_zc_nasbench201.json"), dataset)
        indices = np.flatnonzero(np.isfinite(theirs["params"]))
        assert len(indices) > 700
        assert np.allclose(theirs["params"][indices], param_counts(NET_SHAPES[dataset].num_classes)[indices] / 1e6,
                           rtol=0, atol=1e-6)
        cells = [Cell.from_index(int(i)) for i in indices]
        side = NET_SHAPES[dataset].resolution
        elements = 5 * sum(16 * 2**s * (side >> s) ** 2 for s in range(3))  # one op's outputs in 15 cells
        convs = np.array([sum(op in (2, 3) for op in c.ops) for c in cells])
        pools = np.array([sum(op == 4 for op in c.ops) for c in cells])
        extra = theirs["flops"][indices] * 1e6 - flop_counts(dataset)[indices]
        rest = extra - 3 * elements * convs - 9 * elements * pools
        assert np.ptp(rest) < 1.0  # the same constant for every cell


@pytest.mark.parametrize("shape", [(32, 16, 32, 32), (32, 64, 8, 8), (2, 3, 5, 7), (1, 1, 1, 1)])
def test_avg_pool_3x3_is_bit_identical_to_torch(shape):
    """The fast pool must not change a single bit of any proxy: outputs and gradients equal exactly."""
    gen = torch.Generator().manual_seed(sum(shape))
    x = torch.relu(torch.randn(shape, generator=gen)) * 1e3  # exact zeros and large values
    grad = torch.randn(shape, generator=gen)
    outs, grads = [], []
    for pool in (nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), AvgPool3x3()):
        leaf = x.clone().requires_grad_()
        out = pool(leaf)
        out.backward(grad)
        outs.append(out)
        grads.append(leaf.grad)
    assert torch.equal(outs[0], outs[1])
    assert torch.equal(grads[0], grads[1])

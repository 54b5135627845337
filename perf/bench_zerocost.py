"""Benchmark: seconds per cell for each zero-cost proxy, one CPU thread (or one GPU).

Not a test. Run it from the repository root::

    nice -n 10 .venv/bin/python perf/bench_zerocost.py --cells 8            # CPU, 1 thread
    .venv/bin/python perf/bench_zerocost.py --cells 32 --device cuda        # a GPU machine

Each proxy is timed alone on a seeded uniform sample of cells (network build included, as
the table's job pays it too), then the job's groups together. The peer, in the same run, is
the plain per-cell loop these started from: torch's own ``AvgPool2d`` and jacov in a pass of
its own; and for grasp, NASLib's separate grad_w and grad_f passes. Both must give
bit-identical values, which the script checks. It prints a Markdown
table and writes the figures to ``results/perf_zerocost_<device>.json`` (``--smoke``: one ImageNet16-120
cell, figures to a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.zerocost import (  # noqa: E402
    DEFAULT_BATCH,
    DEFAULT_BATCH_KIND,
    TORCH_PROXIES,
    build_network,
    compute_proxies,
    cpu_isa,
    fixed_batch,
    pin_cpu_isa,
)
from benchmarks.zerocost import _network  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from adapters import NUM_CELLS, Cell  # noqa: E402
from _results import add_smoke, results_path, write_results  # noqa: E402

#: What the table job computes per cell on cifar10-valid after synflow: one shared batch pass + zen.
BATCH = ("grad_norm", "snip", "fisher", "nwot", "jacov", "zen")


def plain_loop(cell: Cell, dataset: str, names: tuple[str, ...], device: str) -> dict[str, float]:
    """The peer: torch's AvgPool2d kernel, and jacov's forward pass not shared with the others."""
    fast_pool = _network.AvgPool3x3
    _network.AvgPool3x3 = lambda: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    try:
        rest = tuple(n for n in names if n != "jacov")
        values = compute_proxies(cell, dataset, rest, device=device)
        if "jacov" in names:
            values.update(compute_proxies(cell, dataset, ("jacov",), device=device))
    finally:
        _network.AvgPool3x3 = fast_pool
    return values


def naslib_grasp(cell: Cell, dataset: str, names: tuple[str, ...], device: str) -> dict[str, float]:
    """The peer for grasp: NASLib's two passes, the gradient grad_w and then grad_f with its graph."""
    net = build_network(cell, dataset, seed=0).to(device).train()
    x, y = (t.to(device) for t in fixed_batch(dataset, DEFAULT_BATCH, 0, DEFAULT_BATCH_KIND))
    weights = [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    grad_w = torch.autograd.grad(F.cross_entropy(net(x), y), weights, allow_unused=True)
    grad_f = torch.autograd.grad(F.cross_entropy(net(x), y), weights, create_graph=True, allow_unused=True)
    z = sum((w.detach() * f).sum() for w, f in zip(grad_w, grad_f) if w is not None and f is not None)
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return {"grasp": float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg) if h is not None))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--dataset", default="cifar10-valid")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:  # one cell at ImageNet16-120's 16 x 16 resolution: every proxy and peer, about 4x less compute
        args.cells, args.dataset = 1, "ImageNet16-120"
    pin_cpu_isa()  # before torch's first operation
    torch.set_num_threads(args.threads)
    cells = [Cell.from_index(int(i)) for i in np.random.default_rng(args.seed).choice(NUM_CELLS, args.cells, replace=False)]
    compute_proxies(cells[0], args.dataset, TORCH_PROXIES, device=args.device)  # warm-up

    values: dict[str, list[dict[str, float]]] = {}

    def per_cell(names: tuple[str, ...], compute=compute_proxies, label: str = "") -> list[float]:
        times = []
        for cell in cells:
            t0 = time.perf_counter()
            values.setdefault(label, []).append(compute(cell, args.dataset, names, device=args.device))
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        return times

    rows = {name: per_cell((name,), label=name) for name in TORCH_PROXIES}  # grasp alone is the job's way
    rows["the job's six batch proxies (one shared pass + zen)"] = per_cell(BATCH, label="job")
    rows["peer: the same six, plain loop"] = per_cell(BATCH, plain_loop, label="plain")
    rows["peer: grasp, NASLib's separate grad_w and grad_f passes"] = per_cell(("grasp",), naslib_grasp, "naslib")
    rows["all eight torch proxies (shared passes)"] = per_cell(TORCH_PROXIES)
    if values["job"] != values["plain"] or values["grasp"] != values["naslib"]:
        raise SystemExit("a peer gave different values: the speed-ups are not exact")
    facts = {
        "device": args.device if args.device == "cpu" else torch.cuda.get_device_name(0),
        "cpu": platform.processor() or platform.machine(),
        "threads": args.threads,
        "load_avg": os.getloadavg(),
        "torch": torch.__version__,
        "cpu_isa": cpu_isa(),
        "dataset": args.dataset,
        "cells": [c.index for c in cells],
    }
    print(f"{facts}\n\n| proxy | median s/cell | mean s/cell | max |\n|---|---|---|---|")
    for name, times in rows.items():
        print(f"| {name} | {statistics.median(times):.3f} | {statistics.mean(times):.3f} | {max(times):.3f} |")
    out = results_path(f"perf_zerocost_{'cpu' if args.device == 'cpu' else 'gpu'}.json", args.smoke)
    write_results(out, {"facts": facts, "seconds_per_cell": rows})


if __name__ == "__main__":
    main()

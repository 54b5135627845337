"""Benchmark: live training throughput of the harness's trainer against a plain PyTorch loop.

Not a test (``tests/test_perf_live.py`` runs its ``--smoke`` mode). From the repository root::

    nice -n 10 .venv/bin/python perf/bench_live.py                       # CPU, 1 thread, 1024 CIFAR-shaped images
    .venv/bin/python perf/bench_live.py --device cuda --images 25000 --epochs 3 [--amp] [--channels-last]
    .venv/bin/python perf/bench_live.py --smoke                         # seconds: 8x8 images, checks it runs

Side by side in one run, on the same network (NB201's best cell, the same seeded weights) and
the same synthetic tensors of CIFAR's shape:

* ``plain``: the textbook loop: the data normalised once into one float tensor, a shuffled
  slice per step, forward, cross-entropy, backward, SGD step;
* ``harness``: :func:`benchmarks.live.train` with augmentation off (the same work as ``plain``,
  plus what the harness adds: the per-step cosine, per-epoch validation, a checkpoint per epoch);
* ``harness+aug``: the harness with NB201's crop and flip (the default recipe).

Each variant runs in its own process (so start-up and peak memory are its own), the variants
alternate over ``--repeats`` rounds, and medians are reported. Throughput counts training
images per second of training time, from epoch 2 on (epoch 1 holds the warm-up, reported as
``first epoch start-up``: from process-side set-up to the end of the first batch). Peak memory
is the CUDA allocator's peak on a GPU and the process's peak RSS on a CPU. Figures go to
``results/perf_live_<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import results_path  # noqa: E402
sys.path.insert(0, str(ROOT))


import torch  # noqa: E402
from torch import nn  # noqa: E402

from adapters import parse_cell  # noqa: E402
from benchmarks.live import TrainSettings, build_live_network, synthetic_data, train  # noqa: E402

VARIANTS = ("plain", "harness", "harness+aug")
CELL = "333132"  #: NB201's best cell on cifar10-valid: 3x3 and 1x1 convolutions, the costly kind


def _data(args: argparse.Namespace):
    return synthetic_data(train=args.images, valid=max(32, args.images // 8), classes=10,
                          resolution=args.resolution, seed=0)


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plain_loop(args: argparse.Namespace) -> dict[str, float]:
    """The peer: a plain loop over the same network, weights and pre-normalised data."""
    started = time.perf_counter()
    device = torch.device(args.device)
    data = _data(args)
    model = build_live_network(parse_cell(CELL), data.num_classes, 0).to(device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    mean = torch.tensor(data.mean).view(1, 3, 1, 1)
    std = torch.tensor(data.std).view(1, 3, 1, 1)
    x_all = ((torch.from_numpy(data.train.images).permute(0, 3, 1, 2).float() / 255 - mean) / std).to(device)
    y_all = torch.from_numpy(data.train.labels).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp)
    first, epoch_s = 0.0, []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(epoch)).to(device)
        for start in range(0, len(order), args.batch):
            take = order[start:start + args.batch]
            x, y = x_all[take], y_all[take]
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, enabled=args.amp):
                loss = nn.functional.cross_entropy(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if not first:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                first = time.perf_counter() - started
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        epoch_s.append(time.perf_counter() - t0)
    return {"images_per_s": _steady(len(y_all), epoch_s), "start_up_s": first, "peak_memory_mb": _peak_mb(device)}


def _steady(images: int, epoch_s: list[float]) -> float:
    """Training images per second over the epochs after the first (all of them if there is one)."""
    steady = epoch_s[1:] or epoch_s
    return images * len(steady) / sum(steady)


def harness_loop(args: argparse.Namespace, augment: bool) -> dict[str, float]:
    """The harness's trainer on the same data, with a checkpoint per epoch into a temporary folder."""
    data = _data(args)
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch, eval_batch_size=512, augment=augment,
                             device=args.device, channels_last=args.channels_last, amp=args.amp, threads=args.threads)
    with tempfile.TemporaryDirectory() as folder:
        result = train(parse_cell(CELL), data, settings, checkpoint=Path(folder) / "c.pt")
    if result.status != "ok":
        raise SystemExit(f"harness training {result.status}: {result.reason}")
    return {"images_per_s": _steady(len(data.train), [r.train_s for r in result.curve]),
            "start_up_s": result.start_up_s, "peak_memory_mb": result.peak_memory_mb,
            "valid_s_per_epoch": statistics.mean(r.valid_s for r in result.curve), "device": result.device}


def measure(args: argparse.Namespace, variant: str) -> dict:
    """One variant's figures, in this process."""
    torch.set_num_threads(args.threads)
    return plain_loop(args) if variant == "plain" else harness_loop(args, augment=variant == "harness+aug")


def in_child(args: argparse.Namespace, variant: str) -> dict:
    """One variant's figures from a fresh process of this script (its own start-up and peak memory)."""
    passed = [a for a in sys.argv[1:] if a != "--smoke"]
    child = subprocess.run([sys.executable, __file__, *passed, "--variant", variant], capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: 64 images of 8x8, 2 epochs, 1 round, all variants in this process")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # a child process's one job
    args = parser.parse_args()
    if args.smoke:
        args.images, args.resolution, args.epochs, args.batch, args.repeats = 64, 8, 2, 32, 1
    if args.variant:
        return print(json.dumps(measure(args, args.variant)))
    # the smoke mode stays in one process (seconds, not a minute of child start-ups): its peak memory is shared
    run_one = measure if args.smoke else in_child
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for round_ in range(args.repeats):
        for variant in VARIANTS if round_ % 2 == 0 else reversed(VARIANTS):
            runs[variant].append(run_one(args, variant))
    median = {v: {k: statistics.median(r[k] for r in rs) for k in ("images_per_s", "start_up_s", "peak_memory_mb")}
              for v, rs in runs.items()}
    ratio = median["harness"]["images_per_s"] / median["plain"]["images_per_s"]
    device = runs["harness"][0]["device"]
    report = {
        "command": "python perf/bench_live.py " + " ".join(a for a in sys.argv[1:]),
        "device": device, "gpu": args.device.startswith("cuda"), "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__, "cell": CELL, "images": args.images, "resolution": args.resolution,
        "epochs": args.epochs, "batch": args.batch, "repeats": args.repeats, "amp": args.amp,
        "channels_last": args.channels_last, "variants": median, "runs": runs,
        "harness_over_plain": ratio,
    }
    print(f"| variant | images/s (epoch 2+) | first-epoch start-up s | peak memory MB |   ({device}, "
          f"{args.images} images {args.resolution}x{args.resolution}, batch {args.batch}, {args.repeats} rounds)")
    print("|---|---:|---:|---:|")
    for v in VARIANTS:
        m = median[v]
        print(f"| {v} | {m['images_per_s']:.1f} | {m['start_up_s']:.2f} | {m['peak_memory_mb']:.0f} |")
    print(f"harness / plain throughput: {ratio:.3f}")
    out = args.out or results_path(f"perf_live_{'cuda' if report['gpu'] else 'cpu'}.json", args.smoke)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(out)


if __name__ == "__main__":
    main()

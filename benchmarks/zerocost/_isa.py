"""Pin torch's CPU kernels to one instruction set, so every x86 machine computes the same bits.

Why: ATen and oneDNN pick their conv, BN and reduction kernels by the CPU's vector ISA, and
AVX-512 kernels round differently from AVX2 ones. Train-mode BN on near-constant feature
maps amplifies that: on some cells grad_norm, snip and fisher move by 0.3% and grasp by 7%
between an AVX2 and an AVX-512 machine. The shipped tables were computed with AVX2 kernels,
which every x86 machine of the last decade has, so pinning AVX2 makes ``verify`` exact there.

Both libraries read their setting once, when torch first runs an operation (importing torch
is not yet too late), so a process that computes proxies calls :func:`pin_cpu_isa` before its
first torch operation: ``hpo2nas zerocost``, ``perf/bench_zerocost.py`` and the test suite do.
Importing this package changes nothing; the library functions only record (``cpu_isa``) and
check (``verify``) what runs.
"""

from __future__ import annotations

import os

CPU_ISA = "AVX2"  #: the kernels' ISA the shipped tables were computed with


def pin_cpu_isa() -> None:
    """Ask ATen and oneDNN for ``CPU_ISA`` kernels in this process, unless its environment names others.

    A process-wide setting, so only a program's entry point calls it, before torch's first
    operation; after that it changes nothing that runs, and :func:`cpu_isa` tells what does.
    """
    os.environ.setdefault("ATEN_CPU_CAPABILITY", CPU_ISA.lower())
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", CPU_ISA)


def cpu_isa() -> str:
    """The ISA this process's CPU kernels use: ``CPU_ISA`` when pinned, else what torch and oneDNN run."""
    import torch

    aten = torch.backends.cpu.get_cpu_capability()
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "native")
    return aten if onednn.upper() == aten.upper() else f"{aten} (oneDNN {onednn})"

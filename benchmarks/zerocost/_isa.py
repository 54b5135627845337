"""Pin torch's CPU kernels to one instruction set, so every x86 machine computes the same bits.

Why: ATen and oneDNN pick their conv, BN and reduction kernels by the CPU's vector ISA, and
AVX-512 kernels round differently from AVX2 ones. Train-mode BN on near-constant feature
maps amplifies that: on some cells grad_norm, snip and fisher move by 0.3% and grasp by 7%
between an AVX2 and an AVX-512 machine. The shipped tables were computed with AVX2 kernels,
which every x86 machine of the last decade has, so pinning AVX2 makes ``verify`` exact there.

Both libraries read their setting once, when torch first dispatches, so this module must be
imported before torch: ``benchmarks.zerocost`` imports it first, and so does the test suite.
"""

from __future__ import annotations

import os
import sys

CPU_ISA = "AVX2"  #: the kernels' ISA the shipped tables were computed with

if "torch" not in sys.modules:  # too late once torch is loaded; cpu_isa() then tells what runs
    os.environ.setdefault("ATEN_CPU_CAPABILITY", CPU_ISA.lower())
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", CPU_ISA)


def cpu_isa() -> str:
    """The ISA this process's CPU kernels use: ``CPU_ISA`` when pinned, else what torch and oneDNN run."""
    import torch

    aten = torch.backends.cpu.get_cpu_capability()
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "native")
    return aten if onednn.upper() == aten.upper() else f"{aten} (oneDNN {onednn})"

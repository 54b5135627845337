"""Zero-cost proxies for NB201 cells: networks in torch, closed-form counts, proxies, shipped table."""

from __future__ import annotations

from benchmarks.zerocost._isa import CPU_ISA, cpu_isa, pin_cpu_isa
from benchmarks.zerocost._batch import BATCH_KINDS, DEFAULT_BATCH, DEFAULT_BATCH_KIND, fixed_batch
from benchmarks.zerocost._counts import flop_count, flop_counts, model_size_exceptions, param_count, param_counts
from benchmarks.zerocost._network import NET_SHAPES, NB201Network, build_network
from benchmarks.zerocost._proxies import (
    ANALYTIC_PROXIES,
    DATA_FREE,
    PROXIES,
    TORCH_PROXIES,
    compute_proxies,
    timing_group,
)
from benchmarks.zerocost._quality import markdown_table
from benchmarks.zerocost._table import ZeroCostTable, load_table, pack_table, run_job, table_path, verify_zerocost
from benchmarks.zerocost._weighting import REFERENCE_DATASET, ProxyScorer, auto_proxies, coverage_gap

__all__ = [
    "CPU_ISA",
    "cpu_isa",
    "pin_cpu_isa",
    "NET_SHAPES",
    "NB201Network",
    "build_network",
    "param_count",
    "param_counts",
    "flop_count",
    "flop_counts",
    "model_size_exceptions",
    "PROXIES",
    "TORCH_PROXIES",
    "ANALYTIC_PROXIES",
    "DATA_FREE",
    "DEFAULT_BATCH",
    "DEFAULT_BATCH_KIND",
    "BATCH_KINDS",
    "compute_proxies",
    "fixed_batch",
    "timing_group",
    "ZeroCostTable",
    "load_table",
    "ProxyScorer",
    "REFERENCE_DATASET",
    "auto_proxies",
    "coverage_gap",
    "markdown_table",
    "pack_table",
    "run_job",
    "table_path",
    "verify_zerocost",
]

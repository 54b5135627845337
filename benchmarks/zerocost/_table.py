"""The shipped zero-cost table: a resumable compute job, packing with provenance, and verify.

Layout: ``benchmarks/data/zerocost_<dataset>.npz`` holds one float64 column per proxy over
the 15,625 official indices (NaN where a proxy was not computed for a cell, so "which cells
have which proxies" is ``~isnan``) and ``meta``, a JSON string with the provenance: torch
and Python versions, device, seed, batch size, date, cells per proxy, seconds per proxy.

The job appends one JSON line per cell to a checkpoint (flushed and fsynced), so it can be
killed at any time and resumed; cells run in a seeded random order, so every prefix is a
uniform sample and partial tables still give unbiased rank correlations.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np

from adapters import NUM_CELLS, Cell
from adapters.errors import BadInputError
from adapters.files import atomic_write
from adapters.schema import check
from benchmarks.schemas import CHECKPOINT_ROW, CHECKPOINT_ROW_START
from benchmarks.zerocost._counts import flop_counts, param_counts
from benchmarks.zerocost._isa import CPU_ISA, cpu_isa
from benchmarks.zerocost._network import NET_SHAPES
from benchmarks.zerocost._batch import DEFAULT_BATCH, DEFAULT_BATCH_KIND
from benchmarks.zerocost._proxies import ANALYTIC_PROXIES, PROXIES, TORCH_PROXIES, compute_proxies, timing_group

__all__ = [
    "ZeroCostTable",
    "table_path",
    "load_table",
    "cell_order",
    "run_job",
    "pack_table",
    "verify_zerocost",
    "VerifyResult",
]

_BATCH_TEXT = {
    "patches": "seeded crops of scikit-learn's two sample photos (CC BY 2.0), standardised, uniform random "
               "labels (benchmarks.zerocost.fixed_batch)",
    "noise": "N(0,1) images with uniform random labels from torch.Generator(seed) (benchmarks.zerocost.fixed_batch)",
}
ORDER_SEED = 201  #: seed of the cell order the job follows (prefixes are uniform samples)


def table_path(dataset: str) -> Path:
    return Path(str(resources.files("benchmarks").joinpath(f"data/zerocost_{dataset}.npz")))


@dataclass(frozen=True)
class ZeroCostTable:
    """Proxy columns over the official index order, and the provenance they were made with."""

    dataset: str
    columns: dict[str, np.ndarray]
    meta: dict
    #: Timing group -> each cell's measured seconds (its latest row), NaN where not recorded per cell.
    seconds: dict[str, np.ndarray] = field(default_factory=dict)

    def values(self, name: str) -> np.ndarray:
        return self.columns[name]

    def has(self, name: str) -> np.ndarray:
        """Boolean mask of the cells that have ``name``."""
        return ~np.isnan(self.columns[name])

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def batch_size(self) -> int:
        return int(self.meta["batch_size"])

    @property
    def batch_kind(self) -> str:
        return str(self.meta["batch_kind"])


def load_table(dataset: str = "cifar10-valid", path: Path | None = None) -> ZeroCostTable:
    path = path or table_path(dataset)
    if not path.exists():
        raise BadInputError(f"no zero-cost table for {dataset} at {path}")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        columns = {name: np.asarray(data[name]) for name in meta["proxies"]}
        seconds = {group: np.asarray(data[f"seconds_{group}"]) for group in meta.get("timed_groups", [])}
    for column in [*columns.values(), *seconds.values()]:
        column.setflags(write=False)
    return ZeroCostTable(dataset, columns, meta, seconds)


def cell_order(seed: int = ORDER_SEED) -> np.ndarray:
    """The job's order of official indices: a seeded permutation of all cells."""
    return np.random.default_rng(seed).permutation(NUM_CELLS)


def _read_checkpoint(path: Path) -> tuple[list[dict], int]:
    """A checkpoint's rows, and the length of its whole lines (a torn last line, from a kill, is left out).

    Every whole line must be a row of the declared schema (``benchmarks.schemas.CHECKPOINT_ROW``)
    and a last line without its newline must be the start of one; anything else (a file that is
    no checkpoint, binary bytes, an edited row) is refused with one line naming the file and the
    line, and the file is not touched.
    """
    if not path.exists():
        return [], 0
    if not path.is_file():
        raise BadInputError(f"{path} is not a zero-cost checkpoint: not a regular file")
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    tail = data[end:]
    if tail[: len(CHECKPOINT_ROW_START)] != CHECKPOINT_ROW_START[: len(tail)]:
        raise BadInputError(f"{path} is not a zero-cost checkpoint: its last line is not a row")
    rows = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadInputError(f"{path} is not a zero-cost checkpoint: line {number} is not a JSON row") from None
        rows.append(check(row, CHECKPOINT_ROW, path, where=f"line {number}"))
    return rows, end


def _drop_torn_tail(path: Path, end: int) -> None:
    """Cut a last line the job was killed while writing (checked by :func:`_read_checkpoint`),
    so new rows start on a line of their own."""
    if path.exists() and path.stat().st_size > end:
        os.truncate(path, end)


def _setting_key(settings: dict) -> tuple:
    """What must be equal for rows to share a table: dataset, seed, batch size and kind, CPU ISA.

    Rows from before ``cpu_isa`` was recorded were computed with AVX2 kernels: recomputing
    them with the ISA pinned reproduces them bit for bit.
    """
    return (settings["dataset"], settings["seed"], settings["batch_size"], settings["batch_kind"],
            settings.get("cpu_isa", CPU_ISA))


def _settings(dataset: str, seed: int, batch_size: int, batch_kind: str, device: str) -> dict:
    import torch

    return {
        "dataset": dataset,
        "seed": seed,
        "batch_size": batch_size,
        "batch_kind": batch_kind,
        "device": device if device == "cpu" else torch.cuda.get_device_name(0),
        "cpu_isa": cpu_isa(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def run_job(
    dataset: str,
    proxies: Sequence[str],
    checkpoint: Path,
    *,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH,
    batch_kind: str = DEFAULT_BATCH_KIND,
    device: str = "cpu",
    cells: Sequence[int] | None = None,
    limit: int | None = None,
    first: int | None = None,
    deadline_s: float | None = None,
    shard: tuple[int, int] = (0, 1),
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Compute ``proxies`` for cells (default: :func:`cell_order`) that lack them; return cells done now.

    Rows carry their settings; a checkpoint written with other settings is refused, so one
    table never mixes seeds, batch sizes or proxy definitions. ``shard=(k, n)`` takes every
    n-th cell of the order from the k-th on (and its share of ``limit``), so n processes split
    the work without overlap; they may share one checkpoint, as each row is one ``O_APPEND`` write.
    ``first`` keeps only the first cells of the order (the seeded uniform sample of that size), so
    a resumed job completes the sample; ``limit`` caps the cells computed by this call.
    """
    k, n = shard
    if not 0 <= k < n:
        raise BadInputError(f"shard {k}/{n}: need 0 <= k < n")
    unknown = sorted(set(proxies) - set(TORCH_PROXIES))
    if unknown:
        raise BadInputError(f"{unknown} are not torch proxies (the job computes {', '.join(TORCH_PROXIES)})")
    settings = _settings(dataset, seed, batch_size, batch_kind, device)
    rows, end = _read_checkpoint(checkpoint)
    done: dict[int, set[str]] = {}
    for row in rows:  # every refusal comes before the torn tail is cut: a refused file stays as it was
        made = _setting_key(row["settings"])
        if made != _setting_key(settings):
            raise BadInputError(f"{checkpoint} was made with {made}, not {_setting_key(settings)} (dataset, seed, "
                                "batch size, batch kind, CPU ISA)")
        done.setdefault(row["index"], set()).update(row["values"])
    _drop_torn_tail(checkpoint, end)
    shipped = table_path(dataset)
    if shipped.exists():  # cells the shipped table has (same settings) need no recomputing on a fresh machine
        table = load_table(dataset, shipped)
        if _setting_key(table.meta) == _setting_key(settings):
            for name in proxies:
                for index in np.flatnonzero(table.has(name)):
                    done.setdefault(int(index), set()).add(name)
    order = (cell_order() if cells is None else cells)[:first]
    # Shards own fixed positions of the order, so a shard that starts late still splits cleanly.
    todo = [int(i) for i in order[k::n] if not set(proxies) <= done.get(int(i), set())]
    if limit is not None:
        todo = todo[: limit // n + (k < limit % n)]
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    count = 0
    with checkpoint.open("a") as fh:
        for index in todo:
            if deadline_s is not None and time.monotonic() - start > deadline_s:
                break
            missing = [p for p in proxies if p not in done.get(index, set())]
            timings: dict[str, float] = {}
            values = compute_proxies(Cell.from_index(index), dataset, missing, seed=seed, batch_size=batch_size,
                                     batch_kind=batch_kind, device=device, timings=timings)
            fh.write(json.dumps({"index": index, "values": values, "seconds": timings, "settings": settings}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            count += 1
            if progress:
                progress(count, len(todo))
    return count


def _untracked_seconds(table: ZeroCostTable) -> dict[str, list[float]]:
    """Group -> [total seconds, rows] of timings a table holds only as means, not per cell.

    Tables packed before per-cell timings existed kept only ``mean_seconds_per_cell``; their
    job timed one row per cell of each group's proxies, which is the count assumed for them.
    Carrying this aggregate unchanged keeps repacking idempotent.
    """
    if "seconds_untracked" in table.meta:
        return {group: list(pair) for group, pair in table.meta["seconds_untracked"].items()}
    cells = table.meta["cells_per_proxy"]
    out = {}
    for group, mean in table.meta["mean_seconds_per_cell"].items():
        rows = max(n for name, n in cells.items() if timing_group(name) == group)
        out[group] = [mean * rows, rows]
    return out


def _mean_seconds(seconds: dict[str, np.ndarray], untracked: dict[str, list[float]]) -> dict[str, float]:
    means = {}
    for group in sorted(set(seconds) | set(untracked)):
        column = seconds.get(group, np.empty(0))
        total, rows = untracked.get(group, (0.0, 0))
        timed = column[~np.isnan(column)]
        means[group] = float((total + timed.sum()) / (rows + len(timed)))
    return means


def pack_table(
    dataset: str, checkpoints: Iterable[Path], out: Path | None = None, *, replace: bool = False, force: bool = False
) -> Path:
    """Write the table from checkpoints (later rows win) plus the closed-form columns, atomically.

    By default the rows are merged onto the table already at ``out`` (the shipped one), so a
    fresh machine, whose checkpoint holds only what it computed, ships its cells without
    dropping earlier ones. ``replace`` builds from the checkpoints alone; then it refuses,
    unless ``force``, to write a table with a proxy for fewer cells than before: packing the
    wrong checkpoint must not throw computed values away.
    """
    checkpoints = [Path(path) for path in checkpoints]
    missing = [str(path) for path in checkpoints if not path.is_file()]
    if missing:
        raise BadInputError(f"no checkpoint {', '.join(missing)}")
    out = out or table_path(dataset)
    base = load_table(dataset, out) if out.exists() and not replace else None
    columns = {name: np.full(NUM_CELLS, np.nan) for name in PROXIES}
    seconds: dict[str, np.ndarray] = {}
    untracked: dict[str, list[float]] = {}
    settings: list[dict] = []
    if base is not None:
        columns.update({name: base.values(name).copy() for name in TORCH_PROXIES})
        seconds = {group: column.copy() for group, column in base.seconds.items()}
        untracked = _untracked_seconds(base)
        settings = list(base.meta["made_with"])
    columns["params"] = param_counts(NET_SHAPES[dataset].num_classes).astype(np.float64)
    columns["flops"] = flop_counts(dataset).astype(np.float64)
    for path in checkpoints:
        for row in _read_checkpoint(path)[0]:
            if row["settings"]["dataset"] != dataset:
                raise BadInputError(f"{path} holds {row['settings']['dataset']}, not {dataset}")
            for name, value in row["values"].items():
                columns[name][row["index"]] = value
            for group, s in row["seconds"].items():
                seconds.setdefault(group, np.full(NUM_CELLS, np.nan))[row["index"]] = s
            if row["settings"] not in settings:
                settings.append(row["settings"])
    for name, column in columns.items():
        infinite = np.flatnonzero(np.isinf(column))
        if len(infinite):  # compute_proxies maps non-finite scores to -1e8, so this row is not its output
            raise BadInputError(f"{name} is infinite for cells {infinite[:5].tolist()}: recompute them "
                                "(later rows win)")
    keys = {_setting_key(s)[1:] for s in settings}
    if len(keys) > 1:
        raise BadInputError(f"checkpoints mix seeds/batch settings/CPU ISAs {sorted(keys)}; "
                            "one table needs one setting")
    seed, batch, kind, isa = keys.pop() if keys else (0, DEFAULT_BATCH, DEFAULT_BATCH_KIND, CPU_ISA)
    meta = {
        "dataset": dataset,
        "proxies": list(PROXIES),
        "seed": seed,
        "batch_size": batch,
        "batch_kind": kind,
        "batch": _BATCH_TEXT[kind],
        "cpu_isa": isa,
        "made_with": settings,
        "cells_per_proxy": {name: int((~np.isnan(col)).sum()) for name, col in columns.items()},
        "mean_seconds_per_cell": _mean_seconds(seconds, untracked),
        "timed_groups": sorted(seconds),
        "seconds_untracked": untracked,
        "analytic": list(ANALYTIC_PROXIES),
        "units": {"params": "trainable parameters", "flops": "NB201 FLOPs (conv/linear MACs) per image",
                  "synflow": "log of the SynFlow sum"},
        "packed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "packer_python": sys.version.split()[0],
    }
    if out.exists() and not force:
        old = (base or load_table(dataset, out)).meta["cells_per_proxy"]
        lost = {name: (n, meta["cells_per_proxy"].get(name, 0)) for name, n in old.items()
                if n > meta["cells_per_proxy"].get(name, 0)}
        if lost:
            raise BadInputError(f"{out.name} would lose cells {lost} (old, new); pass the checkpoints that made it, "
                                 "or force")
    timings = {f"seconds_{group}": column.astype(np.float32) for group, column in seconds.items()}

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:  # a file object: savez on a path would add ".npz" to the temporary name
            np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **columns, **timings)

    atomic_write(out, write)
    return out


@dataclass(frozen=True)
class VerifyResult:
    """Recomputed cells against the shipped values; ``worst`` is the largest relative error per proxy."""

    dataset: str
    cells: list[int]
    worst: dict[str, float]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_zerocost(
    sample: int = 3,
    seed: int = 0,
    *,
    dataset: str = "cifar10-valid",
    proxies: Sequence[str] | None = None,
    rtol: float = 1e-4,
    device: str = "cpu",
    path: Path | None = None,
) -> VerifyResult:
    """Recompute a seeded random sample of the table's cells and compare with the shipped values.

    Cells are drawn among those that have every requested proxy. The same torch on the same
    kind of device reproduces the values exactly; ``rtol`` allows for another torch or a GPU.
    """
    table = load_table(dataset, path)
    made_with, running = _setting_key(table.meta)[-1], cpu_isa()
    if device == "cpu" and running != made_with:
        raise BadInputError(f"this process runs {running} CPU kernels, the table was computed with {made_with}: "
                         "call benchmarks.zerocost.pin_cpu_isa() before torch's first operation, "
                         "or set ATEN_CPU_CAPABILITY and ONEDNN_MAX_CPU_ISA")
    names = list(proxies or [p for p in PROXIES if table.has(p).any()])
    have = np.logical_and.reduce([table.has(p) for p in names])
    candidates = np.flatnonzero(have)
    if len(candidates) == 0:
        raise BadInputError(f"no cell of the {dataset} table has all of {names}")
    rng = np.random.default_rng(seed)
    cells = sorted(int(i) for i in rng.choice(candidates, min(sample, len(candidates)), replace=False))
    worst = {name: 0.0 for name in names}
    failures = []
    # The job computes grasp in a pass of its own; inside the shared pass its Hessian-vector
    # product sums in another order and moves the last bits (about 1e-5 relative), which
    # matters for grasp values near zero. Recomputing it the job's way keeps verify exact.
    groups = [group for group in ([n for n in names if n != "grasp"], [n for n in names if n == "grasp"]) if group]
    for index in cells:
        fresh = {}
        for group in groups:
            fresh |= compute_proxies(Cell.from_index(index), dataset, group, seed=table.seed,
                                     batch_size=table.batch_size, batch_kind=table.batch_kind, device=device)
        for name in names:
            shipped = float(table.values(name)[index])
            err = abs(fresh[name] - shipped) / max(abs(shipped), 1e-12)
            worst[name] = max(worst[name], err)
            if err > rtol:
                failures.append(f"cell {index} {name}: shipped {shipped!r}, recomputed {fresh[name]!r}")
    return VerifyResult(dataset, cells, worst, failures)

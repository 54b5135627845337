"""A synthetic archive at full size in the exact NATS-tss-v1_0-3ffb9-simple layout (random values).

Not NB201 data, and never presented as such: every accuracy, loss and time is drawn from a
seeded random generator, and ``meta.pickle.pbz2`` says so in its ``note``. It exists so the
full-size import, store and search can be measured without the 1.1 GB official download.

The layout is the official one, written with ``nats_bench``'s own writer (``pickle_save``):
``meta.pickle.pbz2`` (``meta_archs`` in official index order) and one
``{index:06d}.pickle.pbz2`` per cell holding ``{'12': ArchResults state, '200': ArchResults state}``,
each with one ``ResultsCount`` per (run, seed) for the runs ``cifar10-valid``, ``cifar10``,
``cifar100`` and ``ImageNet16-120`` and seeds 777, 888, 999, built the way NATS-Bench's
``tss-collect.py`` builds them: per-epoch train accuracy, loss and (calibrated, constant) time,
and per-epoch accuracy, loss and time on every eval set of the run.

Accuracies are rounded to 2 decimals and losses to 4, about the precision of the real values
(accuracies over 10,000 test images are multiples of 0.01), so the archive compresses roughly
as the real one does; the script reports its size next to the real 1,145,989,120 bytes.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from adapters import NUM_CELLS, Cell

__all__ = ["write_archive", "EVAL_SETS", "SEEDS", "NOTE"]

SEEDS = (777, 888, 999)
EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
NOTE = "SYNTHETIC: random values in the NATS-tss-v1_0-3ffb9-simple layout, written by hpo2nas perf/; NOT NB201 data"
_DONE = ".complete"


@lru_cache(maxsize=None)
def _keys(setname: str, epochs: int) -> tuple[str, ...]:
    return tuple(f"{setname}@{e}" for e in range(epochs))


def _results_count(rng: np.random.Generator, arch: str, epochs: int, run: str, seed: int) -> ResultsCount:
    config = {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": arch, "num_classes": 10}
    n_sets = len(EVAL_SETS[run])
    accs = np.round(rng.uniform(10, 100, (n_sets + 1, epochs)), 2).tolist()
    losses = np.round(rng.uniform(0, 3, (n_sets + 1, epochs)), 4).tolist()
    params, flops = float(rng.uniform(0.1, 1.5)), float(rng.uniform(10, 200))
    result = ResultsCount(run, None, dict(enumerate(accs[0])), dict(enumerate(losses[0])), params, flops,
                          config, seed, epochs, None)
    for k, setname in enumerate(EVAL_SETS[run], start=1):
        keys = _keys(setname, epochs)
        result.update_eval(dict(zip(keys, accs[k])), dict(zip(keys, losses[k])), dict.fromkeys(keys, 0.0))
        result.reset_pseudo_eval_times(setname, float(rng.uniform(0.5, 5)))
    result.reset_pseudo_train_times(float(rng.uniform(5, 50)))
    result.update_latency([float(rng.uniform(0.005, 0.03))])
    return result


def cell_record(index: int) -> OrderedDict:
    """One cell's file content, a deterministic function of its index."""
    rng = np.random.default_rng(index)
    record = OrderedDict()
    for hp in ("12", "200"):
        results = ArchResults(index, Cell.from_index(index).arch_str)
        for run in EVAL_SETS:
            for seed in SEEDS:
                results.update(run, seed, _results_count(rng, results.arch_str, int(hp), run, seed))
        record[hp] = results.state_dict()
    return record


def _write_cells(job: tuple[str, range]) -> int:
    folder, indices = Path(job[0]), job[1]
    for index in indices:
        target = folder / f"{index:06d}.pickle.pbz2"
        if target.exists():
            continue  # a resumed generation keeps the cells already written
        tmp = folder / f".tmp-{index:06d}.pickle"
        pickle_save(cell_record(index), str(tmp))
        os.replace(f"{tmp}.pbz2", target)
    return len(indices)


def write_archive(folder: Path, cells: int = NUM_CELLS, workers: int | None = None, echo=print) -> Path:
    """Write (or finish writing) the archive in ``folder``; a complete one is reused as is."""
    folder = Path(folder)
    if (folder / _DONE).exists() and (folder / _DONE).read_text().strip() == str(cells):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"meta_archs": [c.arch_str for c in Cell.all()], "total_archs": NUM_CELLS, "arch2infos": None,
            "evaluated_indexes": set(range(cells)), "note": NOTE}
    pickle_save(meta, str(folder / "meta.pickle"))
    workers = workers or os.cpu_count() or 1
    chunk = 125
    jobs = [(str(folder), range(start, min(start + chunk, cells))) for start in range(0, cells, chunk)]
    start, done = time.perf_counter(), 0
    with ProcessPoolExecutor(workers) as pool:
        for n in pool.map(_write_cells, jobs):
            done += n
            if done % 2500 < chunk or done == cells:
                echo(f"  generated {done}/{cells} cells in {time.perf_counter() - start:.0f} s")
    (folder / _DONE).write_text(str(cells))
    return folder


if __name__ == "__main__":
    import sys

    write_archive(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else NUM_CELLS)

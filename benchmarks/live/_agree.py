"""Table versus reality: train cells chosen across a table's accuracy range and rank-correlate.

Why stratified: a random sample of NB201 cells crowds into the 80-90% band, where a short
training cannot separate them; one cell per accuracy quantile spans the range, so the Spearman
correlation measures whether live training orders good and bad cells as the table does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from adapters import NUM_CELLS
from adapters.errors import BadInputError
from benchmarks import TabularBenchmark
from benchmarks.live._benchmark import LiveBenchmark
from benchmarks.live._data import LiveData
from benchmarks.live._settings import TrainSettings
from benchmarks.live._trainer import resolve_device

__all__ = ["AgreeResult", "CPU_REDUCTION", "agree", "stratified_cells"]

#: The reduced setting ``agree`` uses on a CPU unless told otherwise: (training, validation) images.
CPU_REDUCTION = (5000, 2000)


@dataclass(frozen=True)
class AgreeResult:
    """Live accuracy of each chosen cell beside the table's, and how well they agree.

    ``spearman`` is NaN when fewer than 3 cells trained or either side is constant;
    ``mean_difference`` is live minus table, in accuracy points, over the cells that trained.
    ``setting`` says in words what was trained and compared, including any reduction.
    """

    cells: tuple[int, ...]
    table_acc: tuple[float, ...]
    live_acc: tuple[float | None, ...]
    statuses: tuple[str, ...]
    spearman: float
    mean_difference: float
    epochs: int
    reduced: bool
    setting: str
    table: str
    device: str
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def stratified_cells(table_acc: np.ndarray, n: int, seed: int) -> np.ndarray:
    """One cell per accuracy quantile: ``n`` equal-count strata of the ranked cells, a seeded pick in each."""
    known = np.flatnonzero(~np.isnan(table_acc))
    if not 1 <= n <= len(known):
        raise BadInputError(f"--cells must be in 1..{len(known)}, got {n}")
    ranked = known[np.argsort(table_acc[known], kind="stable")]
    rng = np.random.default_rng(seed)
    return np.asarray([rng.choice(stratum) for stratum in np.array_split(ranked, n)], dtype=np.int64)


def agree(
    n_cells: int,
    epochs: int,
    data: LiveData,
    *,
    table: TabularBenchmark,
    workdir: Path,
    table_dataset: str | None = None,
    settings: TrainSettings | None = None,
    reduce_on_cpu: bool = True,
    seed: int = 0,
) -> AgreeResult:
    """Train ``n_cells`` cells (stratified by ``table``'s seed-mean accuracy) for ``epochs`` epochs and compare.

    Args:
        table_dataset: the table's dataset to compare with (default: ``data``'s own name).
        settings: the recipe (default NB201's); its ``epochs`` is replaced by ``epochs``.
        reduce_on_cpu: on a CPU, train on :data:`CPU_REDUCTION` images unless ``settings`` already
            names a subset; the result states the reduction.
        seed: picks the cells within their strata.

    The table is read at ``epochs`` where its fidelity axis has that value (the 12-epoch
    schedule for ``--epochs 12``), else at its highest fidelity, and the result says which.
    """
    table_dataset = table_dataset or data.name
    if table_dataset not in table.datasets:
        raise BadInputError(f"the table {table.name!r} has no {table_dataset!r}; name the table dataset to compare with")
    settings = replace(settings or TrainSettings(), epochs=epochs)
    device = resolve_device(settings.device)
    if reduce_on_cpu and device.type == "cpu" and settings.train_images is None and settings.valid_images is None:
        settings = replace(settings, train_images=CPU_REDUCTION[0], valid_images=CPU_REDUCTION[1])
    space = table.fidelity_space(table_dataset)
    fidelity = epochs if epochs in space.values else space.max
    table_acc = table.lookup(np.arange(NUM_CELLS), table_dataset, "valid_acc", fidelity)
    cells = stratified_cells(table_acc, n_cells, seed)
    live = LiveBenchmark(data, settings, workdir=workdir)
    results = [live.query(int(c), data.name, epochs) for c in cells]
    live_acc = tuple(r.valid_acc for r in results)
    ok = [i for i, acc in enumerate(live_acc) if acc is not None]
    pairs_live = np.asarray([live_acc[i] for i in ok], dtype=np.float64)
    pairs_table = table_acc[cells[ok]]
    rho = math.nan
    if len(ok) >= 3 and np.ptp(pairs_live) > 0 and np.ptp(pairs_table) > 0:
        rho = float(spearmanr(pairs_live, pairs_table).statistic)
    difference = float(np.mean(pairs_live - pairs_table)) if ok else math.nan
    words = (f"{epochs} epochs of a {epochs}-epoch cosine schedule on {data.name}: {len(live.data.train)} training / "
             f"{len(live.data.valid)} validation images ({live.data.split['train']}; {live.data.split['valid']})")
    if settings.reduced:
        words = f"REDUCED setting (not NB201's): {words}"
    return AgreeResult(
        cells=tuple(int(c) for c in cells), table_acc=tuple(float(a) for a in table_acc[cells]), live_acc=live_acc,
        statuses=tuple(r.status for r in results), spearman=rho, mean_difference=difference, epochs=epochs,
        reduced=settings.reduced, setting=words,
        table=f"store {table.name!r}, {table_dataset} x-valid seed mean at {space.kind} {fidelity}",
        device=results[0].device, seconds=sum(r.cost_s for r in results),
    )

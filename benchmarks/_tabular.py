"""Queries over one store: any cell form in, a :class:`QueryResult` with splits out.

The hot paths avoid per-query numpy work where they can: seed means and per-cell facts are
turned into Python lists once per (dataset, fidelity), and batch lookups are one ``np.take``.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np

from adapters import NUM_CELLS, parse_cell
from benchmarks._datasets import DATASETS, resolve_dataset
from benchmarks._store import CELL_INFO, METRICS, StoreManifest
from harness.types import SEED_MEAN, BadInputError, FidelitySpace, QueryResult, RandomSeed, SeedMean, SeedPolicy

__all__ = ["TabularBenchmark"]

_VALID, _TEST, _TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))


def _none_if_nan(values: list[float]) -> list[float | None]:
    return [v if v == v else None for v in values]


class _DatasetTable:
    """One dataset's arrays, loaded lazily (memory-mapped when large)."""

    def __init__(self, manifest: StoreManifest, dataset: str) -> None:
        entry = manifest.datasets[dataset]
        self.name = dataset
        self.folder = manifest.path / dataset
        self.fidelity: FidelitySpace = manifest.fidelity(dataset)
        self.fid_index = {v: i for i, v in enumerate(self.fidelity.values)}
        self.seeds: tuple[int, ...] = tuple(entry["seeds"])
        self.seed_slot = {s: i for i, s in enumerate(self.seeds)}
        self.split: dict[str, str] = dict(entry["splits"])
        self.seed_note: str = entry.get("seed_note", "")
        self._means: dict[int, list[list[float | None]]] = {}
        self._mean_arrays: dict[int, np.ndarray] = {}

    @cached_property
    def objectives(self) -> np.ndarray:
        path = self.folder / "objectives.npy"
        mmap = "r" if path.stat().st_size > (64 << 20) else None
        return np.load(path, mmap_mode=mmap)

    @cached_property
    def info(self) -> list[list[float | None]]:
        return [_none_if_nan(row) for row in np.load(self.folder / "cell_info.npy").tolist()]

    @cached_property
    def available_seeds(self) -> list[tuple[int, ...]]:
        """Per cell, the seed slots that have results at the highest fidelity."""
        last = self.objectives[:, :, -1, :]
        has = ~np.isnan(last).all(axis=2)
        return [tuple(np.flatnonzero(row).tolist()) for row in has]

    def mean_array(self, f: int) -> np.ndarray:
        """Seed-mean [cell, metric] at fidelity slot ``f`` (NaN where no seed has a value)."""
        if f not in self._mean_arrays:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self._mean_arrays[f] = np.nanmean(np.asarray(self.objectives[:, :, f, :], dtype=np.float64), axis=1)
        return self._mean_arrays[f]

    def means(self, f: int) -> list[list[float | None]]:
        if f not in self._means:
            self._means[f] = [_none_if_nan(row) for row in self.mean_array(f).tolist()]
        return self._means[f]


class TabularBenchmark:
    """The NB201 tabular benchmark over one store.

    Args:
        manifest: the store to read (see :func:`benchmarks.open_store`).
        seed: seeds the default per-query random seed draw.

    Example:
        >>> bench = open_benchmark()                                   # doctest: +SKIP
        >>> bench.query("333132", "cifar10-valid", seed=SEED_MEAN).valid_acc  # doctest: +SKIP
        91.607
    """

    def __init__(self, manifest: StoreManifest, *, seed: int | None = None) -> None:
        self.manifest = manifest
        self.default_seed_policy = RandomSeed(seed)
        self._tables: dict[str, _DatasetTable] = {}

    # --- store facts ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def checksum(self) -> str:
        return self.manifest.checksum

    @property
    def datasets(self) -> tuple[str, ...]:
        """The store's datasets, search dataset first (NB201 order)."""
        return tuple(sorted(self.manifest.datasets, key=lambda d: DATASETS.index(d) if d in DATASETS else len(DATASETS)))

    def table(self, dataset: str) -> _DatasetTable:
        table = self._tables.get(dataset)
        if table is None:
            canonical = resolve_dataset(dataset, self.datasets)
            table = self._tables.get(canonical) or _DatasetTable(self.manifest, canonical)
            self._tables[canonical] = self._tables[dataset] = table
        return table

    def fidelity_space(self, dataset: str) -> FidelitySpace:
        return self.table(dataset).fidelity

    def splits(self, dataset: str) -> dict[str, str]:
        return dict(self.table(dataset).split)

    def has_test(self, dataset: str) -> bool:
        return "test_acc" in self.table(dataset).split

    # --- queries ----------------------------------------------------------------------
    def _fid_slot(self, table: _DatasetTable, fidelity: int | None) -> int:
        if fidelity is None:
            return len(table.fidelity.values) - 1
        slot = table.fid_index.get(fidelity)
        if slot is None:
            raise BadInputError(
                f"fidelity {fidelity!r} not in {table.name}'s axis ({table.fidelity.kind}: "
                f"{table.fidelity.min}..{table.fidelity.max})"
            )
        return slot

    def query(
        self, cell: object, dataset: str, fidelity: int | None = None, seed: SeedPolicy | None = None
    ) -> QueryResult:
        """Look one cell up.

        Args:
            cell: any cell representation (see :func:`adapters.parse_cell`).
            dataset: ``cifar10-valid``, ``cifar100``, ``ImageNet16-120`` (``imagenet16``), or
                ``cifar10`` where the source has it.
            fidelity: a value on the store's fidelity axis; default the highest.
            seed: a seed label, ``SEED_MEAN``, or a :class:`RandomSeed`; default a seeded draw.
        """
        index = cell if type(cell) is int and 0 <= cell < NUM_CELLS else parse_cell(cell).index
        table = self._tables.get(dataset) or self.table(dataset)
        f = self._fid_slot(table, fidelity)
        if seed is None:
            seed = self.default_seed_policy
        if type(seed) is RandomSeed:
            available = table.available_seeds[index]
            if not available:
                raise BadInputError(f"cell {index} has no results on {table.name}")
            slot = available[seed.choose(len(available)) if len(available) > 1 else 0]
            values = table.objectives[index, slot, f].tolist()
            seed_label: int | str = table.seeds[slot]
        elif type(seed) is SeedMean:
            values = table.means(f)[index]
            seed_label = "mean"
        else:
            slot = table.seed_slot.get(seed)
            if slot is None or slot not in table.available_seeds[index]:
                have = [table.seeds[s] for s in table.available_seeds[index]]
                raise BadInputError(f"cell {index} has no seed {seed!r} on {table.name}; it has {have}")
            values = table.objectives[index, slot, f].tolist()
            seed_label = seed
        valid, test, time = values
        info = table.info[index]
        return QueryResult(
            index,
            table.name,
            table.fidelity.values[f],
            seed_label,
            valid if valid == valid else None,
            test if test == test else None,
            time if time == time else None,
            info[0],
            info[1],
            info[2],
            table.split,
        )

    def valid_table(self, dataset: str, fidelity: int | None = None, seed: int | SeedMean = SEED_MEAN) -> list:
        """The minimal fast path: a list where ``values[index]`` is the validation accuracy."""
        table = self.table(dataset)
        f = self._fid_slot(table, fidelity)
        if isinstance(seed, SeedMean):
            return [row[_VALID] for row in table.means(f)]
        slot = table.seed_slot.get(seed)
        if slot is None:
            raise BadInputError(f"no seed {seed!r} on {table.name}; seeds are {list(table.seeds)}")
        return _none_if_nan(np.asarray(table.objectives[:, slot, f, _VALID]).tolist())

    def lookup(
        self,
        indices: np.ndarray,
        dataset: str,
        metric: str = "valid_acc",
        fidelity: int | None = None,
        seed: int | SeedMean = SEED_MEAN,
    ) -> np.ndarray:
        """Batch lookup of one metric for many official indices (NaN where unknown)."""
        table = self.table(dataset)
        f = self._fid_slot(table, fidelity)
        if metric in CELL_INFO:
            column = np.array([row[CELL_INFO.index(metric)] for row in table.info], dtype=float)
        elif metric in METRICS:
            m = METRICS.index(metric)
            if isinstance(seed, SeedMean):
                column = table.mean_array(f)[:, m]
            else:
                slot = table.seed_slot.get(seed)
                if slot is None:
                    raise BadInputError(f"no seed {seed!r} on {table.name}; seeds are {list(table.seeds)}")
                column = np.asarray(table.objectives[:, slot, f, m], dtype=np.float64)
        else:
            raise BadInputError(f"unknown metric {metric!r}; metrics are {METRICS + CELL_INFO}")
        return np.take(column, indices)

    def best(self, dataset: str, metric: str = "valid_acc", fidelity: int | None = None) -> QueryResult:
        """The cell with the best seed-mean ``metric`` (ties: the lowest index)."""
        table = self.table(dataset)
        if metric not in ("valid_acc", "test_acc"):
            raise BadInputError(f"best needs an accuracy metric (valid_acc or test_acc), got {metric!r}")
        column = self.lookup(np.arange(NUM_CELLS), table.name, metric, fidelity)
        if np.isnan(column).all():
            raise BadInputError(f"{table.name} has no {metric} in store {self.name!r}")
        return self.query(int(np.nanargmax(column)), table.name, fidelity, SEED_MEAN)

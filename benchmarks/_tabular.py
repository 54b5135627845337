"""Queries over one store: any cell form in, a :class:`QueryResult` with splits out.

The hot paths avoid per-query numpy work: each (fidelity, seed slot, cell) record is turned
into the ready argument tuple of :class:`QueryResult` the first time it is asked for and
cached (bounded), arch strings and digit keys resolve through one dict, the fast path is a
plain list, and batch lookups are one ``np.take``. Opening a dataset reads its two small
arrays and nothing else, so the first query is quick too.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import struct
import warnings
from functools import cached_property, lru_cache

import numpy as np

from adapters import NB201, NUM_CELLS, Cell, SearchSpace, parse_cell, to_simple_key
from benchmarks._datasets import DATASETS, resolve_dataset
from benchmarks._store import CELL_INFO, METRICS, StoreManifest
from adapters.types import SEED_MEAN, BadInputError, FidelitySpace, QueryResult, RandomSeed, SeedMean, SeedPolicy

__all__ = ["TabularBenchmark"]

_VALID, _TEST, _TIME = (METRICS.index(m) for m in ("valid_acc", "test_acc", "train_time_s"))
#: At most this many query records are cached per dataset (about 250 bytes each). The whole
#: embedded default store is 15,625 cells x 4 seed slots per dataset; the cap only matters for
#: stores with many fidelities, whose records past the cap are built per query instead.
_RECORD_CACHE_CAP = 1 << 19
#: Cells per chunk when a whole fidelity is read from a memory-mapped array (about 7 MB of pages).
_SCAN_CELLS = 1024
#: Arrays larger than this are memory-mapped rather than read.
_MMAP_BYTES = 64 << 20
#: Arrays up to this size are hashed against the manifest when loaded (see ``_DatasetTable._load``).
_HASH_LIMIT = 16 << 20


def _fidelity_copy(objectives: np.ndarray, f: int) -> np.ndarray:
    """``objectives[:, :, f, :]`` as an in-memory array, without keeping the file's pages resident.

    The epoch axis sits inside each cell's record, so one fidelity of a memory-mapped array
    touches every page of the file (113 MB for a NATS-Bench epoch store). Reading it in chunks
    of cells and releasing each chunk's pages once copied (``madvise(MADV_DONTNEED)``; they stay
    in the page cache) keeps a search's resident memory to the cells it actually asks for.
    """
    handle = getattr(objectives, "_mmap", None)
    if handle is None or not hasattr(mmap, "MADV_DONTNEED"):
        return objectives[:, :, f, :]
    out = np.empty((objectives.shape[0], objectives.shape[1], objectives.shape[3]), dtype=objectives.dtype)
    start_in_map = objectives.offset % mmap.ALLOCATIONGRANULARITY  # where numpy's map puts element 0
    row = objectives.strides[0]
    for start in range(0, len(out), _SCAN_CELLS):
        stop = min(start + _SCAN_CELLS, len(out))
        out[start:stop] = objectives[start:stop, :, f, :]
        low = (start_in_map + start * row) // mmap.PAGESIZE * mmap.PAGESIZE
        handle.madvise(mmap.MADV_DONTNEED, low, start_in_map + stop * row - low)
    return out


def _none_if_nan(values: list[float]) -> list[float | None]:
    return [v if v == v else None for v in values]


@lru_cache(maxsize=1)
def _string_index() -> dict[str, int]:
    """Every canonical string form of a cell -> its official index: the arch string, the
    6 NB201 digits and the decimal index. Other spellings go through :func:`parse_cell`."""
    table: dict[str, int] = {}
    for index, cell in enumerate(Cell.all()):
        table[cell.arch_str] = index
        table[to_simple_key(cell)] = index
        table[str(index)] = index
    return table


def _index_of(cell: object) -> int:
    """The official index of any cell form (the non-int path of :meth:`TabularBenchmark.query`)."""
    if type(cell) is str:
        index = _string_index().get(cell)
        if index is not None:
            return index
    return parse_cell(cell).index


class _DatasetTable:
    """One dataset's arrays, loaded lazily (memory-mapped when large)."""

    def __init__(self, manifest: StoreManifest, dataset: str) -> None:
        entry = manifest.datasets[dataset]
        self.name = dataset
        self.folder = manifest.path / dataset
        self.fidelity: FidelitySpace = manifest.fidelity(dataset)
        self.fid_index = {v: i for i, v in enumerate(self.fidelity.values)}
        self.n_fid = len(self.fidelity.values)
        self.top = self.n_fid - 1
        self.seeds: tuple[int, ...] = tuple(entry["seeds"])
        self.seed_slot = {s: i for i, s in enumerate(self.seeds)}
        #: The record slot of the seed mean, after the real seed slots.
        self.mean_slot = len(self.seeds)
        self.split: dict[str, str] = dict(entry["splits"])
        self.seed_note: str = entry.get("seed_note", "")
        #: Fidelity slots with seed means only: there every query answers the mean, labelled "mean".
        self.mean_only = frozenset(self.fid_index[v] for v in entry.get("mean_only_fidelities", ()))
        self.has_seed_means = "seed_means.npy" in entry["files"]
        self.store = manifest.path.name  # the folder: what --store and data verify take
        #: [cell, seed, fidelity, metric], as the manifest records it (each array is checked against it).
        self.shape: tuple[int, ...] = tuple(entry["shape"])
        self.files: dict[str, str] = dict(entry["files"])
        #: (slot * n_fid + f) * NUM_CELLS + index -> QueryResult argument tuple (see :meth:`args`).
        self.records: dict[int, tuple] = {}
        self._mean_arrays: dict[int, np.ndarray] = {}
        self._fidelity_copies: dict[int, np.ndarray] = {}

    @cached_property
    def objectives(self) -> np.ndarray:
        return self._load("objectives.npy", self.shape)

    def _load(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One of the dataset's arrays, checked against the manifest; a damaged file is one BadInputError line.

        Arrays up to :data:`_HASH_LIMIT` are read whole and hashed (about 1 ms per MB), so a value
        changed on disk (seed means set to NaN) is caught when the store is opened, not searched.
        Larger ones are memory-mapped and checked by shape; ``hpo2nas data verify`` hashes them.
        """
        path = self.folder / name
        where = f"store {self.store!r}: {self.name}/{name}"
        fix = f"re-import the store (hpo2nas data verify --store {self.store} lists every damaged file)"
        try:
            size = path.stat().st_size
            if size <= _HASH_LIMIT:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != self.files.get(name):
                    raise BadInputError(f"{where} differs from its manifest's SHA-256 (changed on disk); {fix}")
                array = np.load(io.BytesIO(data), allow_pickle=False)
            else:
                array = np.load(path, mmap_mode="r" if size > _MMAP_BYTES else None, allow_pickle=False)
        except BadInputError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise BadInputError(f"{where} cannot be read ({' '.join(str(exc).split())}); {fix}") from None
        if array.shape != shape:
            raise BadInputError(f"{where} has shape {list(array.shape)}, its manifest says {list(shape)}; {fix}")
        return array

    @cached_property
    def _reader(self) -> tuple[object, int, int] | None:
        """(file descriptor, data offset, bytes per record) for reading records of a mapped array with ``pread``.

        Why not through the map: a page fault maps the neighbouring pages already in the page
        cache too (the kernel's fault-around), so a search touching a few thousand cells would
        keep most of the 113 MB file resident. ``pread`` copies just the record's bytes.
        """
        array = self.objectives
        if getattr(array, "_mmap", None) is None or array.dtype != np.dtype("<f4"):
            return None
        # a file object, not a bare descriptor: it closes when this table is collected
        return open(self.folder / "objectives.npy", "rb", buffering=0), array.offset, array.strides[2]

    def values(self, index: int, slot: int, f: int) -> list[float]:
        """The metrics of one cell, seed slot and fidelity slot (NaN where missing)."""
        reader = self._reader
        if reader is None:
            return self.objectives[index, slot, f].tolist()
        file, offset, size = reader
        position = offset + ((index * self.objectives.shape[1] + slot) * self.n_fid + f) * size
        return list(struct.unpack(f"<{len(METRICS)}f", os.pread(file.fileno(), size, position)))  # type: ignore[attr-defined]

    @cached_property
    def cell_info(self) -> np.ndarray:
        return self._load("cell_info.npy", (self.shape[0], len(CELL_INFO)))

    @cached_property
    def available_seeds(self) -> list[tuple[int, ...]]:
        """Per cell, the seed slots that have results at the highest fidelity."""
        has = ~np.isnan(self.at_fidelity(self.top)).all(axis=2)
        n_seeds = has.shape[1]
        if n_seeds > 62:
            return [tuple(np.flatnonzero(row).tolist()) for row in has]
        codes = (has.astype(np.int64) << np.arange(n_seeds, dtype=np.int64)).sum(axis=1).tolist()
        patterns = {c: tuple(s for s in range(n_seeds) if c >> s & 1) for c in set(codes)}
        return [patterns[c] for c in codes]

    def at_fidelity(self, f: int) -> np.ndarray:
        """[cell, seed, metric] at fidelity slot ``f``, in memory (see :func:`_fidelity_copy`)."""
        if f not in self._fidelity_copies:
            self._fidelity_copies[f] = _fidelity_copy(self.objectives, f)
        return self._fidelity_copies[f]

    @cached_property
    def seed_means(self) -> np.ndarray | None:
        """The source's own seed means [cell, fidelity, metric], where it gave them (schema 2)."""
        return self._load("seed_means.npy", (self.shape[0], *self.shape[2:])) if self.has_seed_means else None

    def mean_array(self, f: int) -> np.ndarray:
        """Seed-mean [cell, metric] at fidelity slot ``f``: the source's own mean where it gives one,
        else the mean over the seeds that have a value (NaN where none has)."""
        if f not in self._mean_arrays:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(self.at_fidelity(f).astype(np.float64), axis=1)
            if self.seed_means is not None:
                given = np.asarray(self.seed_means[:, f, :], dtype=np.float64)
                mean = np.where(np.isnan(given), mean, given)
            self._mean_arrays[f] = mean
        return self._mean_arrays[f]

    def seed_slot_at(self, seed: object, f: int) -> int:
        """The slot of a given seed label at fidelity slot ``f``, or a clear refusal."""
        if f in self.mean_only:
            raise BadInputError(
                f"{self.name} has seed means only at {self.fidelity.kind} {self.fidelity.values[f]} (the source "
                f"gives no single seed's result there); query it with the seed mean or a random-seed policy"
            )
        slot = self.seed_slot.get(seed)
        if slot is None:
            raise BadInputError(f"no seed {seed!r} on {self.name}; seeds are {list(self.seeds)}")
        return slot

    def args(self, index: int, slot: int, f: int) -> tuple:
        """The :class:`QueryResult` arguments of one cell, seed slot (or :attr:`mean_slot`), fidelity slot."""
        key = (slot * self.n_fid + f) * NUM_CELLS + index
        return self.records.get(key) or self.record(key, index, slot, f)

    def record(self, key: int, index: int, slot: int, f: int) -> tuple:
        """Build (and cache) the :class:`QueryResult` arguments of one cell, seed slot, fidelity."""
        if slot == self.mean_slot:
            values = self.mean_array(f)[index].tolist()
            label: int | str = "mean"
        else:
            values = self.values(index, slot, f)
            label = self.seeds[slot]
        valid, test, time = values[_VALID], values[_TEST], values[_TIME]
        params, flops, latency = self.cell_info[index].tolist()
        args = (
            index,
            self.name,
            self.fidelity.values[f],
            label,
            valid if valid == valid else None,
            test if test == test else None,
            time if time == time else None,
            params if params == params else None,
            flops if flops == flops else None,
            latency if latency == latency else None,
            self.split,
        )
        if len(self.records) < _RECORD_CACHE_CAP:
            self.records[key] = args
        return args


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

    #: NB201 stores are keyed by the official index of the NB201 cell.
    space: SearchSpace = NB201

    def __init__(self, manifest: StoreManifest, *, seed: int | None = None) -> None:
        space = manifest.source.get("space", "nats-tss")
        if space != "nats-tss":  # the NB201 cell space (NATS-Bench's topology space); others have their own readers
            raise BadInputError(f"store {manifest.name!r} holds {manifest.source.get('name', space)}, not NB201 cells; "
                                f"read it through benchmarks.suites (benchmark {space})")
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
        index = cell if type(cell) is int and 0 <= cell < NUM_CELLS else _index_of(cell)
        table = self._tables.get(dataset) or self.table(dataset)
        f = table.top if fidelity is None else self._fid_slot(table, fidelity)
        if seed is None:
            seed = self.default_seed_policy
        if type(seed) is RandomSeed and table.mean_only and f in table.mean_only:
            slot = table.mean_slot  # no seed to draw: the record says "mean", it never pretends a seed
        elif type(seed) is RandomSeed:
            slot = seed.pick(table.available_seeds[index], f"cell {index} on {table.name}")
        elif type(seed) is SeedMean:
            slot = table.mean_slot
        else:
            slot = table.seed_slot.get(seed)
            if table.mean_only and f in table.mean_only:
                table.seed_slot_at(seed, f)  # raises: there are seed means only here
            if slot is None or slot not in table.available_seeds[index]:
                have = [table.seeds[s] for s in table.available_seeds[index]]
                raise BadInputError(f"cell {index} has no seed {seed!r} on {table.name}; it has {have}")
            if type(seed) is not int:  # the record's seed label is the caller's own object (e.g. a numpy int)
                args = table.args(index, slot, f)
                return QueryResult(*args[:3], seed, *args[4:])
        key = (slot * table.n_fid + f) * NUM_CELLS + index
        args = table.records.get(key) or table.record(key, index, slot, f)
        return QueryResult(*args)

    def valid_table(self, dataset: str, fidelity: int | None = None, seed: int | SeedMean = SEED_MEAN) -> list:
        """The minimal fast path: a list where ``values[index]`` is the validation accuracy."""
        table = self.table(dataset)
        f = self._fid_slot(table, fidelity)
        if isinstance(seed, SeedMean):
            return _none_if_nan(table.mean_array(f)[:, _VALID].tolist())
        slot = table.seed_slot_at(seed, f)
        return _none_if_nan(table.at_fidelity(f)[:, slot, _VALID].tolist())

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
            column = np.asarray(table.cell_info[:, CELL_INFO.index(metric)], dtype=np.float64)
        elif metric in METRICS:
            m = METRICS.index(metric)
            if isinstance(seed, SeedMean):
                column = table.mean_array(f)[:, m]
            else:
                slot = table.seed_slot_at(seed, f)
                column = table.at_fidelity(f)[:, slot, m].astype(np.float64)
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

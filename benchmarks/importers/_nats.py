"""The official NATS-Bench files, topology (NATS-tss-v1_0-3ffb9) and size (NATS-sss-v1_0-50262), read with ``nats_bench``'s own readers.

Three layouts hold the same records. The ``NATS-tss-v1_0-3ffb9-simple/`` folder has
``meta.pickle.pbz2`` (``meta_archs``: the arch strings in index order) and one
``{index:06d}.pickle.pbz2`` per cell; it is streamed one cell at a time, and so is the
``NATS-tss-v1_0-3ffb9-simple.tar`` it is distributed as (read in place, never unpacked). The single
``NATS-tss-v1_0-3ffb9.pickle.pbz2`` holds every cell in ``arch2infos`` and must be loaded whole.
A cell record maps a schedule (``'12'``/``'200'``) to an ``ArchResults`` state dict holding one
``ResultsCount`` per (dataset, seed). The full API object (``nats_bench.create``) is never
built: it keeps every cell in memory and prints on every query.

The size space's files (``NATS-sss-v1_0-50262-simple``) have the same layout for its 32,768
channel configurations (``meta_archs`` entries like ``8:16:32:64:64``), with schedules ``'01'``,
``'12'`` and ``'90'`` (1, 12 and 90 epochs; the 90-epoch one is the long schedule, so the epoch
fidelity runs 1..90). The meta file says which space a source holds; every check is the same.

What NATS-Bench's collection script (``tss-collect.py``) puts in these files, and so here:

- train and eval times are NATS-Bench's calibrated per-epoch estimates (the same for every
  epoch), not measurements;
- runs kept from NB201's first release record some splits only after their last epoch (for
  cifar100 and ImageNet16-120, x-valid and x-test); their earlier epochs stay NaN;
- cifar10-valid's test accuracy is, by NB201 convention, the ``cifar10`` run's ori-test,
  paired with the cifar10-valid run of the same seed label.

The files are pickles: import only files from a source you trust.
"""

from __future__ import annotations

import bz2
import pickle
import re
import tarfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_load

from adapters import NUM_CELLS, Cell, InvalidCellError
from adapters.search_space import InvalidConfigError
from adapters.spaces import NatsSizeSpace
from benchmarks._datasets import DATASETS, default_splits
from benchmarks._store import CELL_INFO, METRICS, DatasetArrays
from benchmarks.importers._base import ImportResult, Progress
from benchmarks.importers._common import (
    EPOCHS,
    UNREADABLE,
    check_options,
    empty_cell_info,
    empty_objectives,
    epoch_space,
    fidelity_kind,
    finish_dataset,
    schedule_space,
    tick,
)
from adapters.types import BadInputError, FidelitySpace

__all__ = ["NatsImporter", "NatsSpace", "NATS_SPACES"]

_META = "meta.pickle.pbz2"
_CELL_FILE = re.compile(r"^(\d{6})\.pickle\.pbz2$")
_SEEDS = (777, 888, 999)
#: dataset -> the (run, eval set) behind valid_acc and test_acc; train time is the dataset's own run.
_SOURCES: dict[str, dict[str, tuple[str, str]]] = {
    "cifar10-valid": {"valid_acc": ("cifar10-valid", "x-valid"), "test_acc": ("cifar10", "ori-test")},
    "cifar10": {"test_acc": ("cifar10", "ori-test")},
    "cifar100": {"valid_acc": ("cifar100", "x-valid"), "test_acc": ("cifar100", "x-test")},
    "ImageNet16-120": {"valid_acc": ("ImageNet16-120", "x-valid"), "test_acc": ("ImageNet16-120", "x-test")},
}
_TIME_MEANING = {
    "epoch": "cumulative train time (s) to epoch e of the {long}-epoch schedule "
    "(NATS-Bench's per-epoch estimates, summed)",
    "schedule": "train time (s) of the whole {lengths}-epoch schedule (NATS-Bench's per-epoch estimates, summed)",
}
_SEED_NOTE = (
    "NATS-Bench training seeds; NaN where a cell lacks one. cifar10-valid's test_acc for a seed is "
    "the 'cifar10' run with the same seed label"
)
#: cell_info column -> key of ``ArchResults.get_compute_costs``
_COSTS = {"params_m": "params", "flops_m": "flops", "latency_s": "latency"}
_CORRUPT = (KeyError, TypeError, AttributeError, ValueError, IndexError)
_SIZE_SPACE = NatsSizeSpace()


@dataclass(frozen=True)
class NatsSpace:
    """One NATS-Bench search space as its files hold it."""

    name: str
    title: str
    cells: int
    #: the record's schedule keys, shortest first; the last is the long schedule behind the epoch fidelity
    schedules: tuple[str, ...]

    @property
    def epochs(self) -> int:
        return int(self.schedules[-1])

    def fidelity(self, kind: str) -> FidelitySpace:
        if kind == "epoch":
            if self.name == "nats-tss":
                return epoch_space()
            return FidelitySpace("epoch", tuple(range(1, self.epochs + 1)),
                                 f"epoch e of the {self.epochs}-epoch schedule: results after e epochs")
        if self.name == "nats-tss":
            return schedule_space()
        lengths = tuple(int(s) for s in self.schedules)
        return FidelitySpace("schedule", lengths, "schedule length: results at the end of the "
                             + " or ".join(f"{n}-epoch" for n in lengths) + " schedule")

    def time_meaning(self, kind: str) -> str:
        *head, last = (str(int(s)) for s in self.schedules)
        lengths = "-, ".join(head) + f"- or {last}"
        return _TIME_MEANING[kind].format(long=self.epochs, lengths=lengths)

    def index_of(self, arch: object) -> int:
        """The official index of an arch string of this space (InvalidCellError / InvalidConfigError if none)."""
        if self.name == "nats-tss":
            return Cell.from_arch_str(arch).index
        if not isinstance(arch, str) or ":" not in arch:  # from_native also takes a bare index: not here
            raise InvalidConfigError(f"not a NATS-Bench size-space string: {arch!r}")
        return _SIZE_SPACE.from_native(arch)


NATS_SPACES: dict[int, NatsSpace] = {
    space.cells: space
    for space in (
        NatsSpace("nats-tss", "NATS-Bench topology (NATS-tss-v1_0-3ffb9)", NUM_CELLS, ("12", "200")),
        NatsSpace("nats-sss", "NATS-Bench size (NATS-sss-v1_0-50262)", NatsSizeSpace.size, ("01", "12", "90")),
    )
}

#: The single-file form is worth a memory warning only when it is large (the official one is GBs).
_WARN_BYTES = 100_000_000


def _load(file: Path) -> object:
    try:
        return pickle_load(str(file))
    except UNREADABLE as exc:
        raise BadInputError(f"cannot read {file}: not a readable bz2 pickle ({type(exc).__name__}: {exc})") from None


def _load_member(tar: tarfile.TarFile, member: tarfile.TarInfo, where: str) -> object:
    """One ``.pickle.pbz2`` member of the tar, decoded as ``nats_bench.pickle_load`` decodes a file."""
    try:
        handle = tar.extractfile(member)
        return pickle.loads(bz2.decompress(handle.read()))  # type: ignore[union-attr]
    except (*UNREADABLE, tarfile.TarError) as exc:
        raise BadInputError(f"cannot read {where}: not a readable bz2 pickle ({type(exc).__name__}: {exc})") from None


def _meta_archs(meta: object, where: Path) -> tuple[NatsSpace, list[str]]:
    """The file's space and arch list, checked cell by cell against that space's official index order."""
    archs = meta.get("meta_archs") if isinstance(meta, dict) else None
    if not isinstance(archs, list):
        raise BadInputError(f"{where}: no 'meta_archs' list, so not a NATS-Bench file")
    space = NATS_SPACES.get(len(archs))
    if space is None:
        raise BadInputError(f"{where}: meta_archs lists {len(archs)} archs; the topology space has {NUM_CELLS}, "
                            f"the size space {NatsSizeSpace.size}")
    for position, arch in enumerate(archs):
        try:
            index = space.index_of(arch)
        except (InvalidCellError, InvalidConfigError) as exc:
            raise BadInputError(f"{where}: meta_archs[{position}]: {exc}") from None
        if index != position:
            raise BadInputError(
                f"{where}: meta_archs[{position}] is {arch}, which is official index {index}, not {position}"
            )
    return space, archs


def _curve(result: ResultsCount, setname: str, epochs: int = EPOCHS) -> np.ndarray:
    """Per epoch, what ``get_eval(setname, e)["accuracy"]`` / ``get_train(e)["all_time"]`` return.

    Those methods re-sum the times of every earlier epoch on each call, which makes a whole
    curve quadratic (about 1.5 hours over the full file), so this reads the same
    ``'{set}@{epoch}'`` / epoch keys they read, in one pass. Missing keys become NaN.
    """
    if setname == "train":
        times = result.train_times or {}
        return np.cumsum(np.array([times.get(e) for e in range(epochs)], dtype=np.float64))
    return np.array([result.eval_acc1es.get(f"{setname}@{e}") for e in range(epochs)], dtype=np.float64)


def _final(result: ResultsCount, setname: str) -> float:
    """The value after the run's last epoch, through ``nats_bench``'s own accessors."""
    try:
        info = result.get_train() if setname == "train" else result.get_eval(setname)
    except (KeyError, ValueError):
        return float("nan")
    value = info["all_time" if setname == "train" else "accuracy"]
    return float("nan") if value is None else float(value)


class _Collector:
    """Per-dataset arrays filled one cell at a time.

    Arrays are made when a dataset first has a value (the epoch axis makes them ~110 MB each).
    The seed axis starts at NATS-Bench's seeds (777, 888, 999) and grows if a run has another,
    so no run is dropped whatever seeds a schedule used.
    """

    def __init__(self, kind: str, space: NatsSpace) -> None:
        self.kind = kind
        self.space = space
        #: schedule key -> fidelity slot (None: the epoch axis, filled from whole curves)
        self.schedules: dict[str, int | None] = (
            {space.schedules[-1]: None} if kind == "epoch" else {s: i for i, s in enumerate(space.schedules)}
        )
        self.n_fid = space.epochs if kind == "epoch" else len(self.schedules)
        self.seeds = list(_SEEDS)
        self.objectives: dict[str, np.ndarray] = {}
        self.info: dict[str, np.ndarray] = {}

    def _slot(self, seed: int) -> int:
        if seed not in self.seeds:
            self.seeds.append(int(seed))
            for dataset, array in self.objectives.items():
                self.objectives[dataset] = np.concatenate([array, np.full_like(array[:, :1], np.nan)], axis=1)
        return self.seeds.index(seed)

    def _arrays(self, dataset: str) -> tuple[np.ndarray, np.ndarray]:
        if dataset not in self.objectives:
            self.objectives[dataset] = empty_objectives(len(self.seeds), self.n_fid, self.space.cells)
            self.info[dataset] = empty_cell_info(self.space.cells)
        return self.objectives[dataset], self.info[dataset]

    def add_cell(self, index: int, arch: str, record: object, where: str) -> None:
        if not isinstance(record, dict):
            raise BadInputError(f"{where}: not a NATS-Bench cell record (expected {{'12'|'200': ArchResults state}})")
        found = {str(hp): state for hp, state in record.items()}
        for hp in sorted(self.schedules, key=int):  # the long schedule last: its compute costs are the ones kept
            if hp in found:
                results = ArchResults.create_from_state_dict(found[hp])
                self._add_schedule(index, arch, results, self.schedules[hp], where)

    def _add_schedule(self, index: int, arch: str, results: ArchResults, fid: int | None, where: str) -> None:
        if results.arch_index != index or results.arch_str != arch:
            raise BadInputError(
                f"{where}: the record is for arch {results.arch_index} ({results.arch_str}), "
                f"but its place and meta_archs say {index} ({arch})"
            )
        runs = results.dataset_seed
        for dataset, sources in _SOURCES.items():
            for metric, (run, setname) in {**sources, "train_time_s": (dataset, "train")}.items():
                for seed in runs.get(run, ()):
                    result = results.query(run, seed)
                    value = _curve(result, setname, self.n_fid) if fid is None else _final(result, setname)
                    slot = self._slot(seed)  # before _arrays: a new seed replaces the arrays
                    objectives, _ = self._arrays(dataset)
                    objectives[index, slot, slice(None) if fid is None else fid, METRICS.index(metric)] = value
            if dataset in runs:
                try:
                    costs = results.get_compute_costs(dataset)
                except (KeyError, ValueError, ZeroDivisionError):
                    continue  # NATS-Bench's own legacy fix cannot pick a value: leave NaN
                _, info = self._arrays(dataset)
                info[index] = [np.nan if costs[_COSTS[name]] is None else costs[_COSTS[name]] for name in CELL_INFO]

    def datasets(self) -> list[DatasetArrays]:
        order = np.argsort(self.seeds)
        fidelity = self.space.fidelity(self.kind)
        return [
            finish_dataset(
                dataset,
                self.objectives[dataset][:, order] if self.seeds != sorted(self.seeds) else self.objectives[dataset],
                self.info[dataset],
                sorted(self.seeds),
                fidelity,
                default_splits(dataset, has_test=True, time_meaning=self.space.time_meaning(self.kind)),
                _SEED_NOTE,
            )
            for dataset in DATASETS
            if dataset in self.objectives
        ]


class NatsImporter:
    """Format ``nats``: the ``-simple`` folder or the single ``.pickle.pbz2`` file, of either search space.

    Also reads the ``-simple`` folder's ``.tar`` in place (one cell at a time, as the folder).

    Option ``fidelity``: ``"epoch"`` (default; the long schedule's curves: epochs 1..200 on the
    topology space, 1..90 on the size space) or ``"schedule"`` (the end of each schedule: 12 and
    200 epochs; 1, 12 and 90 on the size space).
    """

    name = "nats"

    def detect(self, path: Path) -> bool:
        path = Path(path)
        if path.is_dir():
            return (path / _META).is_file()
        return path.name.endswith((".pickle.pbz2", ".tar"))

    def read(self, path: Path | None, *, progress: Progress | None = None, **options: object) -> ImportResult:
        check_options(self.name, options, ("fidelity",))
        kind = fidelity_kind(options.get("fidelity", "epoch"))
        if path is None:
            raise BadInputError("the nats importer needs a NATS-Bench -simple folder (tss or sss), its .tar or its .pickle.pbz2")
        path = Path(path)
        if path.is_dir():
            (space, archs), total, records = self._folder(path)
        elif path.is_file() and path.name.endswith(".tar"):
            (space, archs), total, records = self._tar(path)
        elif path.is_file():
            (space, archs), total, records = self._single_file(path)
        else:
            raise BadInputError(f"no such file or folder: {path}")
        collector = _Collector(kind, space)
        tick(progress, 0, total, "cells")
        for done, (index, record, where) in enumerate(records, start=1):
            if not isinstance(index, int) or not 0 <= index < space.cells:
                raise BadInputError(f"{where}: cell index {index!r} is not in 0..{space.cells - 1}")
            try:
                collector.add_cell(index, archs[index], record, where)
            except BadInputError:
                raise
            except _CORRUPT as exc:
                reason = f"{type(exc).__name__}: {exc}"
                raise BadInputError(f"{where}: not a {space.title} cell record ({reason})") from None
            tick(progress, done, total, "cells")
        datasets = collector.datasets()
        if not datasets:
            raise BadInputError(f"{path}: no results for any NB201 dataset")
        return ImportResult(
            source={
                "name": space.title,
                "space": space.name,
                "format": self.name,
                "path": str(path),
                "cells": total,
                "license": "MIT (NATS-Bench)",
                "url": "https://github.com/D-X-Y/NATS-Bench",
            },
            datasets=datasets,
        )

    def _folder(self, folder: Path) -> tuple[tuple[NatsSpace, list[str]], int, Iterator[tuple[int, object, str]]]:
        if not (folder / _META).is_file():
            raise BadInputError(f"{folder} has no {_META}, so it is not a NATS-Bench -simple folder")
        meta = _meta_archs(_load(folder / _META), folder / _META)
        files = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _CELL_FILE.match(p.name)))
        if not files:
            raise BadInputError(f"{folder} has no per-cell files ({{index:06d}}.pickle.pbz2)")
        return meta, len(files), ((index, _load(file), file.name) for index, file in files)

    def _tar(self, file: Path) -> tuple[tuple[NatsSpace, list[str]], int, Iterator[tuple[int, object, str]]]:
        try:
            tar = tarfile.open(file, "r:")
            members = [m for m in tar.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BadInputError(f"cannot read {file}: not a readable tar archive ({exc})") from None
        metas = [m for m in members if PurePosixPath(m.name).name == _META]
        if len(metas) != 1:
            tar.close()
            raise BadInputError(f"{file}: holds {len(metas)} {_META} files, so it is not the -simple archive")
        meta = _meta_archs(_load_member(tar, metas[0], f"{file.name}:{metas[0].name}"), file)
        cells = sorted(
            (int(match.group(1)), m) for m in members if (match := _CELL_FILE.match(PurePosixPath(m.name).name))
        )
        if not cells:
            tar.close()
            raise BadInputError(f"{file} has no per-cell files ({{index:06d}}.pickle.pbz2)")

        def records() -> Iterator[tuple[int, object, str]]:
            with tar:
                for index, member in cells:
                    where = f"{file.name}:{member.name}"
                    yield index, _load_member(tar, member, where), where

        return meta, len(cells), records()

    def _single_file(self, file: Path) -> tuple[tuple[NatsSpace, list[str]], int, Iterator[tuple[int, object, str]]]:
        if file.stat().st_size > _WARN_BYTES:  # the real file (GBs), not a small or wrong one refused below
            warnings.warn(
                f"loading all of {file} ({file.stat().st_size / 1e9:.2f} GB compressed) into memory at once; "
                "expect several times that in RAM. The NATS-tss-v1_0-3ffb9-simple folder streams one cell at a time.",
                stacklevel=3,
            )
        data = _load(file)
        if isinstance(data, dict) and "meta_archs" in data and data.get("arch2infos") is None:
            raise BadInputError(f"{file} is the meta file of a -simple folder; import the folder instead")
        meta = _meta_archs(data, file)
        infos = data.get("arch2infos")
        if not isinstance(infos, dict):
            raise BadInputError(f"{file}: no 'arch2infos' dict, so not a single NATS-Bench file")
        return meta, len(infos), ((key, record, f"{file.name}[{key}]") for key, record in infos.items())

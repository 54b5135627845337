"""What the file importers share, so each format module holds only its own format's rules."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping

import numpy as np

from adapters import NUM_CELLS
from benchmarks._store import CELL_INFO, METRICS, DatasetArrays
from benchmarks.importers._base import Progress
from adapters.types import BadInputError, FidelitySpace

__all__ = [
    "ACCURACIES",
    "EPOCHS",
    "SCHEDULES",
    "UNREADABLE",
    "empty_objectives",
    "empty_cell_info",
    "epoch_space",
    "schedule_space",
    "fidelity_kind",
    "check_options",
    "tick",
    "finish_dataset",
]

#: Length of NB201's full schedule (hp=200); epoch fidelities run 1..EPOCHS.
EPOCHS = 200
#: The two schedule lengths NB201 trained every cell with (hp=12 and hp=200).
SCHEDULES: tuple[int, ...] = (12, 200)
#: What unpickling a damaged, truncated or foreign file raises (pickle formats only).
UNREADABLE: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    IndexError,
)
_KINDS = ("epoch", "schedule")
#: The metrics that are accuracies (percent) and so must name the split they were measured on.
ACCURACIES: tuple[str, ...] = ("valid_acc", "test_acc")


def empty_objectives(n_seeds: int, n_fidelities: int, n_cells: int = NUM_CELLS) -> np.ndarray:
    """All-NaN objectives: a cell, seed or epoch a source lacks must stay missing, never zero."""
    return np.full((n_cells, n_seeds, n_fidelities, len(METRICS)), np.nan, dtype=np.float32)


def empty_cell_info(n_cells: int = NUM_CELLS) -> np.ndarray:
    return np.full((n_cells, len(CELL_INFO)), np.nan, dtype=np.float32)


def epoch_space(values: Iterable[int] | None = None) -> FidelitySpace:
    values = tuple(range(1, EPOCHS + 1)) if values is None else tuple(values)
    if values == (EPOCHS,):
        return FidelitySpace("epoch", values, "end of the 200-epoch schedule (hp=200) only")
    return FidelitySpace("epoch", values, "epoch e of the 200-epoch schedule (hp=200): results after e epochs")


def schedule_space(values: Iterable[int] = SCHEDULES) -> FidelitySpace:
    meaning = "schedule length: results at the end of the 12-epoch (hp=12) or 200-epoch (hp=200) schedule"
    return FidelitySpace("schedule", tuple(values), meaning)


def fidelity_kind(value: object) -> str:
    """Validate a ``fidelity`` option: the two kinds answer different questions and never mix."""
    if value not in _KINDS:
        raise BadInputError(
            f"fidelity must be 'epoch' (epoch of the 200-epoch schedule) or 'schedule' "
            f"(the 12- and 200-epoch schedules), got {value!r}"
        )
    return str(value)


def check_options(fmt: str, options: Mapping[str, object], allowed: Iterable[str]) -> None:
    """Reject unknown options: a misspelt option silently ignored would import the wrong thing."""
    unexpected = sorted(set(options) - set(allowed))
    if unexpected:
        raise BadInputError(
            f"the {fmt} importer does not take option(s) {', '.join(unexpected)}; "
            f"it takes {', '.join(sorted(allowed)) or 'none'}"
        )


def tick(progress: Progress | None, done: int, total: int, desc: str, every: int = 256) -> None:
    """Report progress every ``every`` steps and at the end, so callbacks stay cheap."""
    if progress is not None and (done % every == 0 or done == total):
        progress(done, total, desc)


def finish_dataset(
    dataset: str,
    objectives: np.ndarray,
    cell_info: np.ndarray,
    seeds: Iterable[int],
    fidelity: FidelitySpace,
    splits: Mapping[str, str],
    seed_note: str = "",
) -> DatasetArrays:
    """Check the values and keep exactly the splits of the metrics that have values.

    A split recorded for an all-NaN metric would claim data the store does not hold, and a
    metric with values but no split would be a number without its split, so both are fixed
    or refused here, in one place for every importer.
    """
    if np.isinf(cell_info).any():
        raise BadInputError(f"{dataset}: the source has infinite values")
    present = {}
    for i, metric in enumerate(METRICS):
        # fmin/fmax skip NaN: the range of the values there are, NaN if there are none
        column = objectives[..., i]
        low, high = float(np.fmin.reduce(column, axis=None)), float(np.fmax.reduce(column, axis=None))
        present[metric] = not np.isnan(high)
        if not present[metric]:
            continue
        if metric not in splits:
            raise BadInputError(f"{dataset}: {metric} has values but no split saying what they measure")
        if np.isinf(low) or np.isinf(high):
            raise BadInputError(f"{dataset}: {metric} has infinite values")
        if low < 0:
            raise BadInputError(f"{dataset}: {metric} has negative values (min {low})")
        if metric in ACCURACIES and high > 100:
            raise BadInputError(f"{dataset}: {metric} goes above 100 (max {high}); accuracies are percentages")
        if metric in ACCURACIES and high <= 1:
            raise BadInputError(
                f"{dataset}: every {metric} value is <= 1 (max {high}); "
                "these look like fractions, give percentages (0..100)"
            )
    return DatasetArrays(
        dataset=dataset,
        objectives=objectives,
        cell_info=cell_info,
        seeds=tuple(int(s) for s in seeds),
        fidelity=fidelity,
        splits={m: splits[m] for m in METRICS if present[m]},
        seed_note=seed_note,
    )

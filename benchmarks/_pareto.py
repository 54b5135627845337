"""Exact Pareto fronts of a whole table, and hypervolume, for multi-objective NAS.

Everything works in a minimisation space: maximised objectives (the accuracy) are negated.
Two objectives use sort-based sweeps, O(n log n); more objectives use a vectorised
non-dominated filter (each round removes every point one front point dominates).

Hypervolume is measured in a normalised space so that objectives in % and in M parameters
weigh alike: each objective is scaled to [0, 1] over the whole table (0 = the best cell's
value, 1 = the worst's), and the reference point is the table's nadir, 1 in every objective.
The exact front's hypervolume is then the most any search can reach, and hypervolume regret
is the gap to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from adapters import NB201, OBJECTIVES, SearchSpace, parse_objectives
from adapters.protocols import task_objective, task_space
from adapters.types import SEED_MEAN, BadInputError

__all__ = ["ParetoFront", "Normaliser", "pareto_mask", "hypervolume", "hypervolume_history", "exact_front"]


def _minimised(points: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    signs = np.where(np.asarray(maximize, bool), -1.0, 1.0)
    return np.asarray(points, dtype=np.float64) * signs


def pareto_mask(points: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """True for every point no other point dominates (equal points are all kept).

    ``points`` is n x k (one row per cell), ``maximize`` says each column's direction.
    """
    costs = _minimised(points, maximize)
    n, k = costs.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    unique, inverse = _distinct(costs)
    keep = _sweep_2d(unique) if k == 2 else _filter_nd(unique)
    return keep[inverse]


def _distinct(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows in lexicographic order, and each row's position among them.

    ``np.unique(axis=0)`` does the same through structured views, several times slower.
    """
    order = np.lexsort(costs.T[::-1])
    ordered = costs[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(len(costs), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _sweep_2d(unique: np.ndarray) -> np.ndarray:
    """Distinct points sorted by (x, y): a point is dominated iff an earlier one has y <= its y."""
    y = unique[:, 1]
    best_before = np.minimum.accumulate(np.concatenate(([np.inf], y[:-1])))
    return y < best_before


def _filter_nd(unique: np.ndarray) -> np.ndarray:
    """Distinct points: the non-dominated ones. Each surviving point in turn removes every
    point it dominates; a point is never removed by itself, so the walk moves past it."""
    candidates = np.arange(len(unique))
    i = 0
    while i < len(candidates):
        point = unique[candidates[i]]
        rest = unique[candidates]
        survives = ~(np.all(point <= rest, axis=1) & np.any(point < rest, axis=1))
        candidates = candidates[survives]
        i = int(np.count_nonzero(survives[: i + 1]))
    keep = np.zeros(len(unique), dtype=bool)
    keep[candidates] = True
    return keep


def hypervolume(costs: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by ``costs`` (minimisation) and bounded by ``reference``.

    Points not strictly better than the reference in every objective add nothing. Two
    objectives: a sweep over the front sorted by the first; more: Optuna's WFG algorithm.
    """
    costs = np.asarray(costs, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if costs.size == 0:
        return 0.0
    inside = costs[np.all(costs < reference, axis=1)]
    if len(inside) == 0:
        return 0.0
    if inside.shape[1] == 2:
        distinct = _distinct(inside)[0]
        front = distinct[_sweep_2d(distinct)]  # x ascending, so y descending
        heights = reference[1] - front[:, 1]
        widths = np.diff(np.append(front[:, 0], reference[0]))
        return float(np.sum(widths * heights))
    from optuna._hypervolume import compute_hypervolume  # WFG; a private module of Optuna 5

    return float(compute_hypervolume(inside, reference))


def hypervolume_history(costs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The hypervolume of the first i points, for every i (a run's front as it grows).

    Only a point that enlarges the front triggers a recomputation, over the front alone.
    """
    costs = np.asarray(costs, dtype=np.float64)
    out = np.zeros(len(costs))
    front = np.empty((0, costs.shape[1] if costs.ndim == 2 else 0))
    value = 0.0
    for i, point in enumerate(costs):
        if not (len(front) and np.any(np.all(front <= point, axis=1))):
            front = np.vstack([front[~np.all(point <= front, axis=1)], point])
            value = hypervolume(front, reference)
        out[i] = value
    return out


@dataclass(frozen=True)
class Normaliser:
    """Scales each objective to [0, 1] over the whole table, 0 at the best value, in minimisation form.

    ``best`` and ``worst`` are in each objective's own units and direction; the reference
    point of every hypervolume is 1 (the table's nadir) in every objective.
    """

    objectives: tuple[str, ...]
    best: tuple[float, ...]
    worst: tuple[float, ...]

    def costs(self, values: np.ndarray) -> np.ndarray:
        """n x k objective values (own units) -> normalised costs (0 best, 1 worst)."""
        best, worst = np.asarray(self.best), np.asarray(self.worst)
        return (np.asarray(values, dtype=np.float64) - best) / (worst - best)

    @property
    def reference(self) -> np.ndarray:
        return np.ones(len(self.objectives))

    def to_dict(self) -> dict[str, object]:
        return {"objectives": list(self.objectives), "best": list(self.best), "worst": list(self.worst),
                "reference": "1 in every normalised objective (the table's worst value of each)"}


@dataclass(frozen=True)
class ParetoFront:
    """The exact front of one dataset: its configurations (rows of ``space``) and their seed-mean values.

    ``maximize`` is each objective's direction on this dataset (``valid_acc`` is the task's objective,
    minimised on HPOLib); empty means ``adapters.OBJECTIVES``' directions.
    """

    dataset: str
    objectives: tuple[str, ...]
    indices: np.ndarray
    values: np.ndarray  # len(indices) x len(objectives), own units
    normaliser: Normaliser
    n_cells: int
    space: SearchSpace = NB201
    maximize: tuple[bool, ...] = ()

    @property
    def hypervolume(self) -> float:
        return hypervolume(self.normaliser.costs(self.values), self.normaliser.reference)

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "objectives": [{"name": n, "direction": "maximize" if up else "minimize", "unit": OBJECTIVES[n].unit}
                           for n, up in zip(self.objectives, self.maximize or [OBJECTIVES[n].maximize
                                                                               for n in self.objectives])],
            "cells_considered": self.n_cells,
            "normalisation": self.normaliser.to_dict(),
            "hypervolume": self.hypervolume,
            "front": [
                {"index": int(i), "native_key": self.space.native_key(int(i)),
                 "arch_str": self.space.to_str(self.space.config(int(i))),
                 **{n: float(v) for n, v in zip(self.objectives, row)}}
                for i, row in zip(self.indices, self.values)
            ],
        }


def exact_front(benchmark, dataset: str, objectives: str | Sequence[str]) -> ParetoFront:
    """The Pareto front of every cell's seed-mean values at the highest fidelity.

    Cells missing a value of any objective are left out; an objective the store lacks on
    this dataset is a BadInputError.
    """
    names = parse_objectives(objectives)
    if len(names) < 2:
        raise BadInputError(f"a Pareto front needs at least two objectives; got {', '.join(names)}")
    space = task_space(benchmark, dataset)
    all_cells = np.arange(space.size)
    columns = []
    for name in names:
        column = benchmark.lookup(all_cells, dataset, OBJECTIVES[name].metric, None, SEED_MEAN)
        if np.isnan(column).all():
            raise BadInputError(f"objective {name!r} ({OBJECTIVES[name].metric}) is not in store "
                                f"{benchmark.name!r} for {dataset}")
        columns.append(column)
    values = np.column_stack(columns)
    known = ~np.isnan(values).any(axis=1)
    indices, values = all_cells[known], values[known]
    objective = task_objective(benchmark, dataset)  # the accuracy's place: the task's own metric and direction
    maximize = [objective.maximize if n == "valid_acc" else OBJECTIVES[n].maximize for n in names]
    best = np.where(maximize, values.max(axis=0), values.min(axis=0))
    worst = np.where(maximize, values.min(axis=0), values.max(axis=0))
    mask = pareto_mask(values, maximize)
    order = np.lexsort(values[mask].T[::-1])
    return ParetoFront(dataset, names, indices[mask][order], values[mask][order],
                       Normaliser(names, tuple(best.tolist()), tuple(worst.tolist())), int(known.sum()), space,
                       tuple(maximize))

"""The report's multi-objective section: hypervolume, hypervolume regret, fronts, ranks.

It reads the trial records' seed-mean objective columns (``mean_<name>``, see
``harness.running.records.objective_columns``) and the exact front of the whole table that the caller
computed (``benchmarks.exact_front``), never a benchmark. A run's front is the set of cells it
evaluated (completed, at the highest fidelity), scored at their seed-mean values, so the
training seed's noise neither helps nor hurts and hypervolume regret is never negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from adapters import OBJECTIVES
from benchmarks import ParetoFront, hypervolume_history, pareto_mask
from harness.reporting import figures
from harness.reporting.document import Block, Heading, Image, Paragraph, Table
from harness.reporting.stats import friedman_nemenyi, in_tell_order, mean_se, seed_matrix, time_grid

__all__ = ["pareto_section", "hypervolume_runs", "HV_FLOOR"]

#: Log axes cannot show a hypervolume regret of 0 (the exact front found): values are clipped to this.
HV_FLOOR = 1e-5


def _run_costs(run: pd.DataFrame, front: ParetoFront) -> np.ndarray:
    """Each trial's normalised costs; a trial that yields no front point (pruned, lower fidelity)
    sits at the reference point, where it adds nothing."""
    columns = [f"mean_{name}" for name in front.objectives]
    costs = front.normaliser.costs(run[columns].to_numpy(float))
    counts = (run["status"] == "ok").to_numpy() & (run["fidelity"] == run["fidelity"].max()).to_numpy()
    costs[~counts | np.isnan(costs).any(axis=1)] = front.normaliser.reference
    return costs


def hypervolume_runs(trials: pd.DataFrame, front: ParetoFront) -> pd.DataFrame:
    """Per trial: the run's hypervolume and hypervolume regret after it (same index as ``trials``)."""
    exact = front.hypervolume
    parts = []
    for _, run in in_tell_order(trials, by=("run_id",)).groupby("run_id", sort=False):
        hv = hypervolume_history(_run_costs(run, front), front.normaliser.reference)
        parts.append(pd.DataFrame({"hypervolume": hv, "hv_regret": np.maximum(exact - hv, 0.0)}, index=run.index))
    return pd.concat(parts).loc[trials.index]


def _curves(trials: pd.DataFrame, grid: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per optimizer, seeds x grid of hypervolume regret (held after a run ends, NaN before its first trial)."""
    curves = {}
    for optimizer, frame in in_tell_order(trials).groupby("optimizer"):
        rows = {}
        for seed, run in frame.groupby("seed"):
            pos = np.searchsorted(run["sim_end_s"].to_numpy(float), grid, side="right") - 1
            values = run["hv_regret"].to_numpy(float)
            rows[seed] = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
        curves[optimizer] = pd.DataFrame.from_dict(rows, orient="index")
    return curves


def _finals(trials: pd.DataFrame, front: ParetoFront) -> pd.DataFrame:
    """One row per (optimizer, seed): final hypervolume, its regret, and how much of the exact front it found."""
    exact = set(front.indices.tolist())
    rows = {}
    for (optimizer, seed), run in in_tell_order(trials).groupby(["optimizer", "seed"]):
        last = run.iloc[-1]
        costs = _run_costs(run, front)
        inside = ~np.all(costs == front.normaliser.reference, axis=1)
        own = pareto_mask(costs[inside], [False] * len(front.objectives))
        rows[(optimizer, seed)] = {
            "hypervolume": last["hypervolume"], "hv_regret": last["hv_regret"],
            "front_size": int(own.sum()), "exact_found": len(exact & set(run.loc[run.index[inside], "index"].tolist())),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["optimizer", "seed"])


def _mean_se_text(values: np.ndarray, digits: int) -> str:
    mean, se = mean_se(pd.DataFrame(np.asarray(values, float)[:, None]))
    return f"{mean[0]:.{digits}g} ± {se[0]:.2g}"


def _table(finals: pd.DataFrame, front: ParetoFront) -> Table:
    rows = []
    for name, run in finals.groupby(level="optimizer"):
        rows.append((
            str(name), str(len(run)), _mean_se_text(run["hypervolume"], 6), _mean_se_text(run["hv_regret"], 3),
            f"{run['front_size'].mean():.1f}", f"{run['exact_found'].mean():.1f} of {len(front.indices)}",
        ))
    rows.sort(key=lambda row: float(row[3].split(" ")[0]))
    return Table(("optimizer", "seeds", "final hypervolume", "hypervolume regret", "front size",
                  "exact-front cells found"), tuple(rows))


def _fronts_figure(trials: pd.DataFrame, front: ParetoFront, dataset: str, out: Path) -> Block:
    """Each optimizer's final front per seed beside the exact front (first two objectives)."""
    x_name, y_name = front.objectives[0], front.objectives[1]
    found: dict[str, list[np.ndarray]] = {}
    for (optimizer, _), run in trials.groupby(["optimizer", "seed"]):
        costs = _run_costs(run, front)
        inside = ~np.all(costs == front.normaliser.reference, axis=1)
        values = run.loc[run.index[inside], [f"mean_{x_name}", f"mean_{y_name}"]].to_numpy(float)
        mask = pareto_mask(values, [OBJECTIVES[x_name].maximize, OBJECTIVES[y_name].maximize])
        found.setdefault(str(optimizer), []).append(values[mask])
    name = f"pareto_fronts_{dataset}.png"
    figures.plot_fronts(front.values[:, :2], found, xlabel=OBJECTIVES[x_name].label, ylabel=OBJECTIVES[y_name].label,
                        title=f"Final fronts (one line per seed) and the exact front, {dataset}", path=out / name)
    return Image(name, f"each optimizer's final fronts beside the exact front on {dataset}")


def _dataset_blocks(trials: pd.DataFrame, front: ParetoFront, split: str, dataset: str, out: Path,
                    alpha: float) -> list[Block]:
    trials = trials.join(hypervolume_runs(trials, front))
    finals = _finals(trials, front)
    grid = time_grid(trials)
    figures.plot_regret_curves(
        _curves(trials, grid), grid, xlabel="simulated time (s)", log_x=True, split=split, floor=HV_FLOOR,
        ylabel=f"hypervolume regret (floor {HV_FLOOR:g})",
        title=f"Hypervolume regret over simulated time, {dataset}", path=out / f"hv_regret_time_{dataset}.png")
    norm = front.normaliser
    bounds = "; ".join(f"{n} from {b:.5g} (0) to {w:.5g} (1)" for n, b, w in zip(norm.objectives, norm.best, norm.worst))
    blocks: list[Block] = [
        Heading(f"Multi-objective results on {dataset}: {', '.join(front.objectives)}", 3),
        Paragraph(
            f"Each objective is scaled to [0, 1] over all {front.n_cells:,} cells' seed-mean values at the highest "
            f"fidelity (0 = the best cell's value, 1 = the worst's: {bounds}); hypervolume is measured in that space "
            f"against the reference point 1 in every objective (the table's worst value of each). The exact front "
            f"of the whole table has {len(front.indices)} cells and hypervolume {front.hypervolume:.6f}; hypervolume "
            f"regret is that minus a run's. A run's front holds the cells it evaluated (completed, highest fidelity) "
            f"at their seed-mean values (valid_acc: {split}). Values are mean ± standard error over seeds."
        ),
        _table(finals, front),
        Image(f"hv_regret_time_{dataset}.png", f"hypervolume regret over simulated time on {dataset}"),
        Paragraph(f"Mean across seeds with a ±1 standard-error band, log axis clipped at {HV_FLOOR:g}."),
    ]
    if len(front.objectives) == 2:
        blocks.append(_fronts_figure(trials, front, dataset, out))
    else:
        blocks.append(Paragraph(f"Fronts are drawn for two objectives; this search has {len(front.objectives)}."))
    test = friedman_nemenyi(seed_matrix(finals, "hv_regret"), alpha)
    ranks = ", ".join(f"{name} {rank:.2f}" for name, rank in test.mean_ranks.items())
    if test.reason:
        return blocks + [Paragraph(f"Critical-difference diagram: cannot be computed: {test.reason}. "
                                   f"Mean ranks of final hypervolume regret: {ranks}.")]
    name = f"hv_cd_diagram_{dataset}.png"
    figures.plot_cd_diagram(test, title=f"Nemenyi CD on final hypervolume regret (alpha={alpha:g}), {dataset}",
                            path=out / name)
    cliques = "; ".join(", ".join(c) for c in test.cliques) or "none (every pair differs)"
    return blocks + [
        Paragraph(f"Friedman test on final hypervolume regret over {test.n_blocks} seeds: chi² = {test.statistic:.4g}, "
                  f"p = {test.p_value:.4g}. Mean ranks (1 = lowest regret): {ranks}. CD = {test.cd:.3f}; groups not "
                  f"significantly different: {cliques}."),
        Image(name, f"critical-difference diagram on final hypervolume regret on {dataset}"),
    ]


def pareto_section(trials: pd.DataFrame, fronts: Mapping[str, ParetoFront], splits: Mapping[str, Mapping[str, str]],
                   out: Path, alpha: float = 0.05) -> list[Block]:
    """The multi-objective blocks for every dataset with an exact front (report order)."""
    blocks: list[Block] = [Heading("Multi-objective search")]
    for dataset, front in fronts.items():
        subset = trials[trials["dataset"] == dataset]
        if not subset.empty:
            split = splits[dataset]["valid_acc"].split(" (")[0]
            blocks += _dataset_blocks(subset, front, split, dataset, Path(out), alpha)
    return blocks

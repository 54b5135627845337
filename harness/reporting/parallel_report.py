"""The parallel section of a report: how each optimizer uses W simulated workers.

Reads trial records only (``workers``, ``sim_end_s``, ``sim_compute_s``, ``regret_valid``):
regret over simulated wall-clock per W, the wall-clock to reach a regret target and the
speed-up over one worker, and worker utilisation (busy worker time over W x wall-clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from harness.reporting import figures
from harness.reporting.document import Block, Heading, Image, Paragraph, Table
from harness.reporting.formats import mean_std
from harness.reporting.plot_style import label_order
from harness.reporting.stats import in_tell_order, step_curves, time_grid

__all__ = ["parallel_section", "parallel_table"]

AT_LEAST = "\u2265 "  # a speed-up that is a lower bound


def _time_to_target(run: pd.DataFrame, target: float) -> float:
    """The simulated wall-clock at which a run's incumbent regret first reaches ``target`` (inf if never)."""
    hit = run.loc[run["regret_valid"] <= target + 1e-9, "sim_end_s"]
    return float(hit.min()) if len(hit) else float("inf")


def parallel_table(trials: pd.DataFrame, base_of: Mapping[str, str], target: float) -> pd.DataFrame:
    """One row per (optimizer, W): runs, trials, final regret, median time to target, speed-up, utilisation."""
    rows = []
    for (label, seed), run in in_tell_order(trials).groupby(["optimizer", "seed"]):
        workers = int(run["workers"].iloc[0])
        wall = float(run["sim_end_s"].max())
        rows.append({"optimizer": base_of[label], "workers": workers, "seed": seed, "trials": len(run),
                     "final_regret": float(run["regret_valid"].iloc[-1]),
                     "time_to_target_s": _time_to_target(run, target), "wall_s": wall,
                     "utilisation": float(run["sim_compute_s"].iloc[-1]) / (workers * wall) if wall > 0 else np.nan})
    runs = pd.DataFrame(rows)
    table = runs.groupby(["optimizer", "workers"]).agg(
        runs=("seed", "size"), trials=("trials", "mean"), final_regret=("final_regret", list),
        reached=("time_to_target_s", lambda s: int(np.isfinite(s).sum())),
        time_to_target_s=("time_to_target_s", "median"), utilisation=("utilisation", "mean"),
        wall_s=("wall_s", "median"),
    ).reset_index()
    one = table[table["workers"] == table.groupby("optimizer")["workers"].transform("min")].set_index("optimizer")
    # When the fewest workers' median run never reaches the target, it would need longer than its
    # wall-clock: the speed-up is then a lower bound, that wall-clock over the time at W.
    bounded = ~np.isfinite(one["time_to_target_s"])
    reference = one["time_to_target_s"].where(~bounded, one["wall_s"])
    reached = np.isfinite(table["time_to_target_s"])
    table["speedup"] = (table["optimizer"].map(reference) / table["time_to_target_s"]).where(reached)
    table["speedup_at_least"] = reached & table["optimizer"].map(bounded)
    return table


def _speedup(value: float, at_least: bool) -> str:
    if np.isnan(value):
        return "n/a"
    return f"{AT_LEAST if at_least else ''}{value:.2f}x"


def parallel_section(trials: pd.DataFrame, base_of: Mapping[str, str], target: float, split: str,
                     out: Path) -> list[Block]:
    """Blocks for the report: the table and one regret-over-wall-clock figure per optimizer."""
    table = parallel_table(trials, base_of, target)
    lowest = int(table["workers"].min())
    blocks: list[Block] = [
        Heading("Parallel workers"),
        Paragraph(
            "Each optimizer ran with W simulated workers on one event-driven simulated clock: a trial occupies a "
            "worker for its simulated train time, a free worker asks at once (trials still running are pending), "
            "and results are told in order of finish time. The seconds budget is simulated wall-clock, so W "
            f"workers spend up to W times the compute. Time to target: the simulated wall-clock at which the "
            f"incumbent's regret first reaches {target:g} pp ({split}), median over seeds (runs that never reach "
            f"it count as infinite); speed-up: that time at W = {lowest} over that time at W ({AT_LEAST.strip()}: W = {lowest}'s "
            "median run never reached the target, so its run's wall-clock stands in as a lower bound). Utilisation: busy "
            "worker time over W x the run's wall-clock (idle time is the tail after the last trial that fits)."
        ),
        Table(("optimizer", "W", "runs", "trials/run", f"final regret pp ({split})", "reached target",
               "time to target (s)", f"speed-up vs W={lowest}", "utilisation"),
              tuple((r.optimizer, str(r.workers), str(r.runs), f"{r.trials:.0f}",
                     mean_std(r.final_regret, 3),
                     f"{r.reached}/{r.runs}",
                     "not reached" if not np.isfinite(r.time_to_target_s) else f"{r.time_to_target_s:,.0f}",
                     _speedup(r.speedup, r.speedup_at_least), f"{r.utilisation:.1%}")
                    for r in table.itertuples())),
    ]
    for base in sorted(table["optimizer"].unique()):
        labels = [label for label, b in base_of.items() if b == base]
        subset = trials[trials["optimizer"].isin(labels)]
        grid = time_grid(subset)
        curves = {f"W={int(subset.loc[subset['optimizer'] == k, 'workers'].iloc[0])}": v
                  for k, v in step_curves(subset, "sim_end_s", grid).items()}
        name = f"parallel_regret_{base}.png"
        figures.plot_regret_curves(curves, grid, xlabel="simulated wall-clock (s)", log_x=True, split=split,
                                   order=label_order(curves), legend_title="simulated workers",
                                   title=f"{base}: incumbent regret over simulated wall-clock", path=out / name)
        blocks.append(Image(name, f"{base}: regret over simulated wall-clock for each W"))
    return blocks

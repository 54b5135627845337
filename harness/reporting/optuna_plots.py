"""The report's Optuna-based views: the pooled study behind edge importance, and Optuna's plots redrawn.

Every run's records become an in-memory Optuna study (``study_from_trials``, one trial per
record through the same ``frozen_trial`` the live storages and ``export optuna`` use), so
Optuna's importance evaluators (fANOVA, PED-ANOVA) score any optimizer's trials.

The views Optuna's plotting offers (optimization history, EDF, contour, importances) are
drawn by :mod:`harness.reporting.trial_figures` in the report's one style instead of Optuna's
matplotlib backend: that backend switches pyplot to its grey theme, cannot share axes between the
panels of a grid, plots only completed trials, and interpolates contours across unordered
operations. Importance and the EDF use completed trials at the highest recorded fidelity
only (pruned, low-fidelity values are not final accuracies); the history shows every trial.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from adapters import NB201, SearchSpace
from adapters.search_space import labels
from harness.reporting import trial_figures
from harness.reporting.document import Block, Heading, Image, Paragraph
from harness.reporting.formats import Units, terms_of, units_of

__all__ = ["study_from_trials", "pooled_study", "optuna_section", "importance_figure"]



def study_from_trials(trials: pd.DataFrame, name: str, space: SearchSpace = NB201) -> Any:
    """An in-memory, maximizing Optuna study holding these trial records (in their order)."""
    return _study(_frozen_trials(trials, space), name)


def _frozen_trials(trials: pd.DataFrame, space: SearchSpace) -> list[Any]:
    """One read-only FrozenTrial per record; the same objects may be added to several studies."""
    from adapters.optimizers.optuna_study import frozen_trial

    return [_kept_as_is(frozen_trial(row, number, space=space)) for number, row in enumerate(trials.to_dict("records"))]


def _study(frozen: Sequence[Any], name: str) -> Any:
    import optuna

    from adapters.optimizers.optuna_study import quiet_info

    with quiet_info():
        study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), study_name=name, direction="maximize")
        study.add_trials(frozen)
    return study


def _kept_as_is(trial: Any) -> Any:
    trial.__class__ = _read_only_trial_class()
    return trial


@functools.cache
def _read_only_trial_class() -> type:
    """A FrozenTrial whose deep copy is a shallow one.

    The in-memory storage deep-copies every trial it is given (and Optuna's ``study.trials``
    again): with the paper profile's 100,000 records, added per run, per optimizer and pooled,
    that copying was most of the report's time. These plotting studies are only read, never
    written to, so a copy may share the trial's dicts and distributions.
    """
    from optuna.trial import FrozenTrial

    class ReadOnlyFrozenTrial(FrozenTrial):
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            return copy.copy(self)

    return ReadOnlyFrozenTrial


def _final(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[(trials["status"] == "ok") & (trials["fidelity"] == trials["fidelity"].max())]


def pooled_study(trials: pd.DataFrame, space: SearchSpace = NB201) -> Any:
    """One study of every optimizer's completed, highest-fidelity trials (importance, contour, rank)."""
    return study_from_trials(_final(trials), "all optimizers", space)


def _histories(trials: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per optimizer, every trial with its run's training effort so far and that run's best final value so far."""
    from harness.reporting.stats import in_tell_order

    ordered = in_tell_order(trials)
    top_fidelity = float(ordered["fidelity"].max())
    runs = [ordered["optimizer"], ordered["seed"]]
    top = (ordered["status"] == "ok") & (ordered["fidelity"] == top_fidelity)
    frame = pd.DataFrame({
        "optimizer": ordered["optimizer"],
        "seed": ordered["seed"],
        "x": (ordered["fidelity"].astype(float) / top_fidelity).groupby(runs).cumsum(),
        "value": ordered["valid_acc"].astype(float),
        "top": top,
        "best": ordered["valid_acc"].astype(float).where(top).groupby(runs).cummax(),
    })
    frame["best"] = frame.groupby(["optimizer", "seed"])["best"].ffill()  # held between top-fidelity trials
    return {str(name): group.drop(columns="optimizer") for name, group in frame.groupby("optimizer")}


def _pair_means(final: pd.DataFrame, row: str, column: str,
                space: SearchSpace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean observed accuracy and trial count per (value of ``row``, value of ``column``), in the space's order."""
    ops = {arch: space.to_params(space.from_str(arch)) for arch in final["arch_str"].unique()}
    choices = {hp.name: list(hp.choices) for hp in space.hyperparameters}
    pairs = pd.DataFrame({"row": [ops[a][row] for a in final["arch_str"]],
                          "column": [ops[a][column] for a in final["arch_str"]],
                          "valid_acc": final["valid_acc"].astype(float).to_numpy()})
    grouped = pairs.groupby(["row", "column"])["valid_acc"]
    full = pd.MultiIndex.from_product([choices[row], choices[column]])
    mean = grouped.mean().reindex(full).unstack()
    counts = grouped.size().reindex(full, fill_value=0).unstack()
    return (mean.loc[choices[row], choices[column]], counts.loc[choices[row], choices[column]])


def _value_floor(values: pd.Series, percent: bool) -> float:
    """A lower axis limit that keeps the informative range: the 2nd percentile, or the minimum if close
    (within 1 pp of the best for accuracies in %, within 1% of the values' span otherwise)."""
    close = 1.0 if percent else 0.01 * float(values.max() - values.min())
    return float(min(values.quantile(0.02), values.max() - close))


def optuna_section(trials: pd.DataFrame, dataset: str, split: str, out: Path, ranking: Sequence[str],
                   order: Sequence[str], space: SearchSpace = NB201, units: Units = units_of()) -> list[Block]:
    """The report's trial-history and search-space blocks for one dataset.

    ``ranking`` orders the edges by importance (the report's fANOVA); ``order`` is the report's rank order of the optimizers. The views are those
    of Optuna's plot_optimization_history, plot_edf and plot_contour, drawn in the report's
    style: the history panels share their axes and hold every trial (each fidelity and the
    pruned ones), and the contour, which would interpolate between unordered operations,
    is a heat map of mean accuracy per pair of operations. ``units`` name the values drawn (a
    minimised objective arrives negated, as the optimizers maximised it).
    """
    final = _final(trials)
    names = labels(space)
    terms = terms_of(space)
    blocks: list[Block] = [Heading("Trial histories and the search space", 3)]
    if final["valid_acc"].nunique() < 2 or len(ranking) < 2:
        return blocks + [Paragraph("Not drawn: fewer than two distinct completed accuracies at the highest fidelity.")]
    target = f"observed {units.value} ({split})"
    histories = _histories(trials)
    top = float(trials["fidelity"].max())
    floor = _value_floor(final["valid_acc"].astype(float), units.percent)
    floor_text = f"{floor:.1f}%" if units.percent else f"{floor:.4g}"
    history = trial_figures.plot_history_grid(
        histories, order=order, xlabel=f"full-training equivalents spent in the run (epochs / {top:g})",
        ylabel=target, y_low=floor, title=f"Every trial of every run, {dataset}",
        path=out / f"history_{dataset}.png")
    n_below = int((trials["valid_acc"].astype(float) < floor).sum())
    values = {str(name): frame["valid_acc"].to_numpy(float) for name, frame in final.groupby("optimizer")}
    edf = trial_figures.plot_edf(values, order=order, xlabel=target, x_low=floor, path=out / f"edf_{dataset}.png",
                           title=f"Distribution of completed {top:g}-epoch trial values, {dataset}")
    first, second = ranking[0], ranking[1]
    mean, counts = _pair_means(final, first, second, space)
    heatmap = trial_figures.plot_pair_heatmap(
        mean, counts, ylabel=f"{terms.choice} of {terms.part} {names[first]}",
        xlabel=f"{terms.choice} of {terms.part} {names[second]}",
        colorbar=f"mean {target}", path=out / f"pair_heatmap_{dataset}.png",
        title=f"Mean {units.name} per pair of {terms.choice}s on the two\n"
              f"most important {terms.part}s (fANOVA), {dataset}")
    return blocks + [
        Paragraph(
            f"From the trial records of every optimizer (the same {len(trials)} trials as above; completed trials at "
            f"the highest fidelity, {top:g} epochs, are the {len(final)} final values). Each value is the observed "
            f"{split} {units.name} of one training seed."
        ),
        Image(history.name,
              f"Every trial per optimizer in rank order, on shared axes: coloured points are completed {top:g}-epoch "
              f"trials, grey ones lower-fidelity or pruned trials, lines each seed's best {top:g}-epoch value so far; "
              f"the {n_below} values below {floor_text} sit on the lower edge as triangles"),
        Image(edf.name, f"Empirical distribution of each optimizer's completed {top:g}-epoch trial values (a curve "
                        f"further right means better trials), from {floor_text}"),
        Image(heatmap.name,
              f"Mean observed {units.name} of completed {top:g}-epoch trials per pair of "
              f"{terms.choice}s on the two most important {terms.part}s by fANOVA ({names[first]} and "
              f"{names[second]}), "
              f"all optimizers pooled; {terms.choice}s in the space's order on both axes, n = trials per pair, "
              "blank where none"),
    ]


def importance_figure(study: Any, fanova: Mapping[str, float], dataset: str, split: str,
                      out: Path, space: SearchSpace = NB201,
                      units: Units = units_of()) -> tuple[dict[str, float], Image]:
    """PED-ANOVA importance of each edge (hyperparameter), and one figure of fANOVA and PED-ANOVA side by side.

    ``fanova`` is the report's fANOVA importance of ``study`` (``stats.edge_importance``: 16
    trees of depth 8; Optuna's default ranks the edges the same at a fraction of the time);
    PED-ANOVA uses Optuna's defaults. Each is computed once and drawn as computed.
    """
    import optuna

    terms = terms_of(space)
    ped = optuna.importance.get_param_importances(study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                                                  normalize=True)
    path = trial_figures.plot_importance({"fANOVA": dict(fanova), "PED-ANOVA": ped}, labels(space),
                                         axis=terms.part_header,
                                         title=f"{terms.part.capitalize()} importance for {units.name} ({split}), "
                                               f"{dataset}",
                                         path=out / f"importance_{dataset}.png")
    return ped, Image(path.name, f"fANOVA and PED-ANOVA importance of each {terms.part} on {dataset}, "
                                 f"{terms.part}s ordered by fANOVA")

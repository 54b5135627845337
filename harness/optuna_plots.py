"""Optuna's own visualizations in the compare report, drawn from trial records.

Every run's records become an in-memory Optuna study (``study_from_trials``, one trial per
record through the same ``frozen_trial`` the live storages and ``export optuna`` use), so any
optimizer's runs are plotted by Optuna's matplotlib backend exactly as Optuna users see their
own studies. What is drawn, per dataset:

* the optimization history of each optimizer, all seeds as one mean ± std band (one panel
  per optimizer; the report's own regret-over-evaluations figure compares them on one axis);
* the empirical distribution function of every optimizer's trials (one line per optimizer);
* the contour of the two most important edges (fANOVA) over all optimizers' trials;
* edge importance by fANOVA and by PED-ANOVA, side by side;
* ``plot_rank`` of the same two edges (a pair plot of more edges costs seconds per panel).

Optuna's matplotlib backend draws with pyplot; each figure is closed as soon as it is saved.
Only completed trials at the highest recorded fidelity enter (pruned, low-fidelity values
are not final accuracies), as in the report's own importance.
"""

from __future__ import annotations

import copy
import functools
import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adapters import NB201, SearchSpace
from adapters.search_space import labels
from harness.atomic import atomic_write
from harness.document import Block, Heading, Image, Paragraph

__all__ = ["study_from_trials", "pooled_study", "optuna_section", "importance_figure"]

#: Panels per row in tiled figures.
_COLUMNS = 3


def study_from_trials(trials: pd.DataFrame, name: str, space: SearchSpace = NB201) -> Any:
    """An in-memory, maximizing Optuna study holding these trial records (in their order), whose
    params are ``space``'s hyperparameters (the records' ``index`` is a key of it)."""
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


@functools.cache
def _computed_evaluator_class() -> type:
    """An Optuna importance evaluator that hands back importances already computed for the study."""
    from optuna.importance import BaseImportanceEvaluator

    class ComputedImportances(BaseImportanceEvaluator):
        def __init__(self, importances: Mapping[str, float]) -> None:
            self._importances = dict(importances)

        def evaluate(self, study: Any, params: list[str] | None = None, *, target: Any = None) -> dict[str, float]:
            return dict(self._importances)

    return ComputedImportances


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


def _png(draw: Callable[[], Any]) -> bytes:
    """Run one of Optuna's matplotlib functions and return its figure as PNG bytes, closing it."""
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib backend experimental
        result = draw()
    axes = np.ravel(result)[0] if isinstance(result, np.ndarray) else result
    fig = axes.get_figure()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _save_current(path: Path, draw: Callable[[], Any]) -> Path:
    data = _png(draw)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return path


def _tile(path: Path, panels: Sequence[tuple[str, Callable[[], Any]]], title: str) -> Path:
    """Draw several Optuna figures and tile them into one PNG (Optuna draws each into a figure of its own)."""
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images = [(label, mpimg.imread(io.BytesIO(_png(draw)), format="png")) for label, draw in panels]
    cols = min(_COLUMNS, len(images))
    rows = -(-len(images) // cols)
    fig = Figure(figsize=(5.0 * cols, 3.8 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.ravel(fig.subplots(rows, cols, squeeze=False))
    for ax, (label, image) in zip(axes, images):
        ax.imshow(image)
        ax.set_title(label, fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(title)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    return path


def optuna_section(trials: pd.DataFrame, everything: Any, dataset: str, split: str, out: Path,
                   ranking: Sequence[str], space: SearchSpace = NB201) -> list[Block]:
    """The report's Optuna-visualization blocks for one dataset.

    ``everything`` is :func:`pooled_study` of ``trials``; ``ranking`` orders the edges by importance.
    """
    import optuna.visualization.matplotlib as ovm

    final = _final(trials)
    blocks: list[Block] = [Heading("Optuna's visualizations", 3)]
    if final["valid_acc"].nunique() < 2 or len(ranking) < 3:
        return blocks + [Paragraph("Not drawn: fewer than two distinct completed accuracies at the highest fidelity.")]
    target = f"valid acc % ({split})"
    # Every record becomes a trial once; the per-run and per-optimizer studies share those objects.
    ordered = final.sort_values(["optimizer", "seed", "trial"]).reset_index(drop=True)
    frozen = _frozen_trials(ordered, space)
    runs = {
        optimizer: [_study([frozen[i] for i in run.index], f"{optimizer} seed {seed}") for seed, run in frame.groupby("seed")]
        for optimizer, frame in ordered.groupby("optimizer")
    }
    pooled = {optimizer: _study([frozen[i] for i in frame.index], str(optimizer))
              for optimizer, frame in ordered.groupby("optimizer")}

    history = _tile(out / f"optuna_history_{dataset}.png",
                    [(f"{name} ({len(studies)} seeds)",
                      lambda s=studies: ovm.plot_optimization_history(s, error_bar=len(s) > 1, target_name=target))
                     for name, studies in runs.items()],
                    f"Optuna plot_optimization_history per optimizer, {dataset}")
    edf = _save_current(out / f"optuna_edf_{dataset}.png",
                        lambda: ovm.plot_edf(list(pooled.values()), target_name=target))
    top = list(ranking)
    contour = _save_current(out / f"optuna_contour_{dataset}.png",
                            lambda: ovm.plot_contour(everything, params=top[:2], target_name=target))
    rank = _save_current(out / f"optuna_rank_{dataset}.png",
                         lambda: ovm.plot_rank(everything, params=top[:2], target_name=target))
    return blocks + [
        Paragraph(
            f"Drawn by Optuna's matplotlib backend from the trial records: every run becomes an in-memory Optuna "
            f"study of its {len(final)} completed, highest-fidelity trials (all optimizers, not only Optuna's), "
            f"with the observed {split} accuracy (one training seed per trial) as the objective."
        ),
        Paragraph("Optimization history: each optimizer's seeds as one study list, mean ± std of the "
                  "per-trial value and of the best value so far (plot_optimization_history with error_bar)."),
        Image(history.name, f"Optuna optimization history per optimizer on {dataset}"),
        Paragraph("Empirical distribution function of every optimizer's trial values (plot_edf): the further right "
                  "a curve rises, the more of its trials were good cells."),
        Image(edf.name, f"Optuna EDF of every optimizer's trials on {dataset}"),
        Paragraph(f"Contour of the two most important edges by fANOVA ({', '.join(labels(space)[p] for p in top[:2])}), "
                  "and plot_rank of the same two (colour: the trial's rank among all trials)."),
        Image(contour.name, f"Optuna contour of the two most important edges on {dataset}"),
        Image(rank.name, f"Optuna plot_rank of the three most important edges on {dataset}"),
    ]


def importance_figure(study: Any, fanova: Mapping[str, float], dataset: str, split: str,
                      out: Path) -> tuple[dict[str, float], Image]:
    """PED-ANOVA importance of each edge, and Optuna's importance plots by fANOVA and PED-ANOVA side by side.

    ``fanova`` is the report's fANOVA importance of ``study`` (``stats.edge_importance``: 16
    trees of depth 8; Optuna's default ranks the edges the same at a fraction of the time);
    PED-ANOVA uses Optuna's defaults. Each is computed once: the plots draw these values
    rather than fitting the forest again.
    """
    import optuna
    import optuna.visualization.matplotlib as ovm

    ped = optuna.importance.get_param_importances(study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                                                  normalize=True)
    computed = _computed_evaluator_class()
    evaluators = {"fANOVA": computed(fanova), "PED-ANOVA": computed(ped)}
    path = _tile(out / f"optuna_importance_{dataset}.png",
                 [(label, lambda e=evaluator: ovm.plot_param_importances(study, evaluator=e,
                                                                         target_name=f"valid acc % ({split})"))
                  for label, evaluator in evaluators.items()],
                 f"Edge importance (Optuna plot_param_importances), {dataset}")
    return ped, Image(path.name, f"fANOVA and PED-ANOVA edge importance on {dataset}")

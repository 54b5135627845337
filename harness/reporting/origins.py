"""Trial origins in four classes, so a reader sees at once how much an optimizer used its model.

Every adapter labels its trials in its library's own words ("Initial Design: Sobol",
"random (startup)", "mutation/crossover", "model-based pick (KDE)", ...). The report groups
them into the classes below; the first rule that matches wins, so the order matters
("Random: no data for the model yet" is random, not model; "Acquisition Function Maximizer:
Random Search (sorted)" is the model's acquisition search, not random sampling).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ORIGIN_CLASSES", "origin_class", "origin_shares"]

INITIAL, RANDOM, MODEL, PROMOTION, OTHER = "initial design", "random", "model/evolution", "promotion", "other"
#: The classes in report order ("other" only appears for labels no rule knows, e.g. a grid).
ORIGIN_CLASSES: tuple[str, ...] = (INITIAL, RANDOM, MODEL, PROMOTION, OTHER)

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (PROMOTION, ("promotion",)),
    (RANDOM, ("no model yet", "no data for the model")),
    (INITIAL, ("initial", "startup", "warm start")),
    (MODEL, ("acquisition", "model", "mutation", "crossover", "evolution", "policy", "zero-cost rank")),
    (RANDOM, ("random",)),
)


def origin_class(origin: str) -> str:
    """The class of one origin label (case does not matter)."""
    text = str(origin).lower()
    for cls, needles in _RULES:
        if any(needle in text for needle in needles):
            return cls
    return OTHER


def origin_shares(trials: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer, the share (%) of its trials in each class; columns in ORIGIN_CLASSES order."""
    classes = trials["origin"].map(origin_class)
    counts = pd.crosstab(trials["optimizer"], classes)
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    return shares.reindex(columns=[c for c in ORIGIN_CLASSES if c in shares.columns or c != OTHER], fill_value=0.0)

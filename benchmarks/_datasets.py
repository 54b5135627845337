"""NB201 dataset names, their aliases, and the split behind each metric."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.types import BadInputError

__all__ = ["DATASETS", "SEARCH_DATASET", "resolve_dataset", "default_splits"]

SEARCH_DATASET = "cifar10-valid"
DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
_ALIASES = {
    "cifar10-valid": "cifar10-valid",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "imagenet16-120": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
}


def resolve_dataset(name: str, available: Iterable[str]) -> str:
    """Canonical dataset name, or a clear error (``cifar10`` points to ``cifar10-valid``)."""
    available = tuple(available)
    if name in available:  # a benchmark's own name for its task (a live run's "synthetic", "imagefolder")
        return name
    canonical = _ALIASES.get(str(name).lower())
    if canonical in available:
        return canonical
    if canonical == "cifar10":
        raise BadInputError(
            "dataset 'cifar10' (the train+valid run) is not in this store; search on 'cifar10-valid', "
            "whose test_acc follows NB201's convention and reports the cifar10 test accuracy where known"
        )
    raise BadInputError(f"unknown dataset {name!r}; this store has {', '.join(available)}")


def default_splits(dataset: str, *, has_test: bool, time_meaning: str) -> dict[str, str]:
    """The split of each metric under NATS-Bench's naming, for importers to record."""
    splits = {"train_time_s": time_meaning}
    if dataset == "cifar10-valid":
        splits["valid_acc"] = "x-valid (cifar10-valid: the held-out half of CIFAR-10 train)"
        if has_test:
            splits["test_acc"] = "ori-test of the 'cifar10' run (trained on train+valid), NB201 convention"
    elif dataset == "cifar10":
        if has_test:
            splits["test_acc"] = "ori-test (trained on train+valid)"
    else:
        splits["valid_acc"] = "x-valid (half of the original test set)"
        if has_test:
            splits["test_acc"] = "x-test (the other half of the original test set)"
    return splits

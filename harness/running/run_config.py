"""The run config: every setting of one run, declared once.

A spec entry (``harness.compare.plan_runs``), ``hpo2nas run`` and real workers all build this
one value; ``run.json`` stores it (``to_dict``) and a resume reads it back (``from_dict``). The
settings an experiment spec sets once for all its runs are named in :data:`SPEC_SETTINGS`, so
a spec passes them through without copying them field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import parse_objectives
from adapters.bounds import check
from adapters.protocols import Benchmark
from adapters.types import BadInputError
from benchmarks.registry import NB201, RUNNABLE_BENCHMARKS, open_named
from harness.running.budget import Budget

__all__ = ["RunConfig", "SPEC_SETTINGS", "DATA_SEEDS"]

#: RunConfig fields an experiment spec sets for all its runs (the spec's top-level keys of the same names).
SPEC_SETTINGS = ("store", "data_seeds", "continue_promotions", "objectives", "storage", "search_fidelity")
#: The data-seed policies: a draw per query from the run's own generator, or the seed-mean table values.
DATA_SEEDS = ("random", "mean")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; two runs with equal configs have identical trials.

    ``label`` names the optimizer in records and reports (a spec may run one optimizer with
    different options under two labels). ``objectives`` names what is searched (see
    ``adapters.OBJECTIVES``); more than the accuracy makes a multi-objective search. ``workers``
    is the number of simulated workers sharing the simulated clock (see :func:`harness.running.runner.run_trials`). ``data_seeds`` is ``"random"`` (a draw per query from the run's own generator) or
    ``"mean"`` (seed-mean table values). ``continue_promotions`` lets a cell trained before
    to a lower fidelity continue (paying only the new epochs, on the same data seed);
    otherwise promotions retrain from scratch, as in the Hyperband/BOHB/DEHB papers. On a
    ``schedule`` axis (12- or 200-epoch schedules) there is nothing to continue: every
    schedule is its own training run, so ``continue_promotions`` is refused there.
    ``search_fidelity`` caps the fidelity axis the optimizer sees (NB201's protocol searches
    on the 12-epoch schedule): trials run at most there, while the incumbent is still reported
    at the store's highest fidelity (the 200-epoch seed mean).
    ``storage`` is the Optuna storage an Optuna sampler's run writes its study to (an RDB URL
    or a journal path); None means ``optuna.journal`` in the run folder.
    ``benchmark`` names what is searched (``benchmarks.registry.RUNNABLE_BENCHMARKS``; NB201's
    store by default) and ``benchmark_options`` what that benchmark needs beyond its name
    (a live benchmark's data folder and training settings); both go into run.json.
    """

    optimizer: str
    dataset: str
    budget: Budget
    seed: int
    store: str = "default"
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    data_seeds: str = "random"
    continue_promotions: bool = False
    checkpoint_every: int = 100
    objectives: tuple[str, ...] = ("valid_acc",)
    search_fidelity: int | None = None
    storage: str | None = None
    workers: int = 1
    benchmark: str = NB201
    benchmark_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives))
        if self.benchmark not in RUNNABLE_BENCHMARKS:
            raise BadInputError(f"unknown benchmark {self.benchmark!r}; choose one of {', '.join(RUNNABLE_BENCHMARKS)}")
        if self.data_seeds not in DATA_SEEDS:
            raise BadInputError(f"data_seeds must be 'random' or 'mean', got {self.data_seeds!r}")
        # The bounds table (adapters.bounds): whole numbers in range, before anything is written.
        for name in ("checkpoint_every", "seed", "workers"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise BadInputError(f"{name} must be a whole number, got {getattr(self, name)!r}")
            check(name, getattr(self, name))
        if self.search_fidelity is not None and self.search_fidelity < 1:
            raise BadInputError(f"search_fidelity must be a positive fidelity, got {self.search_fidelity}")

    def open_benchmark(self, *, root: Path | None = None, workdir: Path | None = None) -> Benchmark:
        """The benchmark this run searches, opened from its recorded name and options: ``hpo2nas run``,
        a resume and real workers all reopen it this one way (``workdir``: where a live run checkpoints)."""
        return open_named(self.benchmark, store=self.store, root=root, options=self.benchmark_options,
                          workdir=workdir)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RunConfig:
        """Inverse of :meth:`to_dict` (what run.json stores)."""
        budget = body["budget"]
        fields = {k: v for k, v in body.items() if k != "budget"}
        return cls(budget=Budget(budget["kind"], budget["amount"], budget["include_overhead"]), **fields)

    def to_dict(self) -> dict[str, Any]:
        # The objectives appear only when there are several: single-objective run ids stay as they were;
        # search_fidelity and storage only when set, for the same reason.
        multi = {"objectives": list(self.objectives)} if len(self.objectives) > 1 else {}
        extra = {} if self.search_fidelity is None else {"search_fidelity": self.search_fidelity}
        body = {
            "optimizer": self.optimizer,
            "label": self.label or self.optimizer,
            "options": dict(sorted(self.options.items())),
            "dataset": self.dataset,
            "budget": self.budget.to_dict(),
            "seed": self.seed,
            "store": self.store,
            "data_seeds": self.data_seeds,
            "continue_promotions": self.continue_promotions,
            "checkpoint_every": self.checkpoint_every,
            **multi,
            **extra,
            # Only when parallel: one worker keeps the run ids (and resumable folders) of before.
            **({"workers": self.workers} if self.workers != 1 else {}),
        }
        if self.storage is not None:
            body["storage"] = self.storage
        if self.benchmark != NB201 or self.benchmark_options:  # NB201 runs keep the run ids of before
            body["benchmark"] = self.benchmark
            body["benchmark_options"] = dict(sorted(self.benchmark_options.items()))
        return body

"""Pricing for a benchmark that trains: the runner's pricing seam, answered by measured training.

Why a second pricing and not a change to the table's: the runner asks the same questions of
both (what a trial costs, where a pruner stops it, what the incumbent is worth) and only the
benchmark knows it trains. A table prices a trial before it runs; a live benchmark can only
measure it, so here nothing trains until the runner decides the trial runs (``completed``, or
``watch`` for a pruner, which reports every real epoch and stops the real training).

The rules:

- a trial's training seed is a fresh draw from the run's seed policy (``data_seeds=mean``: the
  settings' one seed), except when it continues a cell trained before to a lower epoch
  (``continue_promotions``): then it continues that training from its checkpoint;
- the charge is the measured seconds (training and validation) of the epochs the trial added
  to its curve, read from the curve the checkpoint keeps. So a trial answered from a checkpoint
  (a resume after kill -9) is charged what its epochs cost when they ran, once, and an epoch a
  kill interrupted is never charged; a failed trial also pays the wall-clock of the call that failed;
- before a trial starts its cost is unknown: it is planned at the median measured seconds per
  epoch so far times its epochs (zero before any), so a seconds budget may end up to about one
  trial's time over, where a table's never does;
- there is no seed-mean table: the incumbent's value is its measured accuracy, and the regret is unknown.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from adapters.protocols import Benchmark, TrainingBenchmark
from adapters.types import SeedMean, FidelitySpace
from harness.running.pricing import Outcome, Price, Pricing, Report

__all__ = ["LivePricing", "LIVE_COLUMNS", "pricing_for", "trains"]

#: Extra trial columns of a run on a benchmark that trains (trials.parquet), after the table's.
#: ``train_wall_s``: the wall-clock of the trial's training call (start-up included); ``images_per_s``:
#: training images per second in it (0: nothing trained, answered from a checkpoint); ``reason``: why it failed.
LIVE_COLUMNS = ("train_wall_s", "device", "images_per_s", "reason")


def trains(benchmark: object) -> bool:
    """Whether a benchmark measures by training (``trains = True``) rather than looking a table up."""
    return bool(getattr(benchmark, "trains", False))


def pricing_for(benchmark: Benchmark, dataset: str, axis: FidelitySpace, *, continue_promotions: bool) -> Pricing:
    """The pricing the runner uses on ``benchmark``: measured for one that trains, the table's otherwise."""
    cls = LivePricing if trains(benchmark) else Pricing
    return cls(benchmark, dataset, axis, continue_promotions=continue_promotions)


def _epoch_seconds(result: Any, after: int, upto: int) -> float:
    """Measured seconds of the curve's epochs in (after, upto]."""
    return sum(r.train_s + r.valid_s for r in result.curve if after < r.epoch <= upto)


class LivePricing(Pricing):
    """Prices and runs trials of a benchmark that trains (``adapters.protocols.TrainingBenchmark``)."""

    benchmark: TrainingBenchmark

    def __init__(self, benchmark: Benchmark, dataset: str, axis: FidelitySpace, *, continue_promotions: bool = False):
        super().__init__(benchmark, dataset, axis, continue_promotions=continue_promotions)
        self._per_epoch: list[float] = []  # measured seconds per epoch of every epoch trained so far
        self._watched: dict[int, Any] = {}  # id(price) -> the result of its watched training

    def price(self, index: int, target: int, seed_policy: Any, extra_cost_s: float = 0.0,
              intermediate: bool = False) -> Price:
        """The trial's training seed and its planned cost (nothing is trained here)."""
        settings = self.benchmark.settings
        # without saved weights nothing can continue: a promotion trains from scratch on a fresh seed
        previous = self._trained.get(index) if self.continue_promotions and settings.save_weights else None
        start_fid = previous[0] if previous and previous[0] < target else 0
        if start_fid:
            seed = previous[1]  # type: ignore[index]
        elif isinstance(seed_policy, SeedMean):
            seed = settings.seed
        else:
            seed = seed_policy.choose(2**31)
        planned = (statistics.median(self._per_epoch) if self._per_epoch else 0.0) * (target - start_fid)
        return Price(index, target, None, seed, start_fid, 0.0, (), planned + extra_cost_s,  # type: ignore[arg-type]
                     (target - start_fid) / self.max_fid, extra_cost_s)

    def _train(self, price: Price, until: int, report: Report | None = None) -> tuple[Any, float]:
        """Train (or continue) the trial's cell to ``until``; the result and the wall time of the reports."""
        wall = 0.0

        def on_epoch(record: Any) -> bool:
            nonlocal wall
            t0 = time.perf_counter()
            stop = report(record.epoch, record.valid_acc)  # type: ignore[misc]
            wall += time.perf_counter() - t0
            return stop

        self._drop_results_only(price.index, price.data_seed, until)
        result = self.benchmark.query(price.index, self.dataset, until, price.data_seed,
                                      on_epoch=on_epoch if report is not None else None)
        self._per_epoch.extend(r.train_s + r.valid_s for r in result.curve if r.epoch > result.resumed_from)
        return result, wall

    def _drop_results_only(self, index: int, seed: int, until: int) -> None:
        """Without saved weights (``save_weights`` off) a checkpoint short of ``until`` (a training a kill
        interrupted, or one to a lower epoch) cannot continue: it is removed and the cell trains from scratch,
        so its epochs are charged once, as they are trained again."""
        if self.benchmark.settings.save_weights:
            return
        path = self.benchmark.checkpoint(index, seed)
        if path.is_file():
            import torch  # here, not at the top: every hpo2nas command imports this module

            if len(torch.load(path, map_location="cpu", weights_only=False)["records"]) < until:
                path.unlink()

    def _outcome(self, price: Price, result: Any) -> Outcome:
        stop = result.fidelity
        cost = _epoch_seconds(result, price.start_fid, stop)
        if result.status == "failed":  # the epoch that failed is in no curve: pay the call's wall-clock
            cost = _epoch_seconds(result, price.start_fid, result.resumed_from) + result.cost_s
        return Outcome(result.status, stop, result, result.valid_acc, None, price.data_seed,
                       cost + price.extra_cost_s, max(stop - price.start_fid, 0) / self.max_fid)

    def completed(self, price: Price) -> Outcome:
        """Train the trial to its target, unwatched."""
        return self._outcome(price, self._train(price, price.target)[0])

    def watch(self, price: Price, report: Report) -> tuple[int, float]:
        """Train with a pruner told every real epoch; the epoch it stopped at, and the reports' wall time."""
        result, wall = self._train(price, price.target, report)
        self._watched[id(price)] = result
        return (price.target if result.status == "ok" else result.fidelity), wall

    def stopped_at_epoch(self, price: Price, fidelity: int) -> Outcome:
        """The watched training's outcome; for a trial restored from the record, its epochs from the checkpoint."""
        result = self._watched.pop(id(price), None)
        if result is None:
            result = self._train(price, fidelity)[0]
            if result.status == "ok" and fidelity < price.target:
                result.status = "pruned"
        return self._outcome(price, result)

    def final_values(self, index: int, observed: float) -> tuple[float | None, float | None]:
        """No seed-mean table: the incumbent is worth what its training measured (no test accuracy)."""
        return observed, None

    def optimum(self) -> float | None:
        """Unknown: no table holds every cell's accuracy on the user's data."""
        return None

    def columns(self, outcome: Outcome) -> dict[str, Any]:
        result = outcome.result
        return {"train_wall_s": float(result.cost_s), "device": str(result.device),
                "images_per_s": float(result.images_per_s), "reason": str(result.reason)}

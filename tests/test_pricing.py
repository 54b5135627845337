"""The runner's pricing part on its own: costs, schedules, continued promotions and pruning watches.

No optimizer takes part: a pruner is a plain ``report(fidelity, valid_acc) -> prune?`` callable.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from adapters.types import SEED_MEAN, FidelitySpace, RandomSeed
from benchmarks import open_benchmark
from harness.running.pricing import Pricing, watch_epochs, watch_schedules

DATASET = "cifar10-valid"


@pytest.fixture(scope="module")
def curves(curves_root):
    return open_benchmark("curves", root=curves_root)


def _never(fidelity: int, valid_acc: float) -> bool:
    return False


def test_a_plain_trial_costs_its_table_train_time(default_bench):
    """Off a pruned search, a trial costs the table's train time to its target on the seed it drew."""
    pricing = Pricing(default_bench, DATASET, default_bench.fidelity_space(DATASET))
    price = pricing.price(7, pricing.max_fid, RandomSeed(3), extra_cost_s=2.5)
    again = default_bench.query(7, DATASET, pricing.max_fid, RandomSeed(3))
    assert price.data_seed == again.seed and price.runs == ()
    assert price.cost_s == pytest.approx(again.train_time_s + 2.5)
    assert price.fraction == 1.0
    outcome = pricing.completed(price)
    assert (outcome.status, outcome.fidelity, outcome.valid_acc) == ("ok", pricing.max_fid, again.valid_acc)


def test_schedule_axis_charges_every_schedule_run_and_stops_where_pruned(default_bench):
    """A pruned search on the 12/200-epoch schedules trains each from scratch and pays for every run;
    pruned after the 12-epoch run, it pays that run only and observes it."""
    axis = default_bench.fidelity_space(DATASET)
    assert axis.kind == "schedule" and len(axis.values) == 2
    pricing = Pricing(default_bench, DATASET, axis)
    price = pricing.price(11, axis.max, SEED_MEAN, intermediate=True)
    short, full = (default_bench.query(11, DATASET, f, SEED_MEAN) for f in axis.values)
    assert [r.fidelity for r in price.runs] == list(axis.values)
    assert price.cost_s == pytest.approx(pricing.run_cost(short) + pricing.run_cost(full))
    assert price.fraction == pytest.approx((axis.values[0] + axis.values[1]) / axis.max)
    position, _ = watch_schedules(lambda fidelity, acc: fidelity == axis.values[0], price.runs)
    pruned = pricing.stopped_after_schedule(price, position)
    assert (pruned.status, pruned.fidelity, pruned.valid_acc) == ("pruned", axis.values[0], short.valid_acc)
    assert pruned.cost_s == pytest.approx(pricing.run_cost(short))
    # a prune at the last schedule changes nothing: the trial has finished
    last, _ = watch_schedules(lambda fidelity, acc: True if fidelity == axis.max else False, price.runs)
    assert pricing.stopped_after_schedule(price, last).status == "ok"


def test_epoch_pruning_pays_up_to_the_epoch_it_stopped(curves):
    """On an epoch axis the watch reports each epoch in turn; a prune at epoch e pays the time to e."""
    axis = curves.fidelity_space(DATASET)
    pricing = Pricing(curves, DATASET, axis)
    price = pricing.price(5, 50, SEED_MEAN, intermediate=True)
    seen: list[int] = []

    def prune_at_ten(fidelity: int, acc: float) -> bool:
        seen.append(fidelity)
        return fidelity == 10

    stop, _ = watch_epochs(prune_at_ten, pricing.epochs(price), price.target)
    assert stop == 10 and seen == list(range(1, 11))  # no epoch reported after the prune
    outcome = pricing.stopped_at_epoch(price, stop)
    at10 = curves.query(5, DATASET, 10, SEED_MEAN)
    assert (outcome.status, outcome.valid_acc) == ("pruned", at10.valid_acc)
    assert outcome.cost_s == pytest.approx(at10.train_time_s) and outcome.fraction == pytest.approx(10 / axis.max)
    through, _ = watch_epochs(_never, pricing.epochs(price), price.target)
    assert pricing.stopped_at_epoch(price, through).status == "ok"


def test_continued_promotion_pays_only_the_new_epochs_on_the_same_seed(curves):
    """With continue_promotions a cell trained to 20 epochs and promoted to 60 pays 20 -> 60 on its seed."""
    axis = curves.fidelity_space(DATASET)
    pricing = Pricing(curves, DATASET, axis, continue_promotions=True)
    low = pricing.price(9, 20, SEED_MEAN)
    pricing.trained(low, pricing.completed(low))
    high = pricing.price(9, 60, RandomSeed(0))
    assert high.start_fid == 20 and high.data_seed == low.data_seed
    assert high.cost_s == pytest.approx(pricing.cost_to(9, 60, SEED_MEAN) - pricing.cost_to(9, 20, SEED_MEAN))
    assert high.fraction == pytest.approx(40 / axis.max)
    fresh = Pricing(curves, DATASET, axis).price(9, 60, SEED_MEAN)
    assert fresh.start_fid == 0 and fresh.cost_s > high.cost_s


class _TopTimeOnly:
    """A two-fidelity table that records train time only at its top fidelity (as some sources do)."""

    name = "top-time-only"

    def fidelity_space(self, dataset: str) -> FidelitySpace:
        return FidelitySpace("epoch", (50, 200))

    def query(self, index: int, dataset: str, fidelity: int | None, seed: object) -> SimpleNamespace:
        fidelity = 200 if fidelity is None else fidelity
        return SimpleNamespace(index=index, fidelity=fidelity, seed="mean", valid_acc=fidelity / 400, test_acc=None,
                               train_time_s=400.0 if fidelity == 200 else None)


def test_missing_train_time_is_scaled_from_the_highest_fidelity():
    """Where the table has no train time at a fidelity, the cost is the top fidelity's scaled linearly."""
    table = _TopTimeOnly()
    pricing = Pricing(table, DATASET, table.fidelity_space(DATASET))
    assert pricing.cost_to(3, 50, SEED_MEAN) == pytest.approx(100.0)
    assert pricing.price(3, 50, SEED_MEAN).cost_s == pytest.approx(100.0)
    assert pricing.price(3, 200, SEED_MEAN).cost_s == pytest.approx(400.0)

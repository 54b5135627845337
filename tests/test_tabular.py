"""Queries over the embedded default store: known values, seed policies, splits, errors."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import NUM_CELLS, Cell
from adapters.types import SEED_MEAN, BadInputError, RandomSeed


@pytest.mark.parametrize(
    ("dataset", "best", "index"),
    [("cifar10-valid", 91.607, 6111), ("cifar100", 73.493, 9930), ("ImageNet16-120", 46.733, 10676)],
)
def test_known_best_seed_mean_validation(default_bench, dataset, best, index):
    """The facts file's optima: best seed-mean x-valid accuracy and its cell."""
    result = default_bench.best(dataset)
    assert result.index == index
    assert round(result.valid_acc, 3) == best
    assert result.split["valid_acc"].startswith("x-valid")


@pytest.mark.parametrize(("dataset", "expected"), [("cifar10-valid", 10.0), ("cifar100", 1.0), ("imagenet16", 0.83)])
def test_all_none_cell_is_chance(default_bench, dataset, expected):
    """The all-none cell sits at chance level on every dataset."""
    result = default_bench.query("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", dataset, seed=SEED_MEAN)
    assert result.valid_acc == pytest.approx(expected, abs=0.5)


@pytest.mark.parametrize(
    ("dataset", "best", "index", "split"),
    [("cifar10-valid", 94.373, 6111, "ori-test of the 'cifar10' run"), ("cifar100", 73.513, 9930, "x-test"),
     ("ImageNet16-120", 47.311, 857, "x-test")],
)
def test_known_best_seed_mean_test(default_bench, dataset, best, index, split):
    """The facts file's 200-epoch test optima; cifar10-valid reports the cifar10 run's ori-test (NB201)."""
    result = default_bench.best(dataset, "test_acc", fidelity=200)
    assert (result.index, round(result.test_acc, 3), result.seed) == (index, best, "mean")
    assert result.split["test_acc"].startswith(split) and default_bench.has_test(dataset)


def test_test_accuracy_is_never_the_validation_value(default_bench):
    """Test accuracy comes from its own split: it differs from x-valid for nearly every cell."""
    every = np.arange(NUM_CELLS)
    for dataset in ("cifar10-valid", "cifar100", "ImageNet16-120"):
        valid, test = default_bench.lookup(every, dataset), default_bench.lookup(every, dataset, "test_acc")
        assert not np.isnan(test).any() and (valid != test).mean() > 0.95


def test_single_seed_records_have_no_test_accuracy(default_bench):
    """The source gives 200-epoch test accuracy as a seed mean only: a one-seed record leaves it out."""
    assert default_bench.query(6111, "cifar10-valid", 200, seed=0).test_acc is None
    assert default_bench.query(6111, "cifar10-valid", 200, seed=RandomSeed(3)).test_acc is None


def test_schedule_axis(default_bench):
    """The default's fidelity is the schedule length (12 or 200 epochs), never epochs."""
    for dataset in default_bench.datasets:
        space = default_bench.fidelity_space(dataset)
        assert (space.kind, space.values) == ("schedule", (12, 200)) and "12-epoch" in space.meaning


@pytest.mark.parametrize(("dataset", "best", "index"),
                         [("cifar10-valid", 84.892, 13714), ("cifar100", 61.32, 10165), ("ImageNet16-120", 38.667, 2581)])
def test_twelve_epoch_schedule_is_a_lower_fidelity(default_bench, dataset, best, index):
    """12-epoch x-valid: its own optimum, below the 200-epoch value for nearly every cell."""
    result = default_bench.best(dataset, fidelity=12)
    assert (result.index, round(result.valid_acc, 3), result.fidelity) == (index, best, 12)
    every = np.arange(NUM_CELLS)
    short, full = default_bench.lookup(every, dataset, fidelity=12), default_bench.lookup(every, dataset, fidelity=200)
    assert (short < full).mean() > 0.9
    assert (default_bench.lookup(every, dataset, "test_acc", 12) < default_bench.lookup(every, dataset, "test_acc")).mean() > 0.9


def test_twelve_epoch_queries_say_seed_mean(default_bench):
    """At 12 epochs every query is the seed mean, labelled so; a given seed is refused, never faked."""
    mean = default_bench.query(6111, "cifar10-valid", 12, seed=SEED_MEAN)
    drawn = default_bench.query(6111, "cifar10-valid", 12, seed=RandomSeed(0))
    assert drawn.seed == mean.seed == "mean" and drawn.valid_acc == mean.valid_acc
    assert mean.test_acc is not None and mean.test_acc != mean.valid_acc
    for call in (lambda: default_bench.query(6111, "cifar10-valid", 12, seed=1),
                 lambda: default_bench.valid_table("cifar10-valid", 12, seed=1),
                 lambda: default_bench.lookup(np.arange(3), "cifar10-valid", fidelity=12, seed=1)):
        with pytest.raises(BadInputError, match="seed means only at schedule 12"):
            call()


def test_twelve_epoch_time_is_the_stated_fraction(default_bench):
    """12-epoch train time = 12/200 of the seed-mean 200-epoch time, and the manifest says so."""
    every = np.arange(NUM_CELLS)
    for dataset in default_bench.datasets:
        short = default_bench.lookup(every, dataset, "train_time_s", 12)
        full = default_bench.lookup(every, dataset, "train_time_s", 200)
        np.testing.assert_allclose(short, full * 12 / 200, rtol=1e-6)
        assert "12/200" in default_bench.splits(dataset)["train_time_s"]
    assert any("12/200" in note for note in default_bench.manifest.source["notes"])


def test_train_time_ranges(default_bench):
    """Total 200-epoch train times match the facts file's min/median/max per dataset."""
    expected = {"cifar10-valid": (542, 1817, 3461), "cifar100": (1084, 3634, 6922), "ImageNet16-120": (3290, 11026, 21000)}
    for dataset, (lo, med, hi) in expected.items():
        times = default_bench.lookup(np.arange(NUM_CELLS), dataset, "train_time_s")
        assert (round(np.nanmin(times)), round(np.nanmedian(times)), round(np.nanmax(times))) == pytest.approx(
            (lo, med, hi), abs=1
        )


def test_seed_policies(default_bench):
    """A given seed, the seed mean and seeded random draws agree with each other."""
    index = 6111
    per_seed = [default_bench.query(index, "cifar10-valid", seed=s).valid_acc for s in (0, 1, 2)]
    mean = default_bench.query(index, "cifar10-valid", seed=SEED_MEAN).valid_acc
    assert mean == pytest.approx(np.mean(per_seed))
    policy_a, policy_b = RandomSeed(7), RandomSeed(7)
    draws_a = [default_bench.query(index, "cifar10-valid", seed=policy_a).valid_acc for _ in range(30)]
    draws_b = [default_bench.query(index, "cifar10-valid", seed=policy_b).valid_acc for _ in range(30)]
    assert draws_a == draws_b
    assert set(draws_a) == set(per_seed)


def test_two_seed_cells_never_draw_missing_seed(default_bench):
    """Cells with only 2 runs draw among those 2 and refuse the missing one when asked."""
    table = default_bench.table("cifar10-valid")
    two = next(i for i, seeds in enumerate(table.available_seeds) if len(seeds) == 2)
    policy = RandomSeed(1)
    values = {default_bench.query(two, "cifar10-valid", seed=policy).valid_acc for _ in range(40)}
    assert len(values) <= 2 and None not in values
    missing = ({0, 1, 2} - set(table.available_seeds[two])).pop()
    with pytest.raises(BadInputError, match="has no seed"):
        default_bench.query(two, "cifar10-valid", seed=missing)


def test_fast_path_and_batch_agree_with_query(default_bench):
    """valid_table and lookup return exactly what query returns."""
    values = default_bench.valid_table("cifar10-valid")
    idx = np.array([0, 17, 6111, 15624])
    batch = default_bench.lookup(idx, "cifar10-valid")
    for i, b in zip(idx, batch):
        q = default_bench.query(int(i), "cifar10-valid", seed=SEED_MEAN).valid_acc
        assert values[i] == q == pytest.approx(b)
    per_seed = default_bench.valid_table("cifar10-valid", seed=1)
    assert per_seed[6111] == default_bench.query(6111, "cifar10-valid", seed=1).valid_acc


def test_any_representation_gives_same_result(default_bench):
    """Index, arch string, digits and Cell all resolve to the same record."""
    cell = Cell.from_index(321)
    forms = [321, "321", cell.arch_str, "".join(map(str, cell.ops)), cell]
    results = {default_bench.query(f, "cifar100", seed=SEED_MEAN).valid_acc for f in forms}
    assert len(results) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "cifar10"}, "search on 'cifar10-valid'"),
        ({"dataset": "mnist"}, "unknown dataset"),
        ({"dataset": "cifar10-valid", "fidelity": 100}, "fidelity 100 not in"),
    ],
)
def test_query_errors(default_bench, kwargs, message):
    """Unknown datasets, cifar10 without its run, and off-axis fidelities are named clearly."""
    with pytest.raises(BadInputError, match=message):
        default_bench.query(0, **kwargs)


def test_dataset_aliases(default_bench):
    """imagenet16 is an alias of ImageNet16-120."""
    assert default_bench.query(5, "imagenet16", seed=0).dataset == "ImageNet16-120"


def test_query_result_json_fields(default_bench):
    """to_dict has the CLI's JSON fields with the split of every number."""
    record = default_bench.query(6111, "cifar10-valid", seed=SEED_MEAN).to_dict()
    for key in ("index", "arch_str", "dataset", "split", "fidelity", "valid_acc", "test_acc", "train_time_s"):
        assert key in record
    assert record["valid_acc"] == 91.60667 and record["test_acc"] == 94.37334


def _rss_file_kb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status on this system")


def test_reading_one_fidelity_of_a_mapped_store_releases_its_pages(tmp_path):
    """One fidelity of a memory-mapped [cell, seed, epoch, metric] array: the right values, few pages kept."""
    from benchmarks._tabular import _fidelity_copy

    path = tmp_path / "objectives.npy"
    array = np.random.default_rng(0).random((NUM_CELLS, 3, 100, 3), dtype=np.float32)  # 56 MB
    np.save(path, array)
    mapped = np.load(path, mmap_mode="r")
    before = _rss_file_kb()
    copy = _fidelity_copy(mapped, 99)
    grown_kb = _rss_file_kb() - before
    assert np.array_equal(copy, array[:, :, 99, :])
    assert grown_kb < array.nbytes / 1024 / 4, f"{grown_kb} kB of the file stayed resident"


def test_queries_on_a_memory_mapped_store_read_the_right_records(tmp_path):
    """A store over 64 MB is read record by record (pread): each query returns its own cell, seed and epoch."""
    from adapters.types import FidelitySpace
    from benchmarks import DatasetArrays, open_benchmark, write_store
    from benchmarks._datasets import default_splits

    rng = np.random.default_rng(0)
    objectives = rng.uniform(10, 100, (NUM_CELLS, 3, 200, 3)).astype(np.float32)  # 112 MB: memory-mapped
    objectives[5, 1, 7, 0] = np.nan
    arrays = DatasetArrays("cifar10-valid", objectives, np.ones((NUM_CELLS, 3), dtype=np.float32), (777, 888, 999),
                           FidelitySpace("epoch", tuple(range(1, 201)), "epoch e of the 200-epoch schedule"),
                           default_splits("cifar10-valid", has_test=True, time_meaning="cumulative train time"))
    write_store("big", {"name": "random", "license": "-"}, [arrays], root=tmp_path)
    bench = open_benchmark("big", root=tmp_path)
    assert bench.table("cifar10-valid")._reader is not None
    for index, slot, f in [(0, 0, 0), (NUM_CELLS - 1, 2, 199), (5, 1, 7), (1234, 1, 100)]:
        result = bench.query(index, "cifar10-valid", f + 1, (777, 888, 999)[slot])
        expected = [None if np.isnan(v) else float(v) for v in objectives[index, slot, f]]
        assert [result.valid_acc, result.test_acc, result.train_time_s] == expected

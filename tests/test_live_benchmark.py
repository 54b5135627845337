"""LiveBenchmark behind the Benchmark protocol, an Optuna pruner stopping real training, and agree()."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import optuna
import pytest

from adapters.errors import BadInputError
from adapters.protocols import Benchmark
from adapters.types import SEED_MEAN
from benchmarks.live import LiveBenchmark, TrainSettings, agree, stratified_cells, synthetic_data

TINY = TrainSettings(epochs=3, batch_size=32, device="cpu", threads=1)


@pytest.fixture(scope="module")
def tiny():
    return synthetic_data(train=96, valid=48, classes=4, resolution=8, noise=0.4)


def test_live_answers_the_benchmark_protocol_by_training(tiny, tmp_path: Path) -> None:
    """query trains to the asked epoch, a later higher epoch continues (paying only the new epochs), best reads back."""
    bench = LiveBenchmark(tiny, TINY, workdir=tmp_path)
    assert isinstance(bench, Benchmark)
    space = bench.fidelity_space("synthetic")
    assert (space.kind, space.values) == ("epoch", (1, 2, 3))
    one = bench.query("111111", "synthetic", 1)
    three = bench.query("111111", "synthetic", 3)
    assert (one.fidelity, three.fidelity, three.status) == (1, 3, "ok")
    assert three.curve[0] == one.curve[0]  # continued, not retrained
    assert three.train_time_s == pytest.approx(sum(r.train_s + r.valid_s for r in three.curve))
    assert three.cost_s < three.train_time_s + one.cost_s  # epoch 1 is not charged again
    again = bench.query("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
                        "synthetic", 2)
    assert again.valid_acc == three.curve[1].valid_acc and again.images_per_s == 0
    bench.query("000000", "synthetic", 3)
    assert bench.best("synthetic").index == one.index and bench.best("synthetic").valid_acc == three.valid_acc
    record = json.loads(json.dumps(three.to_dict()))
    assert record["status"] == "ok" and record["device"].startswith("cpu") and len(record["curve"]) == 3
    with pytest.raises(BadInputError, match="not 'cifar10-valid'"):
        bench.query("111111", "cifar10-valid", 1)
    with pytest.raises(BadInputError, match="no seed mean"):
        bench.query("111111", "synthetic", 1, SEED_MEAN)


def test_another_setting_keeps_its_own_checkpoints(tiny, tmp_path: Path) -> None:
    """A different recipe never continues from another recipe's weights: its checksum names another folder."""
    a = LiveBenchmark(tiny, TINY, workdir=tmp_path)
    b = LiveBenchmark(tiny, TrainSettings(epochs=3, batch_size=32, device="cpu", threads=1, lr=0.05), workdir=tmp_path)
    assert a.checksum != b.checksum and a.checkpoint(1, 0) != b.checkpoint(1, 0)


def test_an_optuna_median_pruner_stops_real_training(tiny, tmp_path: Path) -> None:
    """trial.report per epoch through the callback lets Optuna's MedianPruner stop a bad cell's training."""
    bench = LiveBenchmark(tiny, TINY, workdir=tmp_path)
    cells = iter(["111111", "000000"])  # learns at once; cannot learn (chance)

    def objective(trial: optuna.Trial) -> float:
        cell = next(cells)
        trial.set_user_attr("cell", cell)

        def report(record) -> bool:
            trial.report(record.valid_acc, record.epoch)
            return trial.should_prune()

        result = bench.query(cell, "synthetic", 3, on_epoch=report)
        if result.status == "pruned":
            raise optuna.TrialPruned()
        return result.valid_acc

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    assert list(study.trials[0].intermediate_values) == [1, 2, 3]
    assert list(study.trials[1].intermediate_values) == [1]  # stopped after its first epoch
    assert [len(curve) for _, _, curve in bench.trained()] == [1, 3]  # the pruned cell really trained one epoch


def test_stratified_cells_span_the_accuracy_range() -> None:
    """One cell per quantile stratum, in rising table accuracy, seeded."""
    acc = np.linspace(10, 90, 1000)
    acc[5] = np.nan
    cells = stratified_cells(acc, 4, seed=0)
    assert [int(c // 250) for c in cells] == [0, 1, 2, 3] and 5 not in cells
    assert np.array_equal(cells, stratified_cells(acc, 4, seed=0))
    with pytest.raises(BadInputError):
        stratified_cells(acc, 0, seed=0)


def test_agree_runs_on_synthetic_data_and_states_the_reduction(tiny, default_bench, tmp_path: Path) -> None:
    """agree trains cells across the table's range and reports Spearman and the mean difference, marked reduced."""
    result = agree(3, 2, tiny, table=default_bench, table_dataset="cifar10-valid", workdir=tmp_path,
                   settings=TrainSettings(batch_size=32, device="cpu", threads=1))
    assert len(result.cells) == 3 and list(result.table_acc) == sorted(result.table_acc)
    assert result.reduced and result.setting.startswith("REDUCED setting") and result.epochs == 2
    assert all(s == "ok" for s in result.statuses) and all(0 <= a <= 100 for a in result.live_acc)
    expected = np.mean(np.asarray(result.live_acc) - np.asarray(result.table_acc))
    assert result.mean_difference == pytest.approx(expected)
    assert math.isnan(result.spearman) or -1 <= result.spearman <= 1
    assert result.table.endswith("cifar10-valid x-valid seed mean at schedule 200")  # no 2-epoch schedule: the highest
    with pytest.raises(BadInputError, match="name the table dataset"):
        agree(3, 2, tiny, table=default_bench, workdir=tmp_path)

"""Live training: NB201's network and recipe, seeds, checkpoints, the epoch callback, failures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from adapters import NUM_CELLS, Cell, parse_cell
from adapters.errors import BadInputError
from benchmarks.live import EpochRecord, TrainSettings, build_live_network, synthetic_data, train
from benchmarks.live._trainer import _learning_rate
from benchmarks.zerocost import model_size_exceptions

GOOD, BAD = parse_cell("111111"), parse_cell("000000")  # all skip_connect learns in one epoch; all none cannot
TINY = TrainSettings(epochs=3, batch_size=32, device="cpu", threads=1)


@pytest.fixture(scope="module")
def tiny():
    return synthetic_data(train=96, valid=48, classes=4, resolution=8, noise=0.4)


@pytest.mark.parametrize("dataset, classes", [("cifar10-valid", 10), ("cifar100", 100), ("ImageNet16-120", 120)])
def test_network_parameters_match_nb201s(default_bench, dataset: str, classes: int) -> None:
    """The trained network has NB201's parameter count (the store's params_m) on cells across the space."""
    exceptions = model_size_exceptions()
    cells = [i for i in np.random.default_rng(0).choice(NUM_CELLS, 12, replace=False) if i not in exceptions]
    table = default_bench.lookup(np.asarray(cells), dataset, "params_m")
    built = [sum(p.numel() for p in build_live_network(Cell.from_index(int(i)), classes, 0).parameters()) for i in cells]
    assert np.allclose(np.asarray(built) / 1e6, table, atol=5e-7)


def test_the_schedule_is_nb201s_cosine_over_its_own_length() -> None:
    """lr starts at 0.1, halves mid-schedule and ends at 0: a 12-epoch run is its own cosine, not a truncation."""
    twelve = TrainSettings(epochs=12)
    assert _learning_rate(twelve, 0) == pytest.approx(0.1)
    assert _learning_rate(twelve, 6) == pytest.approx(0.05)
    assert _learning_rate(twelve, 12) == pytest.approx(0.0, abs=1e-12)
    assert _learning_rate(TrainSettings(epochs=200), 12) > 0.09


def test_settings_round_trip_through_json_and_refuse_bad_values() -> None:
    """Every choice is in one frozen value that serialises to JSON and back; bad values are bad input."""
    custom = TrainSettings(epochs=12, lr=0.05, nesterov=False, train_images=1000, amp=True)
    assert TrainSettings.from_dict(json.loads(custom.to_json())) == custom
    assert TrainSettings().to_dict() | {"epochs": 12} == TrainSettings(epochs=12).to_dict()
    assert not TrainSettings(epochs=12).reduced and custom.reduced
    with pytest.raises(dataclasses.FrozenInstanceError):
        custom.lr = 1.0  # type: ignore[misc]
    for bad in ({"epochs": 0}, {"lr": float("nan")}, {"device": "tpu"}, {"batchsize": 3}, {"train_images": -1}):
        with pytest.raises(BadInputError):
            TrainSettings.from_dict(bad)


def test_seeds_make_a_cpu_run_repeatable(tiny) -> None:
    """The same seed gives the same curve bit for bit; another seed gives another curve."""
    first = train(GOOD, tiny, TINY, until=2, seed=5)
    again = train(GOOD, tiny, TINY, until=2, seed=5)
    other = train(GOOD, tiny, TINY, until=2, seed=6)
    assert [(r.train_loss, r.valid_acc) for r in first.curve] == [(r.train_loss, r.valid_acc) for r in again.curve]
    assert [r.train_loss for r in first.curve] != [r.train_loss for r in other.curve]
    assert first.status == "ok" and first.device.startswith("cpu") and first.images_per_s > 0
    assert json.loads(json.dumps(first.to_dict()))["curve"][1]["epoch"] == 2  # a trial record for run.json


def test_continuing_from_a_checkpoint_equals_training_straight_through(tiny, tmp_path: Path) -> None:
    """Epochs 1 then 2-3 from the checkpoint give the same curve as 1-3 in one go, and learn."""
    ckpt = tmp_path / "c.pt"
    part = train(GOOD, tiny, TINY, until=1, checkpoint=ckpt)
    rest = train(GOOD, tiny, TINY, until=3, checkpoint=ckpt)
    straight = train(GOOD, tiny, TINY, until=3)
    assert (part.epoch, rest.resumed_from, rest.epoch) == (1, 1, 3)
    assert [r.valid_acc for r in rest.curve] == [r.valid_acc for r in straight.curve]
    assert [r.train_loss for r in rest.curve] == [r.train_loss for r in straight.curve]
    assert rest.curve[0] == part.curve[0]  # epoch 1 was not retrained: its record (and seconds) come from the file
    assert max(r.valid_acc for r in straight.curve) > 60  # 4 classes: chance is 25%
    earlier = train(GOOD, tiny, TINY, until=2, checkpoint=ckpt)  # already passed: answered from the curve
    assert earlier.resumed_from == 2 and earlier.curve == rest.curve[:2] and earlier.images_per_s == 0
    with pytest.raises(BadInputError, match="belongs to another"):
        train(BAD, tiny, TINY, until=3, checkpoint=ckpt)


def test_results_only_checkpoints_keep_the_curve_but_cannot_continue(tiny, tmp_path: Path) -> None:
    """With save_weights off the file keeps the results; continuing past them is refused, not retrained silently."""
    settings = dataclasses.replace(TINY, save_weights=False)
    ckpt = tmp_path / "r.pt"
    train(BAD, tiny, settings, until=1, checkpoint=ckpt)
    assert train(BAD, tiny, settings, until=1, checkpoint=ckpt).curve[0].epoch == 1
    with pytest.raises(BadInputError, match="results only"):
        train(BAD, tiny, settings, until=2, checkpoint=ckpt)


def test_the_epoch_callback_sees_every_epoch_and_can_stop(tiny) -> None:
    """The callback gets each epoch's validation accuracy; True stops the training as pruned."""
    seen: list[float] = []
    result = train(GOOD, tiny, TINY, on_epoch=lambda r: seen.append(r.valid_acc) or r.epoch == 2)
    assert result.status == "pruned" and result.epoch == 2 and seen == [r.valid_acc for r in result.curve]
    assert "after epoch 2" in result.reason


def test_a_nan_loss_fails_the_trial_with_its_reason(tiny) -> None:
    """A loss that turns NaN ends the training as failed, with the epoch named, instead of raising."""
    broken = dataclasses.replace(tiny, std=(0.0, 0.0, 0.0))  # x / 0: inf inputs, NaN loss
    result = train(GOOD, broken, TINY)
    assert result.status == "failed" and "nan in epoch 1" in result.reason and result.valid_acc is None


def test_out_of_memory_fails_the_trial_with_its_reason(tiny) -> None:
    """A MemoryError during training (here raised from the epoch callback) ends it as failed, not as a crash."""
    def exhausted(record):
        raise MemoryError("cannot allocate 12 GiB")

    result = train(GOOD, tiny, TINY, on_epoch=exhausted)
    assert result.status == "failed" and result.reason == "out of memory: cannot allocate 12 GiB"
    assert result.epoch == 1  # the finished epoch is kept


_CHILD = """
import sys
import benchmarks.zerocost
from pathlib import Path
from adapters import parse_cell
from benchmarks.live import TrainSettings, synthetic_data, train
data = synthetic_data(train=96, valid=48, classes=4, resolution=8, noise=0.4)
settings = TrainSettings(epochs=3, batch_size=32, device="cpu", threads=1)
train(parse_cell("111111"), data, settings, checkpoint=Path(sys.argv[1]))
"""


def test_a_kill_9_mid_training_resumes_without_retraining_or_double_counting(tiny, tmp_path: Path) -> None:
    """SIGKILL after epoch 1's checkpoint: resuming keeps epoch 1 (record and seconds) and matches an unbroken run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import torch

    ckpt = tmp_path / "k.pt"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(ckpt)], cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 120
    while not ckpt.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL and ckpt.exists()
    saved = [EpochRecord(**r) for r in torch.load(ckpt, weights_only=False)["records"]]
    resumed = train(GOOD, tiny, TINY, checkpoint=ckpt)
    straight = train(GOOD, tiny, TINY)
    assert resumed.resumed_from == len(saved) >= 1 and resumed.epoch == 3
    assert [r.valid_acc for r in resumed.curve] == [r.valid_acc for r in straight.curve]
    # the finished epochs keep their measured seconds from the file (not retrained, not re-timed); the killed
    # partial epoch left no record, so the curve's cost counts it nowhere
    assert list(resumed.curve[: len(saved)]) == saved

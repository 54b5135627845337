"""Each worker of a live search is pinned to its own GPU via CUDA_VISIBLE_DEVICES (no GPU needed to test the assignment)."""

from __future__ import annotations

import pytest

from harness.running.devices import pin_worker, pinned_device, visible_gpus


def test_workers_are_pinned_round_robin_over_the_visible_gpus():
    """Worker i gets the (i mod n)-th visible GPU, the ids CUDA_VISIBLE_DEVICES lists where it is set."""
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2, 5,7"}) == ("2", "5", "7")
    assert visible_gpus({}, count=2) == ("0", "1")
    assert [pinned_device(w, ("2", "5", "7")) for w in range(5)] == ["2", "5", "7", "2", "5"]
    with pytest.raises(ValueError):
        pinned_device(-1, ("0",))


def test_no_gpu_pins_nothing():
    """Without GPUs (an empty or -1 list, or none counted) the environment is left as it was."""
    for environ, count in (({"CUDA_VISIBLE_DEVICES": ""}, None), ({"CUDA_VISIBLE_DEVICES": "-1"}, None), ({}, 0)):
        assert visible_gpus(environ, count=count) == ()
    environ = {"CUDA_VISIBLE_DEVICES": "-1"}
    assert pin_worker(3, environ) is None and environ == {"CUDA_VISIBLE_DEVICES": "-1"}


def test_pinning_a_process_is_stable():
    """A worker pinned once keeps its device when pinned again (every task of a Dask worker calls it)."""
    environ = {"CUDA_VISIBLE_DEVICES": "0,1,2,3"}
    assert pin_worker(2, environ) == "2" and environ["CUDA_VISIBLE_DEVICES"] == "2"
    assert pin_worker(2, environ) == "2" and environ["CUDA_VISIBLE_DEVICES"] == "2"

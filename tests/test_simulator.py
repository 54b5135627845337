"""The simulated clock on its own: W workers, the event heap, and the budget's accounts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.running.budget import Budget
from harness.running.simulator import Simulator


@dataclass
class _Job:
    worker: int
    end_s: float
    planned: float
    busy_s: float
    cost_s: float
    fraction: float = 1.0
    overhead_s: float = 0.0


def _drive(simulator: Simulator, durations: list[float]):
    """Start jobs of the given durations in order while they fit; the (job, worker, start, end) of each finish."""
    finished, queue = [], list(enumerate(durations))

    def start(worker: int):
        if not queue:
            return None
        number, busy = queue[0]
        planned = simulator.budget.cost(busy, 1.0)
        if not simulator.fits(planned):
            return None
        queue.pop(0)
        job = _Job(worker, simulator.now + busy, planned, busy, busy)
        job.number, job.start_s = number, simulator.now
        return job

    def finish(job):
        simulator.settle(job)
        finished.append((job.number, job.worker, job.start_s, simulator.now))

    simulator.run(start, finish)
    return finished


def test_two_workers_finish_in_time_order_and_a_freed_worker_asks_again():
    """Jobs end in simulated-time order; the worker freed first takes the next job at its end time."""
    sim = Simulator(2, Budget.parse("100evals"))
    finished = _drive(sim, [5.0, 2.0, 2.0, 1.0])
    assert finished == [(1, 1, 0.0, 2.0), (2, 1, 2.0, 4.0), (0, 0, 0.0, 5.0), (3, 1, 4.0, 5.0)]
    assert sim.now == 5.0 and sim.compute == pytest.approx(10.0) and sim.used == 4.0 and sim.reserved == 0.0


def test_ties_break_by_worker_and_all_finish_before_anyone_asks():
    """Jobs ending at one instant finish in worker order, and only then do the freed workers ask."""
    sim = Simulator(3, Budget.parse("100evals"))
    finished = _drive(sim, [3.0, 3.0, 3.0, 1.0])
    assert [(n, w) for n, w, _, _ in finished] == [(0, 0), (1, 1), (2, 2), (3, 0)]


def test_seconds_budget_is_wall_clock_and_the_first_job_that_does_not_fit_ends_the_asking():
    """A seconds budget is measured on the clock; a job that does not fit stops the run, even if a cheaper one follows."""
    sim = Simulator(1, Budget.parse("10s"))
    finished = _drive(sim, [4.0, 4.0, 4.0, 1.0])
    assert [n for n, *_ in finished] == [0, 1]
    assert sim.spent == 8.0

"""The simulated clock: W workers, the event heap of running trials, and the budget's accounts.

The simulator decides nothing about trials; it asks a ``start`` callable for a trial whenever
a worker is free and hands each finished trial to a ``finish`` callable, in order of
simulated finish time (ties broken by worker id). Every trial finishing at one instant is
finished before the freed workers ask again, and the first trial that does not fit the
budget ends the asking: no skipping ahead to a cheaper one. With one worker this is the
sequential loop: ask, evaluate, tell.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Protocol

from harness.running.budget import Budget

__all__ = ["Simulator", "Timed"]


class Timed(Protocol):
    """What the simulator reads of a started trial."""

    worker: int
    end_s: float
    planned: float  # its charge if it runs to its target, reserved while it runs
    busy_s: float  # how long it occupies its worker
    cost_s: float
    fraction: float
    overhead_s: float


class Simulator:
    """Owns the clock (``now``), the free workers and the running trials, and what is charged.

    ``used`` is the budget charged by finished trials and ``reserved`` the planned charges of
    running ones; ``compute`` is the simulated compute of all workers together. A ``seconds``
    budget is simulated wall-clock time, so it is measured against ``now``.
    """

    def __init__(self, workers: int, budget: Budget) -> None:
        self.budget = budget
        self.wall_clock = budget.kind == "seconds"
        self.now = self.used = self.reserved = self.compute = 0.0
        self._free = list(range(workers))  # a heap of worker ids free at ``now``
        self._running: list[tuple[float, int, Timed]] = []  # a heap by (end time, worker id)

    @property
    def spent(self) -> float:
        """The budget used so far, in its unit: the clock for seconds, the charges otherwise."""
        return self.now if self.wall_clock else self.used

    def fits(self, planned: float) -> bool:
        """Whether a trial planned to charge ``planned`` may start now, beside the running ones."""
        return self.budget.fits(self.now if self.wall_clock else self.used + self.reserved, planned)

    def settle(self, trial: Timed) -> float:
        """Charge a finished trial (what it really cost) and release its reservation; its charge."""
        charged = self.budget.cost(trial.cost_s, trial.fraction, trial.overhead_s)
        self.used += charged
        self.reserved -= trial.planned
        self.compute += trial.busy_s
        return charged

    def run(self, start: Callable[[int], Timed | None], finish: Callable[[Timed], None]) -> None:
        """Run until no trial fits and none is running. ``start(worker)`` returns a started trial
        or None (it does not fit); ``finish(trial)`` is called at its end, with ``now`` there."""
        free, running = self._free, self._running
        stopped = False
        while True:
            while free and not stopped:
                trial = start(free[0])
                if trial is None:
                    stopped = True
                    break
                heapq.heappop(free)
                self.reserved += trial.planned
                heapq.heappush(running, (trial.end_s, trial.worker, trial))
            if not running:
                return
            self.now = running[0][0]
            while running and running[0][0] == self.now:
                _, worker, trial = heapq.heappop(running)
                finish(trial)
                heapq.heappush(free, worker)

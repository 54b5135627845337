"""One table of bounds for every count and size the CLI and the specs accept.

Why: without upper bounds a typo exhausts the machine (``--processes 100000`` drove the load
to 226 on 2 cores, ``--workers 1000000000`` hung in ``range``, ``seeds = "0..100000000000"``
ran out of memory, ``--budget 1e15evals`` grew its journal until killed). Each bound follows
from the machine (its cores) or the data (the 15,625 cells of the space), and its reason is
both in the refusal and in the option's ``--help``. Every entry point checks through
:func:`check`, so a value refused on the command line is refused in a spec or run.json too.

Example:
    >>> check("workers", 4)
    4
    >>> BOUNDS["workers"].text
    '1 to 15,625'
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from adapters._cell import NUM_CELLS
from adapters.errors import BadInputError

__all__ = ["BOUNDS", "Bound", "CORES", "check", "help_text"]

#: The cores this process may use (the affinity mask, which a container or taskset narrows).
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: The papers report 500 runs per optimizer; twenty times that is beyond any study's need.
_PAPER_RUNS = 500
#: Trials in one run: the trial records are held in memory (about 2.5 KB each) until the run ends.
_MAX_TRIALS = 200_000


@dataclass(frozen=True)
class Bound:
    """The allowed range of one setting, and why its upper end is where it is.

    ``low_open`` excludes ``low`` itself (a timeout of 0 s means nothing); ``integer`` refuses
    fractions (2.5 trials, 0.5 processes) rather than rounding them silently.
    """

    what: str
    low: float
    high: float
    reason: str
    integer: bool = True
    low_open: bool = False

    @property
    def text(self) -> str:
        """The range as ``--help`` shows it, e.g. ``1 to 8`` or ``over 0 to 86,400``."""
        low = f"over {_fmt(self.low)}" if self.low_open else _fmt(self.low)
        return f"{low} to {_fmt(self.high)}"

    def check(self, value: object, what: str | None = None) -> int | float:
        """``value`` if it is a finite number in range (an ``int`` for integer bounds), else BadInputError."""
        name = what or self.what
        number = _number(value, name, self.integer)
        too_low = number <= self.low if self.low_open else number < self.low
        if too_low:
            raise BadInputError(f"{name} must be {self.text}, got {_fmt(number)}")
        if number > self.high:
            raise BadInputError(f"{name} must be at most {_fmt(self.high)}, got {_fmt(number)}: {self.reason}")
        return number


def _fmt(number: float) -> str:
    """1,000,000 and 4,294,967,295 rather than 1e+06 and 4.29497e+09; 1e+300 stays short."""
    if isinstance(number, int):  # may be far beyond a float (10**400)
        if abs(number) < 10**12:
            return f"{number:,}"
        return f"{float(number):g}" if number.bit_length() < 1000 else f"a {len(str(abs(number)))}-digit number"
    return f"{int(number):,}" if number.is_integer() and abs(number) < 1e12 else f"{number:g}"


def _number(value: object, name: str, integer: bool) -> float:
    """A finite int or float from a number or its text; NaN, infinity and 1e309 are refused."""
    if isinstance(value, bool):
        raise BadInputError(f"{name} must be a number, got {value!r}")
    if integer and isinstance(value, int):
        return value
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise BadInputError(f"{name} must be a {'whole ' if integer else ''}number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadInputError(f"{name} must be a finite number, got {value!r}")
    if integer:
        if not number.is_integer():
            raise BadInputError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


_B = Bound
#: Every bounded setting, by the name :func:`check` and :func:`help_text` take.
BOUNDS: dict[str, Bound] = {
    # --- runs ---
    "seed": _B("seed", 0, 2**32 - 1, "NumPy's generators take seeds below 2**32"),
    "workers": _B("workers", 1, NUM_CELLS,
                  f"more simulated workers than the space's {NUM_CELLS:,} cells cannot all be busy"),
    "processes": _B("processes", 1, 4 * CORES,
                    f"4 x this machine's {CORES} cores; more real workers only time-slice the same cores"),
    "checkpoint_every": _B("checkpoint_every", 1, _MAX_TRIALS, "the largest budget in evals"),
    "heartbeat": _B("heartbeat", 1, 3600, "a worker dead for an hour is not worth waiting for"),
    "time_scale": _B("time_scale", 0, 1, "1 is real time: a trial would already take as long as its training",
                     integer=False),
    # --- budgets (per unit) ---
    "evals": _B("budget in evals", 1, _MAX_TRIALS,
                "12 evaluations of each of the space's cells; measured here, a 200,000-trial random run takes "
                "40 s and 550 MB of memory"),
    "full": _B("budget in full evaluations", 0, 1000,
               "1,000 full trainings; at the lowest fidelity (1 epoch of 200) that is already 200,000 trials",
               integer=False, low_open=True),
    "seconds": _B("budget in seconds", 0, 1e8,
                  "over 800 x NATS-Bench's largest budget (120,000 s on ImageNet16-120)", integer=False,
                  low_open=True),
    # --- specs ---
    "seeds": _B("number of seeds", 1, 20 * _PAPER_RUNS, f"20 x the papers' {_PAPER_RUNS} runs per optimizer"),
    "runs": _B("runs in a grid", 1, 100_000, "optimizers x datasets x seeds x worker counts; each run is a folder"),
    "regret_target": _B("regret_target", 0, 100, "a regret in percentage points (0: reaching the optimum)",
                        integer=False),
    # --- data and analysis ---
    "timeout": _B("timeout", 0, 86_400, "a download stalled for a day will not resume", integer=False,
                  low_open=True),
    "draw_seed": _B("draw seed", 0, 2**32 - 1, "the same range as a run's --seed"),
    "cells": _B("number of cells", 1, NUM_CELLS, f"the space has {NUM_CELLS:,} cells"),
    "epochs": _B("epochs", 1, 1000, "5 x NB201's longest schedule (200 epochs)"),
    "fit": _B("cells to fit", 2, NUM_CELLS - 2, "a fit needs 2 cells, and at least 2 are held out to test it"),
    "threads": _B("threads", 1, 4 * CORES, f"4 x this machine's {CORES} cores"),
    "batch": _B("batch size", 1, 4096, "one forward pass of a batch must fit in memory"),
    "hours": _B("hours", 0, 24 * 365, "a year", integer=False, low_open=True),
    "rtol": _B("rtol", 0, 1, "a relative tolerance of 1 accepts any value", integer=False, low_open=True),
    "analysis_seeds": _B("number of seeds", 1, 1000, "the spread over 1,000 seeds is already stable"),
    "port": _B("port", 1, 65535, "TCP ports end at 65535"),
}
del _B


def check(name: str, value: object, what: str | None = None) -> float:
    """``value`` checked against ``BOUNDS[name]``; ``what`` names it in the message (e.g. ``--workers``)."""
    return BOUNDS[name].check(value, what)


def help_text(name: str, text: str) -> str:
    """An option's help with its bound appended, so ``--help`` states every limit."""
    return f"{text} [{BOUNDS[name].text}]"

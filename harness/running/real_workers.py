"""Real workers on one Optuna study: N OS processes share a study in one storage (PostgreSQL).

This is Optuna's own parallel model (many processes, one database as the sync point) with
the simulated budget kept in the database:

- the study's user attributes hold the run's settings (optimizer, dataset, store, budget,
  seed, heartbeat), so ``hpo2nas worker --storage URL --study NAME`` needs nothing else;
- every started trial records its simulated cost (``sim_cost_s``) and budget charge as user
  attributes; under one lock (a PostgreSQL advisory lock, or a file lock beside a SQLite file
  or journal) a worker asks, prices the trial, and starts it only if the charges of the
  study's COMPLETE and RUNNING trials plus this one fit the budget. The first trial that does
  not fit is told FAIL (``over_budget``) and marks the study spent: no worker starts a fresh
  trial after it;
- a worker killed with SIGKILL stops its heartbeat; after the grace period another worker's
  ``fail_stale_trials`` fails the trial (its charge leaves the sum) and
  ``RetryHeartbeatStaleTrialCallback`` (Optuna 5's name for
  ``RetryFailedTrialCallback``) adds it back as WAITING with the same cell, which the next ask
  takes, priced on the same data seed, so it costs what the failed one reserved. Nothing is
  lost and nothing is counted twice; workers leave when the budget is spent and no trial is
  running or waiting.

What the budget means here: the sum of simulated costs of the trials run (simulated compute,
not a simulated wall-clock: real workers have no common simulated clock), or the number of
trials for an evals budget. Which cells run, and in which order, depends on the processes'
real timing; only the total is guaranteed. ``time_scale`` makes each evaluation take
``cost_s * time_scale`` real seconds, so trials overlap as real training would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.bounds import check
from adapters.optimizers import OptunaOptimizer, make_optimizer
from adapters.optimizers.optuna_study import open_storage, quiet_info, storage_label
from adapters.protocols import task_objective, task_space
from adapters.types import SEED_MEAN, BadInputError, RandomSeed
from harness.running.devices import pin_worker
from harness.running.live_pricing import pricing_for, trains
from harness.running.pricing import UNTRAINED, Outcome, Price, Pricing
from harness.running.refusals import refuse, search_axis
from harness.running.run_config import RunConfig

__all__ = ["StudySettings", "create_study", "run_worker", "run_processes", "study_summary"]

_SETTINGS_ATTR = "hpo2nas_settings"
_SPENT_ATTR = "hpo2nas_budget_spent"


@dataclass(frozen=True)
class StudySettings:
    """What every worker of a study runs; stored in the study so workers need only its name.

    ``run`` is the run's settings as ``hpo2nas run`` declares them (optimizer, options, benchmark and
    its options, dataset, budget, seed, store, data seeds): one :class:`RunConfig`, not a copy of its
    fields. The rest are the real workers' own: heartbeat, grace period, retries, how many real
    seconds a simulated second takes, and for a benchmark that trains the folder its checkpoints go
    to (``--out``; every worker must reach it).
    """

    run: RunConfig
    heartbeat_s: int = 2
    grace_s: int = 4
    max_retry: int = 3
    time_scale: float = 0.0
    workdir: str = ""

    def __post_init__(self) -> None:
        # The bounds table: also what a study's stored settings are checked by when a worker loads them.
        check("heartbeat", self.heartbeat_s, "heartbeat")
        object.__setattr__(self, "time_scale", float(check("time_scale", self.time_scale)))
        if self.run.workers != 1 or self.run.storage is not None:
            raise BadInputError("real workers share one study: the run's own workers and storage are not theirs to set")

    def to_dict(self) -> dict[str, Any]:
        """The study's stored form (JSON values only)."""
        return {"run": self.run.to_dict(), "heartbeat_s": self.heartbeat_s, "grace_s": self.grace_s,
                "max_retry": self.max_retry, "time_scale": self.time_scale, "workdir": self.workdir}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> StudySettings:
        """Inverse of :meth:`to_dict`; a study made by an older hpo2nas (flat settings) is one-line bad input."""
        if not isinstance(body, dict) or not isinstance(body.get("run"), dict):
            raise BadInputError("the study's settings predate run configs in studies; create a new study")
        return cls(run=RunConfig.from_dict(body["run"]), **{k: v for k, v in body.items() if k != "run"})


def _storage(url: str, settings: StudySettings | None = None, *, create: bool = True) -> Any:
    """The study's storage; for an RDB URL with the heartbeat and the retry callback.

    ``create=False`` for a worker joining a study: a journal that does not exist is refused,
    not made empty.
    """
    import warnings

    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    if "://" not in url:
        return open_storage(url, create=create)
    hb = settings.heartbeat_s if settings else 60
    grace = settings.grace_s if settings else 120
    # Optuna marks the heartbeat and its retry callback experimental and says so on every use;
    # they are what real workers are built on, so a run that succeeds prints nothing about them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        retry = RetryHeartbeatStaleTrialCallback(max_retry=settings.max_retry if settings else 3)
        return open_storage(url, heartbeat_interval=hb, grace_period=grace, heartbeat_stale_trial_callback=retry)


@contextlib.contextmanager
def _budget_lock(storage: Any, url: str, study_id: int) -> Iterator[None]:
    """One worker at a time checks and reserves budget: a PostgreSQL advisory lock, or a file lock."""
    if url.startswith("postgresql"):
        from sqlalchemy import text

        key = int.from_bytes(hashlib.sha256(f"hpo2nas-budget-{study_id}".encode()).digest()[:7], "big")
        with storage.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    import fcntl

    path = (url.split("///", 1)[1] if url.startswith("sqlite") else os.path.abspath(url)) + ".budget-lock"
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _workdir(settings: StudySettings) -> Path | None:
    """Where a live study's trainings checkpoint (``--out``); None for a table."""
    return Path(settings.workdir) if settings.workdir else None


def create_study(url: str, name: str, settings: StudySettings) -> None:
    """Create the study with its settings; an existing study must hold the same settings."""
    import optuna

    from benchmarks import resolve_dataset

    _sampler_for(settings, 0)  # refuse a non-Optuna optimizer before anything is written
    config = settings.run
    # Open the benchmark once here: it checks the dataset, and workers starting together then
    # find the default store built instead of racing to build it.
    bench = config.open_benchmark(workdir=_workdir(settings))
    if resolve_dataset(config.dataset, bench.datasets) != config.dataset:
        raise BadInputError(f"give the dataset's full name {resolve_dataset(config.dataset, bench.datasets)!r}")
    refuse(make_optimizer(config.optimizer, dict(config.options)), bench, config)  # as `hpo2nas run` would
    storage = _storage(url, settings)
    with quiet_info():
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    stored = study.user_attrs.get(_SETTINGS_ATTR)
    body = settings.to_dict()
    if stored is None:
        study.set_user_attr(_SETTINGS_ATTR, body)
    elif stored != body:
        raise BadInputError(f"study {name!r} in {storage_label(url)} was created with other settings: {stored}")


def _settings(study: Any, name: str, url: str) -> StudySettings:
    body = study.user_attrs.get(_SETTINGS_ATTR)
    if body is None:
        raise BadInputError(f"study {name!r} in {storage_label(url)} was not created by hpo2nas (no settings)")
    return StudySettings.from_dict(body)


def _sampler_for(settings: StudySettings, seed: int) -> Any:
    optimizer = make_optimizer(settings.run.optimizer, dict(settings.run.options))
    if not isinstance(optimizer, OptunaOptimizer):
        raise BadInputError(f"real workers share an Optuna study: {settings.run.optimizer} is not an Optuna sampler "
                            "(use --workers for simulated workers)")
    if optimizer.multi_fidelity:
        raise BadInputError(f"{settings.run.optimizer}: a pruner is not supported with real workers")
    return optimizer.sampler_factory(seed)


def run_worker(url: str, name: str, *, worker_seed: int | None = None) -> int:
    """One worker process's loop; returns how many trials it completed."""
    import warnings

    import optuna

    # Optuna marks the heartbeat and retry API experimental and warns that the heartbeat is
    # meant for Study.optimize; this loop is Study.optimize's trial loop by hand.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
    from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
    from optuna.storages._heartbeat import get_heartbeat_thread
    from optuna.trial import TrialState

    probe = _storage(url, create=False)
    with quiet_info():
        try:
            study = optuna.load_study(study_name=name, storage=probe)
        except KeyError:
            raise BadInputError(f"no study {name!r} in {storage_label(url)}") from None
    settings = _settings(study, name, url)
    storage = _storage(url, settings)
    seed = worker_seed if worker_seed is not None else os.getpid()
    with quiet_info():
        study = optuna.load_study(study_name=name, storage=storage, sampler=_sampler_for(settings, seed))
    run = settings.run
    budget = run.budget
    bench = run.open_benchmark(workdir=_workdir(settings))
    space = task_space(bench, run.dataset)
    score = task_objective(bench, run.dataset).score  # the study maximises; a minimised metric is told negated
    # as the simulated runner prices: from the table, or (a benchmark that trains) by measuring the training
    pricing = pricing_for(bench, run.dataset, search_axis(bench, run.dataset), continue_promotions=False)
    distributions = space.optuna_distributions()
    done = 0
    while True:
        with _budget_lock(storage, url, study._study_id):
            fail_stale_trials(study)
            trials = study.get_trials(deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            spent = bool(study.user_attrs.get(_SPENT_ATTR))
            if spent and not waiting:
                running = any(t.state == TrialState.RUNNING for t in trials)
                trial = None
            else:
                with quiet_info():
                    trial = study.ask(distributions)
                config = space.from_params(trial.params)
                key = pricing.row(config)
                original = RetryHeartbeatStaleTrialCallback.retried_trial_number(storage.get_trial(trial._trial_id))
                number = trial.number if original is None else original
                # The data seed follows the trial's first number: a retry trains on the same seed.
                seed = SEED_MEAN if run.data_seeds == "mean" else RandomSeed(run.seed * 1_000_003 + number)
                price, untrained = _priced(pricing, key, seed)
                result, cost_s = price.first, float(price.cost_s)
                charge = budget.cost(cost_s, price.fraction)
                used = _charged(trials, trial.number)
                if not budget.fits(used, charge):
                    study.set_user_attr(_SPENT_ATTR, True)
                    trial.set_user_attr("over_budget", True)
                    study.tell(trial, state=TrialState.FAIL)
                    continue
                for name, value in _start_attrs(space, config, price, untrained, charge):
                    trial.set_user_attr(name, value)
                if untrained:  # told at once, inside the lock: nothing trains
                    study.tell(trial, state=TrialState.FAIL)
                    done += 1
                    continue
        if trial is None:
            if not running:
                return done
            time.sleep(min(1.0, settings.heartbeat_s / 2))  # a stale trial may come back as WAITING
            continue
        with get_heartbeat_thread(trial._trial_id, storage):
            if trains(bench):  # trains now, outside the lock; then charges what it measured
                result = _measure(trial, pricing, price, budget)
            elif settings.time_scale > 0:
                time.sleep(cost_s * settings.time_scale)
        # a failed training (NaN loss, out of memory, no accuracy) is a FAIL, and the search goes on
        study.tell(trial, state=TrialState.FAIL) if result.valid_acc is None else study.tell(trial, float(score(result.valid_acc)))
        done += 1


def _priced(pricing: Pricing, key: int, seed: Any) -> tuple[Price, Outcome | None]:
    """A trial priced to the highest fidelity, and for a configuration the source never trained
    (``UNTRAINED``) its outcome already: a failed trial, 0 s, one evaluation."""
    if key == UNTRAINED:
        return pricing.untrained(pricing.max_fid)
    return pricing.price(key, pricing.max_fid, seed), None


def _start_attrs(space: Any, config: Any, price: Price, untrained: Outcome | None, charge: float) -> list[tuple[str, Any]]:
    """A started trial's user attributes: its simulated cost and charge, the cell and its keys, the data seed,
    the worker; for an untrained configuration, its status and reason."""
    result, key = price.first, price.index
    attrs = [("sim_cost_s", float(price.cost_s)), ("budget_charged", charge), ("cell_index", key),
             ("native_key", "" if untrained else space.native_key(key)), ("arch_str", space.to_str(config)),
             ("data_seed", "" if untrained else str(price.data_seed if result is None else result.seed)),
             ("worker_pid", os.getpid())]
    return attrs + ([("status", "failed"), ("reason", untrained.reason)] if untrained else [])


def _charged(trials: list[Any], but: int) -> float:
    """The budget charged by the study's trials but number ``but``: complete and running ones, and failed
    trainings (FAIL with status ``failed``: they were paid); a stale worker's FAIL was not."""
    from optuna.trial import TrialState

    return sum(t.user_attrs.get("budget_charged", 0.0) for t in trials
               if (t.state in (TrialState.COMPLETE, TrialState.RUNNING) or t.user_attrs.get("status") == "failed")
               and t.number != but)


def _measure(trial: Any, pricing: Any, price: Any, budget: Any) -> Any:
    """Train a live trial and record what it measured (its cost, charge, status, device...) on the trial."""
    outcome = pricing.completed(price)
    charged = budget.cost(outcome.cost_s, outcome.fraction)
    for key, value in (("sim_cost_s", outcome.cost_s), ("budget_charged", charged), ("status", outcome.status),
                       *pricing.columns(outcome).items()):
        trial.set_user_attr(key, value)
    return outcome


def run_processes(url: str, name: str, processes: int, *, timeout_s: float | None = None) -> list[int]:
    """Start ``processes`` worker processes (``python -m harness worker``) and wait; their exit codes."""
    if processes < 1:
        raise BadInputError(f"--processes must be at least 1, got {processes}")
    cmd = [sys.executable, "-m", "harness", "worker", "--storage", url, "--study", name]
    envs = [dict(os.environ) for _ in range(processes)]
    for worker, env in enumerate(envs):
        pin_worker(worker, env)  # one GPU each where there are GPUs (live training); nothing otherwise
    procs = [subprocess.Popen(cmd, env=env) for env in envs]
    return [proc.wait(timeout=timeout_s) for proc in procs]


def study_summary(url: str, name: str) -> dict[str, Any]:
    """Trials by state, the budget charged (as the workers count it: failed trainings were paid too), and the
    best trial."""
    import optuna
    from optuna.trial import TrialState

    with quiet_info():
        study = optuna.load_study(study_name=name, storage=_storage(url))
    settings = _settings(study, name, url)
    objective = task_objective(settings.run.open_benchmark(workdir=_workdir(settings)), settings.run.dataset)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value, default=None)
    return {
        "study": name,
        "budget": str(settings.run.budget),
        "benchmark": settings.run.benchmark,
        "dataset": settings.run.dataset,
        "objective": objective.to_dict(),
        "states": {state.name: sum(t.state == state for t in trials) for state in TrialState
                   if any(t.state == state for t in trials)},
        "budget_charged": _charged(trials, but=-1),
        "complete": len(complete),
        # the study's value is the objective's score; valid_acc is the objective itself (negated back where minimised)
        "best": None if best is None else {"cell_index": best.user_attrs["cell_index"],
                                           "native_key": best.user_attrs.get("native_key"),
                                           "valid_acc": objective.score(best.value),
                                           "arch_str": best.user_attrs["arch_str"]},
    }

"""The protocols declare what the harness uses: the Benchmark protocol covers every store call the
harness makes, optimizers' optional members are read in one place (``capabilities``), and a user's
optimizer needs only ``setup``, ``ask`` and ``tell`` besides its three class attributes."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from adapters.optimizers import make_optimizer, optimizer_class
from adapters.protocols import Benchmark, Observation, TrainingBenchmark, SearchProblem, Suggestion, capabilities, optimizer_notes, \
    optimizer_settings
from adapters.types import BadInputError
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run

HARNESS = Path(__file__).resolve().parents[1] / "harness"


class MinimalSearch:
    """A user's optimizer with only the required members: random keys of the problem's space."""

    name = "minimal"
    multi_fidelity = False
    defaults: dict = {}

    def setup(self, problem: SearchProblem) -> None:
        self.space, self.rng = problem.space, random.Random(problem.seed)

    def ask(self) -> Suggestion:
        return Suggestion(self.space.sample(self.rng), origin="random")

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        pass


class NoTell:
    name = "no-tell"
    multi_fidelity = False
    defaults: dict = {}

    def setup(self, problem): ...

    def ask(self): ...


def test_tabular_benchmark_is_a_benchmark(default_bench):
    assert isinstance(default_bench, Benchmark)
    assert default_bench.space.size == 15625


def test_benchmark_protocol_declares_every_store_call_of_the_harness():
    """Every ``benchmark.x`` / ``bench.x`` the harness uses is a member of the Benchmark protocol (or, for a
    benchmark that trains, of TrainingBenchmark, which extends it)."""
    used = set()
    for path in HARNESS.rglob("*.py"):
        used |= set(re.findall(r"\b(?:benchmark|bench)\.([a-z_]+)\b", path.read_text()))
    declared = {name for proto in (Benchmark, TrainingBenchmark) for name in dir(proto) if not name.startswith("_")}
    declared |= set(Benchmark.__annotations__) | set(TrainingBenchmark.__annotations__)
    assert used and used <= declared, sorted(used - declared)


def test_a_user_optimizer_needs_only_setup_ask_tell(tmp_path):
    """No report, settings or notes: it loads, runs through the runner, and its record says nothing extra."""
    cls = optimizer_class("test_protocols:MinimalSearch")
    caps = capabilities(cls)
    assert (caps.multi_objective, caps.pending_trials, caps.restores, caps.records, caps.closes) == (False,) * 5
    opt = make_optimizer("test_protocols:MinimalSearch")
    assert optimizer_settings(opt) == {} and optimizer_notes(opt) == []
    config = RunConfig(optimizer="test_protocols:MinimalSearch", dataset="cifar10-valid",
                       budget=Budget.parse("5evals"), seed=1)
    trials = execute_run(config, tmp_path / "run").rows
    assert len(trials) == 5 and all(t["origin"] == "random" for t in trials)


def test_the_loader_still_requires_the_core_members():
    with pytest.raises(BadInputError, match="missing tell"):
        optimizer_class("test_protocols:NoTell")


def test_capabilities_follow_the_instance():
    """An Optuna sampler with a pruner is multi-fidelity, serial and single-objective: the instance says so."""
    plain, pruned = make_optimizer("optuna-tpe"), make_optimizer("optuna-tpe", {"pruner": "median"})
    assert capabilities(plain).multi_objective and capabilities(plain).pending_trials
    caps = capabilities(pruned)
    assert caps.multi_fidelity and not caps.multi_objective and not caps.pending_trials and caps.serial_reason
    assert capabilities(type(pruned)).multi_objective  # the class declares what the plain sampler can do
    assert capabilities(make_optimizer("dehb")).uses_fidelity and not capabilities(make_optimizer("re")).uses_fidelity

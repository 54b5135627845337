"""Every optimizer adapter works through SearchProblem.space: on a small non-NB201 space
(ragged, with ordinal and categorical hyperparameters) each one asks only that space's
configurations and learns from what it is told; zero-cost search refuses it in one line."""

from __future__ import annotations

import itertools
import random

import pytest

from adapters import FiniteSpace, Hyperparameter, InvalidConfigError, SearchSpace
from adapters.optimizers import OPTIMIZERS, make_optimizer
from adapters.protocols import Observation, SearchProblem, capabilities
from adapters.types import BadInputError, FidelitySpace


class ToySpace(FiniteSpace):
    """3 x 2 x 4 = 24 rows, keyed in product order: a hyperparameter-table-like space."""

    name = "toy"
    hyperparameters = (
        Hyperparameter("depth", (1, 2, 3), ordinal=True),
        Hyperparameter("activation", ("relu", "tanh")),
        Hyperparameter("lr", (0.1, 0.01, 0.001, 0.0001), ordinal=True, default=1),
    )
    size = 24
    _configs = list(itertools.product(range(3), range(2), range(4)))

    def key(self, config):
        return self._configs.index(self.check(config))

    def config(self, key):
        return self._configs[self.check_key(key)]

    def native_key(self, key):
        return str(self.check_key(key))


TOY = ToySpace()
FLAT = FidelitySpace("epoch", (200,))
AXIS = FidelitySpace("epoch", tuple(range(1, 201)))
ZERO_COST = {"zc", "re-zc"}


def _value(config) -> float:
    """A smooth objective on the toy space, best at depth 3, tanh, lr 0.01."""
    return 90.0 - 5 * abs(config[0] - 2) - 3 * (config[1] == 0) - 4 * abs(config[2] - 1)


@pytest.mark.parametrize("name", sorted(set(OPTIMIZERS) - ZERO_COST))
def test_optimizer_asks_only_the_space_configurations(name, tmp_path):
    """Ask/tell 8 trials on the toy space: every suggestion is a valid toy configuration."""
    opt = make_optimizer(name)
    fidelity = AXIS if capabilities(opt).multi_fidelity else FLAT
    opt.setup(SearchProblem(fidelity=fidelity, seed=1, workdir=tmp_path, max_trials=8, expected_trials=8, space=TOY))
    for _ in range(8):
        suggestion = opt.ask()
        key = TOY.key(suggestion.config)
        assert 0 <= key < TOY.size
        assert suggestion.fidelity is None or suggestion.fidelity in fidelity.values
        fid = suggestion.fidelity or fidelity.max
        opt.tell(suggestion, Observation(valid_acc=_value(suggestion.config), fidelity=fid, cost_s=1.0))


@pytest.mark.parametrize("name", sorted(ZERO_COST))
def test_zero_cost_search_refuses_another_space(name, tmp_path):
    opt = make_optimizer(name)
    with pytest.raises(BadInputError, match="zero-cost proxy tables exist for the NB201 cell only, not the toy space"):
        opt.setup(SearchProblem(fidelity=FLAT, seed=1, workdir=tmp_path, space=TOY))


def test_reinforce_has_one_categorical_per_hyperparameter():
    """Rows as wide as each hyperparameter: the missing choices never come up."""
    opt = make_optimizer("reinforce")
    opt.setup(SearchProblem(fidelity=FLAT, seed=0, space=TOY))
    assert opt.logits.shape == (3, 4)
    seen = {opt.ask().config for _ in range(600)}
    assert all(c[0] < 3 and c[1] < 2 for c in seen)
    assert {c[1] for c in seen} == {0, 1} and {c[2] for c in seen} == {0, 1, 2, 3}


def test_regularized_evolution_learns_on_the_toy_space():
    """RE with one-hyperparameter mutations finds the toy optimum within 40 trials."""
    opt = make_optimizer("re", {"population_size": 5, "tournament_size": 2})
    opt.setup(SearchProblem(fidelity=FLAT, seed=3, space=TOY))
    best = 0.0
    for _ in range(40):
        s = opt.ask()
        best = max(best, _value(s.config))
        opt.tell(s, Observation(valid_acc=_value(s.config), fidelity=200, cost_s=1.0))
    assert best == 90.0


def test_finite_space_mutation_changes_exactly_one_hyperparameter():
    rng = random.Random(0)
    config = TOY.config(5)
    for _ in range(200):
        child = TOY.mutate(config, rng)
        assert sum(a != b for a, b in zip(config, child)) == 1
        config = child
    assert isinstance(TOY, SearchSpace)
    with pytest.raises(InvalidConfigError, match="depth"):
        TOY.key((3, 0, 0))


class ToyBenchmark:
    """A table keyed by the toy space: the Benchmark protocol, nothing of NB201."""

    name = "toy-table"
    checksum = "0" * 64
    space = TOY
    datasets = ("toy",)
    manifest = None

    def fidelity_space(self, dataset):
        return FLAT

    def splits(self, dataset):
        return {"valid_acc": "toy validation", "train_time_s": "toy seconds"}

    def has_test(self, dataset):
        return False

    def query(self, key, dataset, fidelity=None, seed=None):
        from adapters.types import QueryResult

        return QueryResult(int(key), dataset, 200, "mean", _value(TOY.config(int(key))), None, 10.0 + key, None, None,
                           None, self.splits(dataset))

    def lookup(self, indices, dataset, metric="valid_acc", fidelity=None, seed=None):
        import numpy as np

        return np.array([getattr(self.query(int(i), dataset), metric) for i in indices], dtype=float)

    def best(self, dataset, metric="valid_acc", fidelity=None):
        return max((self.query(k, dataset) for k in range(TOY.size)), key=lambda r: getattr(r, metric))


@pytest.mark.parametrize("name", ["re", "optuna-tpe", "smac-hpo"])
def test_the_runner_maps_configurations_through_the_benchmark_space(name, tmp_path):
    """run_trials on a toy-keyed benchmark: keys, string forms and canonical ids are the toy space's."""
    from adapters.protocols import Benchmark
    from harness.running.budget import Budget
    from harness.running.run_folder import RunFolder
    from harness.running.runner import RunConfig, run_trials

    bench = ToyBenchmark()
    assert isinstance(bench, Benchmark)
    config = RunConfig(optimizer=name, dataset="toy", budget=Budget.parse("15evals"), seed=0, store="toy-table")
    (tmp_path / name).mkdir()  # execute_run makes it; run_trials writes into it
    result = run_trials(config, make_optimizer(name), bench, RunFolder(tmp_path / name, config.to_dict()))
    assert len(result.rows) == 15
    for trial in result.rows:
        assert trial["arch_str"] == TOY.to_str(TOY.config(trial["index"]))
        assert trial["canonical_id"] == trial["index"]
        assert trial["valid_acc"] == _value(TOY.config(trial["index"]))
    assert result.rows[0]["arch_str"].startswith("depth=")


def test_the_guide_example_space_runs():
    """docs/README.md's 'Add a search space' code is a working space, equal to the toy space above."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "README.md").read_text()
    code = guide.split("## Add a search space", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/README.md", "exec"), namespace)  # noqa: S102 - our own guide's example
    space = namespace["MLPSpace"]()
    assert isinstance(space, SearchSpace)
    assert space.hyperparameters == TOY.hyperparameters and space.size == TOY.size
    assert [space.key(space.config(k)) for k in range(space.size)] == list(range(space.size))
    assert [space.config(k) for k in range(space.size)] == [TOY.config(k) for k in range(TOY.size)]


def test_report_words_follow_what_a_space_declares():
    """Reports say edges/ops/cells for a space that declares itself a cell (whatever its name), and
    hyperparameters/values/configs otherwise; of the shipped spaces NB201's and TransNAS micro's are cells."""
    from adapters.nb201_space import NB201Space
    from adapters.spaces import DigitKeyedSpace, NasBenchGraphSpace, NatsSizeSpace, TransNasMicroSpace
    from harness.reporting.formats import terms_of

    class MyCells(ToySpace):
        name = "my-cells"
        cell = True

    assert (terms_of(TOY).part, terms_of(TOY).choice, terms_of(TOY).configs) == ("hyperparameter", "value", "configs")
    assert (terms_of(MyCells()).part, terms_of(MyCells()).choice, terms_of(MyCells()).configs) == ("edge", "op", "cells")
    declared = {cls.__name__: cls.cell for cls in (NB201Space, TransNasMicroSpace, NasBenchGraphSpace, NatsSizeSpace,
                                                   DigitKeyedSpace)}
    assert declared == {"NB201Space": True, "TransNasMicroSpace": True, "NasBenchGraphSpace": False,
                        "NatsSizeSpace": False, "DigitKeyedSpace": False}

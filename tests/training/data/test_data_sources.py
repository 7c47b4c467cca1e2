"""Data sources: image folders, IDX directories, named datasets, splits and their errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing, prepare
from edgecnn.training.data import load_arrays, make_splits, open_source
from edgecnn.training.data import sources as sources_mod
from edgecnn.training.data.idx import read_idx
from edgecnn.training.data.images import decode_image
from edgecnn.training.data.splits import stratified_split, stratified_subset

CLASSES = ("apple", "banana", "cherry")

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------------------------ folders
def test_folder_classes_and_files(image_folder):
    source = open_source(str(image_folder))
    assert source.kind == "folder"
    assert source.labels == list(CLASSES)
    assert source.channels == 3
    train = source.splits["train"]
    assert len(train) == 3 * 8 + 2  # the grey image and the broken file are listed; decoding decides
    assert np.bincount(train.labels).tolist() == [9, 9, 8]
    assert set(source.splits) == {"train"}


def test_corrupt_file_skipped_with_one_warning(image_folder, caplog):
    spec = Preprocessing.for_model(32, 3)
    with caplog.at_level(logging.WARNING):
        x, y, labels = load_arrays({"source": str(image_folder), "val_split": 0.0}, spec, "train")
    warnings = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(warnings) == 1 and "skipped 1 " in warnings[0].getMessage()
    assert "broken.jpg" in warnings[0].getMessage()
    assert x.shape == (25, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [9, 8, 8]


def test_pixels_equal_prepare_of_decoded_file(image_folder):
    """Bit-exactness: the training array is prepare(cv2.imdecode(file)) -- grey and colour, both specs."""
    for channels in (1, 3):
        spec = Preprocessing.for_model((24, 40), channels, resize_mode="crop")
        data = {"source": str(image_folder), "val_split": 0.0}
        x, y, _ = load_arrays(data, spec, "train")
        files = [f for f in open_source(str(image_folder)).splits["train"].files if f.name != "broken.jpg"]
        assert len(files) == len(x)
        for pixels, path in zip(x, files, strict=True):
            raw = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
            np.testing.assert_array_equal(pixels, prepare(raw, spec))


def test_grey_image_decodes_grey(image_folder):
    grey = decode_image(image_folder / "apple" / "grey.png")
    assert grey.ndim == 2
    assert decode_image(image_folder / "banana" / "broken.jpg") is None
    assert decode_image(image_folder / "missing.png") is None


def test_grey_folder_defaults_to_one_channel(tmp_path, folder_factory):
    source = open_source(str(folder_factory(tmp_path / "g", grey=True, per_class=3)))
    assert source.channels == 1


def test_presplit_folder(tmp_path, folder_factory):
    root = tmp_path / "split"
    folder_factory(root / "train", per_class=6)
    folder_factory(root / "val", per_class=2, seed=1)
    folder_factory(root / "test", per_class=3, classes=CLASSES[:2], seed=2)
    source = open_source(str(root))
    assert set(source.splits) == {"train", "val", "test"}
    splits = make_splits(source, val_split=0.5)  # ignored: the source has its own val split
    assert [len(splits[s]) for s in ("train", "val", "test")] == [18, 6, 6]
    assert source.labels == list(CLASSES)


def test_presplit_folder_with_unknown_class_fails(tmp_path, folder_factory):
    root = tmp_path / "split"
    folder_factory(root / "train", per_class=2)
    folder_factory(root / "test", per_class=2, classes=("durian",))
    with pytest.raises(EdgeCNNError, match="durian"):
        open_source(str(root))


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty", "no class sub-folders"),
        ("one_class", "at least 2 classes"),
        ("empty_class", "class 'empty' has no images"),
        ("loose_files", "one sub-folder per class"),
        ("missing", "neither an existing folder nor a known dataset"),
        ("file", "is a file"),
    ],
)
def test_folder_errors(tmp_path, case, message, folder_factory):
    root = tmp_path / "data"
    root.mkdir()
    if case == "one_class":
        folder_factory(root, classes=("only",), per_class=2)
    elif case == "empty_class":
        folder_factory(root, classes=("full", "other"), per_class=2)
        (root / "empty").mkdir()
    elif case == "loose_files":
        cv2.imwrite(str(root / "a.png"), np.zeros((8, 8, 3), np.uint8))
    elif case == "missing":
        root = tmp_path / "nope"
    elif case == "file":
        root = root / "x.png"
        cv2.imwrite(str(root), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(EdgeCNNError, match=message):
        open_source(str(root))


def test_all_images_unreadable(tmp_path):
    root = tmp_path / "bad"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "x.png").write_bytes(b"garbage")
    with pytest.raises(EdgeCNNError, match="no readable images"):
        load_arrays({"source": str(root), "val_split": 0.0}, Preprocessing.for_model(32, 3))


# ------------------------------------------------------------------------------------------------ splits
def test_stratified_split_is_deterministic_and_disjoint():
    labels = np.repeat(np.arange(4), [10, 20, 7, 2])
    keep, held = stratified_split(labels, 0.2, seed=3)
    assert np.intersect1d(keep, held).size == 0 and len(keep) + len(held) == len(labels)
    assert np.bincount(labels[held], minlength=4).tolist() == [2, 4, 1, 1]
    keep2, held2 = stratified_split(labels, 0.2, seed=3)
    np.testing.assert_array_equal(held, held2)
    assert not np.array_equal(held, stratified_split(labels, 0.2, seed=4)[1])


def test_stratified_subset_keeps_proportions():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    idx = stratified_subset(labels, 10, seed=0)
    assert len(idx) == 10 and np.bincount(labels[idx]).tolist() == [5, 3, 2]
    np.testing.assert_array_equal(idx, stratified_subset(labels, 10, seed=0))
    assert len(stratified_subset(labels, None, seed=0)) == 100


def test_val_split_and_test_fallback(image_folder, caplog):
    spec = Preprocessing.for_model(32, 3)
    data = {"source": str(image_folder), "val_split": 0.25, "seed": 1}
    xt, _, _ = load_arrays(data, spec, "train")
    xv, yv, _ = load_arrays(data, spec, "val")
    assert len(xt) + len(xv) == 25 and np.bincount(yv).tolist() == [2, 2, 2]
    with caplog.at_level(logging.WARNING):
        xs, ys, _ = load_arrays(data, spec, "test")
    assert any("no test split" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(xs, xv)
    with pytest.raises(EdgeCNNError, match="split must be one of"):
        load_arrays(data, spec, "holdout")


def test_limit_is_stratified(image_folder):
    x, y, _ = load_arrays({"source": str(image_folder), "val_split": 0.0}, Preprocessing.for_model(32, 1), limit=6)
    assert x.shape == (6, 32, 32, 1) and sorted(np.bincount(y).tolist()) == [2, 2, 2]


# ------------------------------------------------------------------------------------------------ IDX
@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz, idx_writer):
    array = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = idx_writer(tmp_path / ("a.idx.gz" if gz else "a.idx"), array, gz=gz)
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_source(tmp_path, gz, idx_dir_factory):
    root = idx_dir_factory(tmp_path / "digits", gz=gz)
    source = open_source(str(root))
    assert source.kind == "idx" and source.channels == 1
    assert source.labels == ["0", "1", "2", "3"] and source.flip is False
    x, y, labels = load_arrays(str(root), Preprocessing.for_model(32, 1), "test")
    assert x.shape == (10, 32, 32, 1) and y.tolist() == [i % 4 for i in range(10)]
    raw = read_idx(root / f"t10k-images-idx3-ubyte{'.gz' if gz else ''}")
    np.testing.assert_array_equal(x[3], prepare(raw[3], Preprocessing.for_model(32, 1)))


def test_idx_labels_txt_names_classes(tmp_path, idx_dir_factory):
    root = idx_dir_factory(tmp_path / "letters", gz=True)
    (root / "labels.txt").write_text("a\nb\nc\nd\n")
    assert open_source(str(root)).labels == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "damage, message",
    [
        ("magic", "not an IDX file"),
        ("truncated", "declares shape"),
        ("count", "labels"),
        ("missing_labels", "no matching labels"),
    ],
)
def test_idx_errors(tmp_path, damage, message, idx_dir_factory, idx_writer):
    root = idx_dir_factory(tmp_path / "d", gz=False)
    images = root / "train-images-idx3-ubyte"
    if damage == "magic":
        images.write_bytes(b"\x12\x34" + images.read_bytes()[2:])
    elif damage == "truncated":
        images.write_bytes(images.read_bytes()[:-10])
    elif damage == "count":
        idx_writer(root / "train-labels-idx1-ubyte", np.zeros(3, np.uint8), gz=False)
    elif damage == "missing_labels":
        (root / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(EdgeCNNError, match=message):
        open_source(str(root))


# ------------------------------------------------------------------------------------------------ named
def _no_local_copies(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    known = dict(sources_mod.KNOWN_DATASETS)
    for name, entry in known.items():
        known[name] = sources_mod.KnownDataset(
            entry.labels,
            entry.flip,
            str(tmp_path / "no_debian"),
            entry.keras_name,
            entry.keras_cache,
            entry.install_hint,
        )
    monkeypatch.setattr(sources_mod, "KNOWN_DATASETS", known)


def test_named_dataset_from_keras_cache(monkeypatch, tmp_path, idx_dir_factory):
    _no_local_copies(monkeypatch, tmp_path)
    idx_dir_factory(tmp_path / "keras_home" / "datasets" / "fashion-mnist", gz=True, classes=10, n_train=30)
    source = open_source("Fashion-MNIST")
    assert source.kind == "named" and source.labels[0] == "T-shirt/top" and source.labels[9] == "Ankle boot"
    assert len(source.splits["train"]) == 30 and source.flip is True


def test_named_mnist_from_npz_cache(monkeypatch, tmp_path):
    _no_local_copies(monkeypatch, tmp_path)
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(
        cache / "mnist.npz",
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20) % 10,
        x_test=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        y_test=np.arange(5),
    )
    source = open_source("mnist")
    assert source.flip is False and source.channels == 1 and len(source.splits["test"]) == 5


def test_named_dataset_download_failure_is_one_line(monkeypatch, tmp_path):
    _no_local_copies(monkeypatch, tmp_path)
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()

    def offline():
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(EdgeCNNError) as info:
        open_source("fashion_mnist")
    message = str(info.value)
    assert "\n" not in message and "apt-get install dataset-fashion-mnist" in message
    assert "name resolution" in message


@pytest.mark.realdata
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian():
    x, y, labels = load_arrays("fashion_mnist", Preprocessing.for_model(32, 1), "test", limit=200)
    assert x.shape == (200, 32, 32, 1) and np.bincount(y).tolist() == [20] * 10
    assert labels[0] == "T-shirt/top"
    if os.access(FASHION_DIR, os.R_OK):
        assert open_source(str(FASHION_DIR)).labels == labels  # the IDX directory knows it is Fashion-MNIST

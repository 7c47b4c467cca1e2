"""Tiny data sets written on the fly: image folders (with a corrupt and a grey file) and IDX files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

CLASSES = ("apple", "banana", "cherry")


def write_idx(path: Path, array: np.ndarray, *, gz: bool) -> Path:
    """Writes ``array`` (uint8) as an IDX file, gzipped or raw."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def make_idx_dir(root: Path, *, gz: bool, n_train: int = 40, n_test: int = 10, classes: int = 4, seed: int = 0) -> Path:
    """An MNIST-style IDX directory with ``train-*`` and ``t10k-*`` files."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % classes).astype(np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", images, gz=gz)
        write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz=gz)
    return root


def make_image_folder(root: Path, *, per_class: int = 8, classes=CLASSES, grey: bool = False, seed: int = 0) -> Path:
    """``root/<class>/<i>.<ext>`` random images of various sizes and formats."""
    rng = np.random.default_rng(seed)
    extensions = (".png", ".jpg", ".bmp", ".webp", ".jpeg", ".PNG")
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = (int(v) for v in rng.integers(20, 60, 2))
            shape = (h, w) if grey else (h, w, 3)
            image = rng.integers(0, 256, shape, dtype=np.uint8)
            assert cv2.imwrite(str(folder / f"{i:03d}{extensions[i % len(extensions)]}"), image)
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Three colour classes of 8 images, plus one grey image and one corrupt file."""
    root = make_image_folder(tmp_path / "images")
    rng = np.random.default_rng(1)
    assert cv2.imwrite(str(root / "apple" / "grey.png"), rng.integers(0, 256, (30, 40), dtype=np.uint8))
    (root / "banana" / "broken.jpg").write_bytes(b"this is not an image")
    return root


@pytest.fixture
def idx_writer():
    """:func:`write_idx`."""
    return write_idx


@pytest.fixture
def idx_dir_factory():
    """:func:`make_idx_dir`."""
    return make_idx_dir


@pytest.fixture
def folder_factory():
    """:func:`make_image_folder`."""
    return make_image_folder

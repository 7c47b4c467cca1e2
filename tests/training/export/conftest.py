"""Fixtures for export tests: a generated image folder and a tiny Keras classifier trained on it (once per session).

The images are three classes of grey 20x20 pictures (dark, mid, bright, with noise) that a tiny network learns in
a few epochs, so verification numbers mean something. Everything is generated in the test's temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

CLASSES = ("bright", "dark", "mid")
SIZE = 16


def _write_image_folder(root: Path, per_class: int = 40, seed: int = 0) -> Path:
    import cv2

    rng = np.random.default_rng(seed)
    levels = {"dark": 50, "mid": 128, "bright": 205}
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = np.clip(rng.normal(levels[name], 30, (20, 20)), 0, 255).astype(np.uint8)
            cv2.imwrite(str(root / name / f"{i:03d}.png"), image)
    return root


def build_tiny_model(keras, *, activation: str = "relu", classes: int = len(CLASSES)):
    """A small raw-pixel classifier with the zoo's contract: 0..255 in, Rescaling inside, softmax out."""
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescaling")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation(activation)(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """A class-folder dataset (3 classes x 40 grey PNGs)."""
    return _write_image_folder(tmp_path_factory.mktemp("export_data") / "images")


@pytest.fixture(scope="session")
def tiny_keras(tmp_path_factory, image_folder) -> Path:
    """A tiny classifier trained for a few epochs on :func:`image_folder`, saved as a bare ``.keras`` file."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.training._tf import import_tf
    from edgecnn.training.data import load_arrays

    _, keras = import_tf()
    keras.utils.set_random_seed(0)
    x, y, _ = load_arrays(str(image_folder), Preprocessing.for_model(SIZE, 1), "train")
    model = build_tiny_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.astype("float32"), y, epochs=15, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("export_model") / "tiny.keras"
    model.save(path)
    return path


class _Helpers:
    classes = CLASSES
    size = SIZE
    build_tiny_model = staticmethod(build_tiny_model)
    write_image_folder = staticmethod(_write_image_folder)


@pytest.fixture(scope="session")
def helpers() -> type[_Helpers]:
    """Constants and builders of this conftest (test modules cannot import it under importlib mode)."""
    return _Helpers


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, image_folder) -> Path:
    """A real run directory from ``edgecnn.training.train.train``: MobileNet V1 x0.25 at 32 px, one epoch."""
    from edgecnn.training.train import train

    out = tmp_path_factory.mktemp("export_run") / "run"
    train("mobilenet_v1", str(image_folder), out, alpha=0.25, size=32, epochs=1, batch_size=16, progress=False)
    return out

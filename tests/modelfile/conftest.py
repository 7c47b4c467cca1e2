"""Fixtures of the model-file tests: real ``.tflite`` files, one per quantisation scheme, converted once per session.

A tiny untrained colour classifier (Rescaling, convolution, depthwise convolution, ReLU6, pooling, softmax) goes
through edgecnn's own converter (``edgecnn.training.export.converter.convert``) for every scheme, so the files
hold what real exports hold: float16 weights with DEQUANTIZE, int8 weights with float activations, per-channel
int8 weights with uint8 or float I/O. The shipped Fashion-MNIST model adds a file written by edgecnn 0.1.0.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
#: (scheme, I/O dtype) of each converted file; the file is named ``<scheme>_<io>.tflite``.
CONVERSIONS = (
    ("float32", "float32"),
    ("float16", "float32"),
    ("dynamic", "float32"),
    ("int8", "uint8"),
    ("int8", "float32"),
)
SIZE = 12


def _tiny_model(keras):
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_colour")


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """``{"<scheme>_<io>": path}`` for :data:`CONVERSIONS`, plus ``"shipped"`` (the committed model)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgecnn.training._tf import import_tf
    from edgecnn.training.export.converter import convert

    _, keras = import_tf()
    keras.utils.set_random_seed(0)
    model = _tiny_model(keras)
    calibration = np.random.default_rng(0).integers(0, 256, (8, SIZE, SIZE, 3)).astype(np.uint8)
    out = tmp_path_factory.mktemp("model_files")
    files = {"shipped": SHIPPED}
    for scheme, io in CONVERSIONS:
        path = out / f"{scheme}_{io}.tflite"
        path.write_bytes(convert(model, scheme, io, calibration if scheme == "int8" else None).model_bytes)
        files[path.stem] = path
    return files

"""Fixtures of the device tests: tiny real .tflite models (made with TF's converter), videos, image folders and a
restartable MJPEG server on 127.0.0.1.

The models classify a frame's dominant colour: a 3x3 convolution (identity on the centre tap), global average
pooling and a softmax Dense layer map mean R, G, B to the classes red, green, blue and dark. That makes every
prediction checkable: a red BGR frame must come out "red" (which also proves the BGR -> RGB conversion).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `import device_helpers` (importlib import mode)

from device_helpers import COLOURS, LABELS, SIZE, MjpegServer, solid, write_video  # noqa: E402


def _keras_model(keras, *, rescale: bool, size: int = SIZE, head: bool = True):
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs) if rescale else inputs
    conv = keras.layers.Conv2D(3, 3, padding="same")
    x = conv(x)
    if head:
        x = keras.layers.GlobalAveragePooling2D()(x)
        dense = keras.layers.Dense(len(LABELS), activation="softmax")
        x = dense(x)
    model = keras.Model(inputs, x)
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        kernel[1, 1, c, c] = 1.0
    conv.set_weights([kernel, np.zeros(3, np.float32)])
    if head:
        weights = np.array([[6, 0, 0, -6], [0, 6, 0, -6], [0, 0, 6, -6]], np.float32)
        dense.set_weights([weights, np.array([0, 0, 0, -2], np.float32)])
    return model


def _representative(rescale: bool):
    def generate():
        rng = np.random.default_rng(0)
        for i in range(24):
            image = rng.integers(0, 256, (1, SIZE, SIZE, 3)).astype(np.float32)
            if i < 4:  # solid colours, so that the output range covers confident predictions
                image[:] = np.array(list(COLOURS.values())[i][::-1], np.float32)
            if i == 0:  # pin the input range to exactly 0..255 (scale 1.0, zero point 0), as export does
                image[0, 0, 0, 0], image[0, 0, 1, 0] = 0.0, 255.0
            yield [image if rescale else image / 127.5 - 1.0]

    return generate


def _convert(tf, model, *, int8: bool, rescale: bool = True) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(rescale)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    return converter.convert()


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Paths of: ``float`` and ``int8`` (uint8 I/O) models with edgecnn metadata; ``plain`` (float, no metadata,
    expects inputs in [-1, 1] so it needs ``--mean 127.5 --std 127.5``); ``features`` (4-D output, not a class
    vector); ``labels`` (a labels file for ``plain``)."""
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.modelfile.metadata import ModelMetadata
    from edgecnn.modelfile.metadata_writer import embed_metadata
    from edgecnn.training._tf import import_tf

    tf, keras = import_tf()
    out = tmp_path_factory.mktemp("models")
    metadata = ModelMetadata(labels=LABELS, preprocessing=Preprocessing.for_model(SIZE, 3), arch="tiny_colour")
    paths = {}
    with_rescale = _keras_model(keras, rescale=True)
    for name, int8 in (("float", False), ("int8", True)):
        paths[name] = out / f"colour_{name}.tflite"
        paths[name].write_bytes(embed_metadata(_convert(tf, with_rescale, int8=int8), metadata))
    paths["plain"] = out / "colour_plain.tflite"
    paths["plain"].write_bytes(_convert(tf, _keras_model(keras, rescale=False), int8=False, rescale=False))
    paths["features"] = out / "features.tflite"
    paths["features"].write_bytes(_convert(tf, _keras_model(keras, rescale=True, head=False), int8=False))
    paths["labels"] = out / "labels.txt"
    paths["labels"].write_text("\n".join(LABELS) + "\n")
    return paths


@pytest.fixture
def colour_video(tmp_path) -> Path:
    """30 frames: 8 red, 8 green, 8 blue, 6 dark (see :data:`COLOUR_SEQUENCE`)."""
    return write_video(tmp_path / "colours.avi")


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """PNG/JPEG images named so that name order is blue, dark, green, red, plus a non-image file."""
    import cv2

    folder = tmp_path / "images"
    folder.mkdir()
    for i, colour in enumerate(["blue", "dark", "green", "red"]):
        cv2.imwrite(str(folder / f"{i:02d}_{colour}.{'png' if i % 2 else 'jpg'}"), solid(colour))
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def mjpeg_server():
    server = MjpegServer().start()
    yield server
    server.stop()

"""Regenerates the ``.tflite`` files the tests read (needs TensorFlow; the tests themselves do not).

    python tools/make_test_fixtures.py      # rewrites tests/device/fixtures/ and tests/modelfile/fixtures/

tests/device/fixtures/ (a few KB each): tiny models that classify a frame's dominant colour. A 3x3 convolution
(identity on the centre tap), global average pooling and a softmax Dense layer map mean R, G, B to the classes
red, green, blue and dark, so every prediction is checkable: a red BGR frame must come out "red" (which also
proves the BGR -> RGB conversion).
    colour_float.tflite  float, edgecnn metadata (labels, preprocessing), Rescaling in the model
    colour_int8.tflite   full int8 with uint8 I/O (input scale 1.0, zero point 0), edgecnn metadata
    colour_plain.tflite  float, no metadata, expects inputs in [-1, 1]: needs ``--mean 127.5 --std 127.5``
    features.tflite      float, 4-D output (not a class vector), no metadata
    colour_uint8_input.tflite, colour_int8_input.tflite
                         foreign quantised classifiers (no metadata, 16x16): a float network trained on inputs in
                         [-1, 1], quantised with uint8 or int8 input as such files are made elsewhere (input scale
                         ~1/127.5, zero point ~128 or ~0)

tests/modelfile/fixtures/: a tiny untrained colour classifier (Rescaling, convolution, depthwise convolution,
ReLU6, pooling, softmax) through edgecnn's own converter (``edgecnn.training.export.converter.convert``) for every
scheme, so the files hold what real exports hold: float16 weights with DEQUANTIZE, int8 weights with float
activations, per-channel int8 weights with uint8 or float I/O; named ``<scheme>_<io>.tflite``.

Seeded and deterministic: a rerun with the same TensorFlow rewrites the same bytes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEVICE_FIXTURES = REPO / "tests" / "device" / "fixtures"
MODELFILE_FIXTURES = REPO / "tests" / "modelfile" / "fixtures"
sys.path[:0] = [str(REPO), str(REPO / "tests" / "device")]  # this checkout's edgecnn, device_helpers

from device_helpers import COLOURS, LABELS, SIZE  # noqa: E402

#: (scheme, I/O dtype) of each model-file fixture.
CONVERSIONS = (
    ("float32", "float32"),
    ("float16", "float32"),
    ("dynamic", "float32"),
    ("int8", "uint8"),
    ("int8", "float32"),
)
MODELFILE_SIZE = 12


def _keras_model(keras, *, rescale: bool, head: bool = True):
    inputs = keras.Input((SIZE, SIZE, 3))
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


def _tiny_model(keras):
    inputs = keras.Input((MODELFILE_SIZE, MODELFILE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_colour")


FOREIGN_SIZE = 16


def _foreign(tf, keras, input_type: str) -> bytes:
    inputs = keras.Input((FOREIGN_SIZE, FOREIGN_SIZE, 3))
    dense = keras.layers.Dense(len(LABELS), activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(inputs)))
    dense.set_weights([np.array([[6, 0, 0, -6], [0, 6, 0, -6], [0, 0, 6, -6]], np.float32), np.array([0, 0, 0, -2.0])])

    def representative():
        rng = np.random.default_rng(0)
        for i in range(16):
            image = rng.uniform(-1, 1, (1, FOREIGN_SIZE, FOREIGN_SIZE, 3)).astype(np.float32)
            image[0, 0, 0, :2] = -1.0, 1.0  # the input range is exactly [-1, 1]
            if i < 4:
                image[0, 1:] = np.array(list(COLOURS.values())[i][::-1]) / 127.5 - 1.0
            yield [image]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = getattr(tf, input_type)
    converter.inference_output_type = tf.uint8
    return converter.convert()


def device_fixtures(tf, keras) -> dict[Path, bytes]:
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.modelfile.metadata import ModelMetadata
    from edgecnn.modelfile.metadata_writer import embed_metadata

    metadata = ModelMetadata(labels=LABELS, preprocessing=Preprocessing.for_model(SIZE, 3), arch="tiny_colour")
    with_rescale = _keras_model(keras, rescale=True)
    return {
        DEVICE_FIXTURES / "colour_float.tflite": embed_metadata(_convert(tf, with_rescale, int8=False), metadata),
        DEVICE_FIXTURES / "colour_int8.tflite": embed_metadata(_convert(tf, with_rescale, int8=True), metadata),
        DEVICE_FIXTURES / "colour_plain.tflite": _convert(
            tf, _keras_model(keras, rescale=False), int8=False, rescale=False
        ),
        DEVICE_FIXTURES / "features.tflite": _convert(tf, _keras_model(keras, rescale=True, head=False), int8=False),
        **{
            DEVICE_FIXTURES / f"colour_{input_type}_input.tflite": _foreign(tf, keras, input_type)
            for input_type in ("uint8", "int8")
        },
    }


def modelfile_fixtures(keras) -> dict[Path, bytes]:
    from edgecnn.training.export.converter import convert

    keras.backend.clear_session()  # layer names as in a fresh process, whatever was built before
    keras.utils.set_random_seed(0)
    model = _tiny_model(keras)
    calibration = np.random.default_rng(0).integers(0, 256, (8, MODELFILE_SIZE, MODELFILE_SIZE, 3)).astype(np.uint8)
    return {
        MODELFILE_FIXTURES / f"{scheme}_{io}.tflite": convert(
            model, scheme, io, calibration if scheme == "int8" else None
        ).model_bytes
        for scheme, io in CONVERSIONS
    }


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgecnn.core.files import write_bytes_atomic
    from edgecnn.core.quiet import quiet
    from edgecnn.training._tf import import_tf

    with quiet("edgecnn-fixtures-") as captured:  # the converter's chatter goes to a log file
        tf, keras = import_tf()
        files = {**device_fixtures(tf, keras), **modelfile_fixtures(keras)}
    captured.discard()
    for path, data in files.items():
        write_bytes_atomic(path, data)
        print(f"wrote {path.relative_to(REPO)} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()

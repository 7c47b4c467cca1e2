"""``edgecnn export --input-rgb``: a grey model wrapped to take RGB, with a fixed RGB-to-grey conversion inside.

Frameworks that only feed RGB (MediaPipe Tasks refuses a 1-channel input) can then run a grey-trained model. The
conversion is a 1x1 convolution with ITU-R BT.601 weights (OpenCV's ``COLOR_RGB2GRAY``), not trainable, in front
of the unchanged model; the export then calibrates, converts and verifies the wrapped model on RGB images (grey
data sets are expanded to RGB by :func:`edgecnn.core.preprocessing.prepare`). It is an option, not the default:
in an int8 file the folded conversion is quantised and so not bit-identical to ``prepare()``'s grey conversion.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing

#: grey = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as OpenCV converts).
RGB_TO_GRAY = (0.299, 0.587, 0.114)


def fold_rgb_to_gray(model):
    """A Keras model taking ``HxWx3`` RGB pixels that converts them to grey and runs ``model`` (``HxWx1``).

    Raises:
        EdgeCNNError: If ``model`` does not take a 1-channel image.
    """
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] != 1:
        raise EdgeCNNError(f"--input-rgb folds RGB-to-grey into a grey model; this model's input is {shape[1:]}")
    inputs = keras.Input((shape[1], shape[2], 3), name="image")
    conv = keras.layers.Conv2D(1, 1, use_bias=False, trainable=False, name="rgb_to_gray")
    outputs = model(conv(inputs))
    conv.set_weights([np.asarray(RGB_TO_GRAY, dtype=np.float32).reshape(1, 1, 3, 1)])
    return keras.Model(inputs, outputs, name=model.name)


def rgb_preprocessing(spec: Preprocessing) -> Preprocessing:
    """The preprocessing of the wrapped model: the grey spec with 3 RGB channels."""
    return dataclasses.replace(spec, channels=3, color_order="RGB")


def folded_record() -> dict:
    """What the edgecnn entry records about the folded conversion (``input_conversion``)."""
    weights = " + ".join(f"{w:g} {c}" for w, c in zip(RGB_TO_GRAY, "RGB", strict=True))
    return {
        "folded": "rgb-to-gray",
        "weights": list(RGB_TO_GRAY),
        "description": f"RGB in; grey = {weights} inside the model (trained on grey images)",
    }

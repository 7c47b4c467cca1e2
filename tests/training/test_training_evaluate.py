"""The one batched Keras inference and the one top-k accuracy of the training side."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.training.evaluate import keras_probabilities, score, top_k_accuracy
from edgecnn.training.export.verify import compare

PROBS = np.array(
    [
        [0.7, 0.2, 0.1],  # true 0: top-1 hit
        [0.5, 0.4, 0.1],  # true 1: second
        [0.2, 0.3, 0.5],  # true 0: third
        [0.4, 0.4, 0.2],  # true 1: tied with class 0, which argmax picks first
    ]
)
Y = np.array([0, 1, 0, 1])


def test_top_k_accuracy():
    assert top_k_accuracy(PROBS, Y) == 0.25
    assert top_k_accuracy(PROBS, Y, 2) == 0.75
    assert top_k_accuracy(PROBS, Y, 3) == 1.0
    assert top_k_accuracy(PROBS, Y, 10) == 1.0  # k beyond the classes: every class counts
    assert top_k_accuracy(np.zeros((0, 3)), np.zeros(0)) == 0.0


def test_score_and_export_verification_use_it():
    result = score(PROBS, Y, ["a", "b", "c"])
    assert (result["top1"], result["top5"], result["top5_k"]) == (0.25, 1.0, 3)
    swapped = PROBS[:, [1, 0, 2]]  # classes 0 and 1 swap: row 0 now misses, row 1 now hits
    verification = compare(PROBS, swapped, Y)
    assert verification["keras_accuracy"] == 0.25
    assert verification["tflite_accuracy"] == top_k_accuracy(swapped, Y) == 0.25
    assert verification["accuracy_drop"] == 0.0
    assert verification["agreement"] == 0.5  # rows 2 and 3 keep their top-1


@pytest.fixture(scope="module")
def tiny_model():
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_keras_probabilities_in_batches_equal_one_call(tiny_model):
    pixels = np.random.default_rng(1).integers(0, 256, (10, 4, 4, 1), dtype=np.uint8)
    expected = np.asarray(tiny_model(pixels.astype(np.float32), training=False))
    probs = keras_probabilities(tiny_model, pixels, batch_size=4)  # batches of 4, 4 and 2
    assert probs.dtype == np.float32 and probs.shape == (10, 3)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert keras_probabilities(tiny_model, pixels[:0]).shape == (0, 3)

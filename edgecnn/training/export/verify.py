"""Export verification: the same real images through the Keras model and through the ``.tflite`` on the device runtime.

The ``.tflite`` side runs through :class:`edgecnn.device.runtime.Classifier` (exactly what the device runs,
input conversion included), so a mismatch between export and deployment shows up here, not on the Pi.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from edgecnn.training.evaluate import keras_probabilities, top_k_accuracy

#: Accuracy drop (fraction, Keras minus TFLite) above which export warns, and fails with ``--strict``.
MAX_ACCURACY_DROP = 0.02


def compare(keras_probs: np.ndarray, tflite_probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy of each side, top-1 agreement and probability differences, JSON-ready."""
    keras_top, tflite_top = keras_probs.argmax(axis=1), tflite_probs.argmax(axis=1)
    diff = np.abs(keras_probs - tflite_probs)
    keras_acc = top_k_accuracy(keras_probs, labels)
    tflite_acc = top_k_accuracy(tflite_probs, labels)
    return {
        "samples": len(labels),
        "keras_accuracy": keras_acc,
        "tflite_accuracy": tflite_acc,
        "accuracy_drop": keras_acc - tflite_acc,
        "agreement": float(np.mean(keras_top == tflite_top)),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
    }


def verify(model, tflite_path: str | os.PathLike, pixels: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Runs ``pixels`` through ``model`` (Keras) and the ``.tflite`` at ``tflite_path`` (device runtime); compares.

    Args:
        model: The Keras model that was exported.
        tflite_path: The exported file (with its edgecnn metadata, which the runtime reads).
        pixels: Raw ``uint8`` model pixels, ``NxHxWxC``, as :func:`edgecnn.core.preprocessing.prepare` makes them.
        labels: Integer class ids, ``N``.
    """
    from edgecnn.device.runtime import Classifier

    tflite_probs = Classifier(tflite_path).predict_pixels(pixels)
    return compare(keras_probabilities(model, pixels), tflite_probs, np.asarray(labels))

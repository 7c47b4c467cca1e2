"""Scoring a model on a data split: top-1/top-5, per-class accuracy and a confusion matrix.

Works on a run directory, a ``.keras`` file or a ``.tflite`` file. A ``.tflite`` runs through the device runtime
(:class:`edgecnn.device.runtime.Classifier`), with the preprocessing embedded in the file, so TensorFlow is not
needed for its inference; ``.keras`` files load through Keras. The one batched Keras inference
(:func:`keras_probabilities`) and the one top-k accuracy (:func:`top_k_accuracy`) live here; training, export
verification and the tools use them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training import runs

log = logging.getLogger(__name__)


def keras_probabilities(model, pixels: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class scores (float32, ``N x classes``) of a Keras model for model pixels (``NxHxWxC``), in batches.

    Each batch is converted to float32 on its own, so a large ``uint8`` split never exists as float32 at once.
    Runs on any Keras backend.

    Args:
        model: A Keras model whose input takes the pixels as :func:`edgecnn.core.preprocessing.prepare` makes them.
        pixels: Raw model pixels (``uint8`` or float).
        batch_size: Images per inference batch.
    """
    batches = [
        np.asarray(model.predict_on_batch(pixels[i : i + batch_size].astype(np.float32)), dtype=np.float32)
        for i in range(0, len(pixels), batch_size)
    ]
    if not batches:
        return np.zeros((0, int(model.outputs[0].shape[-1])), dtype=np.float32)
    return np.concatenate(batches)


def top_k_accuracy(probs: np.ndarray, y: np.ndarray, k: int = 1) -> float:
    """Fraction of rows whose true class is among the ``k`` highest scores (0.0 for no rows).

    Args:
        probs: Class scores, ``N x classes``.
        y: Integer class ids, ``N``.
        k: How many of the highest scores count (at most the number of classes; 1 is top-1 accuracy).
    """
    probs = np.asarray(probs)
    y = np.asarray(y, dtype=np.int64)
    if not len(y):
        return 0.0
    k = min(k, probs.shape[1])
    if k == 1:
        hits = probs.argmax(axis=1) == y
    else:
        hits = (np.argpartition(-probs, k - 1, axis=1)[:, :k] == y[:, None]).any(axis=1)
    return float(hits.mean())


def score(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy figures of class probabilities against integer labels.

    Returns:
        ``top1``, ``top5`` (top-k with k = min(5, classes)), ``per_class`` (label -> accuracy, None for a class
        absent from ``y``), ``confusion`` (rows: true class, columns: predicted, as lists), ``n``, ``labels``.
    """
    probs = np.asarray(probs)
    y = np.asarray(y, dtype=np.int64)
    classes = len(labels)
    if probs.ndim != 2 or probs.shape[0] != len(y):
        raise EdgeCNNError(f"expected {len(y)} rows of class scores, got shape {list(probs.shape)}")
    if probs.shape[1] != classes:
        raise EdgeCNNError(f"the model has {probs.shape[1]} outputs but the data has {classes} classes")
    pred = probs.argmax(axis=1)
    k = min(5, classes)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    support = confusion.sum(axis=1)
    per_class = {
        label: (round(float(confusion[i, i] / support[i]), 4) if support[i] else None) for i, label in enumerate(labels)
    }
    return {
        "top1": top_k_accuracy(probs, y, 1),
        "top5": top_k_accuracy(probs, y, k),
        "top5_k": k,
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "n": len(y),
        "labels": list(labels),
    }


def _tflite_predictor(path: Path):
    from edgecnn.device.runtime import Classifier

    classifier = Classifier(path)
    return classifier.preprocessing, classifier.labels, classifier.predict_pixels


def _keras_predictor(path: Path, spec: Preprocessing | None, batch_size: int):
    from edgecnn.training.train.checkpoint import load_model

    model = load_model(path)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if spec is None:
        if len(shape) != 3 or shape[2] not in (1, 3):
            raise EdgeCNNError(f"{path} does not take NHWC images (input shape {list(shape)})")
        spec = Preprocessing.for_model((shape[0], shape[1]), shape[2])
    elif spec.shape != shape:
        raise EdgeCNNError(f"preprocessing {spec.shape} does not match the model input {shape}")

    return spec, lambda pixels: keras_probabilities(model, pixels, batch_size)


def evaluate(
    model: str | os.PathLike,
    data: str | dict | None = None,
    split: str = "test",
    *,
    limit: int | None = None,
    batch_size: int = 128,
    confusion_png: Path | None = None,
    progress: bool = False,
    micro: bool = False,
) -> dict[str, Any]:
    """Scores a run directory, ``.keras`` or ``.tflite`` model on one split of a data source.

    Args:
        model: A run directory (its ``best.keras``), a ``.keras`` file (inside a run directory: that run's
            preprocessing and labels) or a ``.tflite`` file (preprocessing and labels from its metadata).
        data: A ``--data`` source or a run's data config; None for the run's recorded data (required for a
            ``.tflite`` or a ``.keras`` outside a run).
        split: "test" (falls back to "val" when the source has none), "val" or "train".
        limit: Score a stratified subset of at most this many images.
        batch_size: Images per inference batch.
        confusion_png: Where to write the confusion matrix as a PNG.
        progress: Show a progress bar while decoding images.
        micro: Score a ``.tflite`` in TFLite Micro's interpreter instead of LiteRT, and compare the two
            (``result["micro"]``: arena, flash, boards and the agreement/step figures of
            :func:`edgecnn.device.micro_compare.compare_runtimes`).

    Returns:
        ``top1``, ``top5``, ``per_class``, ``confusion``, ``n``, ``labels``, plus ``model``, ``data``, ``split``
        (and ``micro`` with ``micro=True``).

    Raises:
        EdgeCNNError: For a missing model or data, or labels that do not match the model; with ``micro``, a
            missing ``tflite_micro``, a file that is not a ``.tflite`` or a model TFLM cannot run.
    """
    from edgecnn.training.data import load_arrays

    path = Path(model)
    if not path.exists():
        raise EdgeCNNError(f"model not found: {path}")
    run = None
    if path.is_dir():
        run = runs.load_run(path)
        path = run.best_model_path
        if not path.is_file():
            raise EdgeCNNError(f"{run.path} has no {runs.BEST} yet (training has not finished an epoch)")
    elif path.suffix == ".keras" and runs.is_run_dir(path.parent):
        run = runs.load_run(path.parent)

    probed = None
    if micro:
        if path.suffix != ".tflite":
            raise EdgeCNNError(f"--micro scores a .tflite file in TFLite Micro. Received {path}")
        from edgecnn.device.micro_inspect import not_loading_error
        from edgecnn.device.micro_probe import probe

        probed = probe(path)
        if not probed.loads:
            raise not_loading_error(probed.to_dict())
    if path.suffix == ".tflite":
        spec, model_labels, predict = _tflite_predictor(path)
    elif path.suffix in (".keras", ".h5"):
        spec, predict = _keras_predictor(path, run.preprocessing if run else None, batch_size)
        model_labels = run.labels if run else None
    else:
        raise EdgeCNNError(f"cannot evaluate {path}: expected a run directory, a .keras or a .tflite file")

    if data is None:
        if run is None:
            raise EdgeCNNError(f"--data is required to evaluate {path.name} (no run directory to take it from)")
        data = run.data
    x, y, data_labels = load_arrays(data, spec, split, limit=limit, progress=progress)
    labels = model_labels if model_labels is not None else data_labels
    if len(labels) != len(data_labels):
        raise EdgeCNNError(f"the model has {len(labels)} classes but the data has {len(data_labels)}")
    if list(labels) != list(data_labels) and not all(str(i) == lab for i, lab in enumerate(labels)):
        log.warning("the model's labels differ from the data's class names; scoring by class index")
    micro_result = None
    if probed is not None:
        from edgecnn.device.micro_compare import compare_runtimes, explain
        from edgecnn.device.micro_inspect import micro_summary

        compared = compare_runtimes(path, x, y, arena_bytes=probed.arena_bytes, keep_scores=True)
        probs = compared.pop("micro_scores")
        compared["explanation"] = explain(compared)
        micro_result = {**micro_summary(probed, path.stat().st_size), "verification": compared}
    else:
        probs = predict(x)
    result = score(probs, y, list(data_labels))
    result.update({"model": str(path), "data": data if isinstance(data, str) else data.get("source"), "split": split})
    if micro_result is not None:
        result["runtime"] = "tflite-micro"
        result["micro"] = micro_result
    if confusion_png is not None:
        from edgecnn.training.train.plots import plot_confusion

        plot_confusion(
            np.asarray(result["confusion"]),
            data_labels,
            confusion_png,
            title=f"{path.name}: top-1 {result['top1']:.4f} on {result['n']} images",
        )
    return result

"""What an export starts from: a training run directory, or a ``.keras`` file with or without its run.

A run directory (``config.json``, ``best.keras``, ``labels.txt``, ``metrics.json``) gives everything: the model,
labels, preprocessing, architecture, training metrics and the training data used for calibration and
verification. A bare ``.keras`` file gives only the model; its preprocessing is read from the model itself (input
size, channels, the ``Rescaling`` layer's mean/std) and its data must come from ``--calib-data``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.labels import LABELS_FILE, read_labels
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training.runs import is_run_dir


@dataclass
class ExportSource:
    """A model to export and what is known about it.

    Attributes:
        model_path: The ``.keras`` file.
        run_path: The training run directory, or None for a bare ``.keras`` file.
        labels: Class names (None: not known yet; taken from the calibration data or numbered).
        preprocessing: The training preprocessing (None: inferred from the model when loaded).
        model_info: Architecture record (``arch``, ``alpha``, ``separable``...; empty when unknown).
        data: The training data source (str or dict for :func:`edgecnn.training.data.load_arrays`), or None.
        metrics: Training metrics of the run.
    """

    model_path: Path
    run_path: Path | None = None
    labels: list[str] | None = None
    preprocessing: Preprocessing | None = None
    model_info: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)


def _from_run(run_path: Path, model_path: Path | None) -> ExportSource:
    from edgecnn.training.runs import load_run

    run = load_run(run_path)
    model_path = Path(model_path or run.best_model_path)
    if not model_path.is_file():
        raise EdgeCNNError(f"the run {run_path} has no trained model ({model_path} is missing; did training finish?)")
    return ExportSource(
        model_path=model_path,
        run_path=Path(run.path),
        labels=list(run.labels),
        preprocessing=run.preprocessing,
        model_info=dict(run.model or {}),
        data=run.data,
        metrics=dict(run.metrics or {}),
    )


def resolve_source(path: str | os.PathLike) -> ExportSource:
    """Resolves ``RUN_DIR`` or ``MODEL.keras`` (a ``.keras`` inside a run directory uses that run's records).

    Raises:
        EdgeCNNError: If the path is missing or is neither a run directory nor a ``.keras`` file.
    """
    path = Path(path)
    if not path.exists():
        raise EdgeCNNError(f"no such run directory or model file: {path}")
    if path.is_dir():
        if not is_run_dir(path):
            raise EdgeCNNError(f"{path} is not a training run (no config.json); pass a run directory or a .keras file")
        return _from_run(path, None)
    if path.suffix != ".keras":
        raise EdgeCNNError(f"expected a run directory or a .keras model file. Received {path}")
    if is_run_dir(path.parent):
        return _from_run(path.parent, path)
    labels_file = path.parent / LABELS_FILE
    return ExportSource(model_path=path, labels=read_labels(labels_file) if labels_file.is_file() else None)


def load_keras_model(path: Path):
    """Loads a ``.keras`` file uncompiled (one-line :class:`EdgeCNNError` when Keras cannot read it)."""
    from edgecnn.training.train.checkpoint import load_model

    return load_model(path, compile=False)


def _find_rescaling(model):
    for layer in model.layers:
        if type(layer).__name__ == "Rescaling":
            return layer
        if hasattr(layer, "layers"):
            found = _find_rescaling(layer)
            if found is not None:
                return found
    return None


def model_preprocessing(model) -> Preprocessing:
    """The preprocessing of a model that takes raw pixels: size and channels from its input, mean/std from its
    ``Rescaling`` layer (``y = x * scale + offset`` is ``(x - mean) / std`` with ``std = 1/scale``,
    ``mean = -offset/scale``); mean 0 / std 1 when the model has none.

    Raises:
        EdgeCNNError: If the input is not ``HxWx1`` or ``HxWx3`` with a fixed size.
    """
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] not in (1, 3) or shape[1] is None or shape[2] is None:
        raise EdgeCNNError(f"the model's input must be a fixed-size NHWC image with 1 or 3 channels, got {shape}")
    spec = Preprocessing.for_model((int(shape[1]), int(shape[2])), int(shape[3]))
    layer = _find_rescaling(model)
    if layer is None:
        return dataclasses.replace(spec, mean=(0.0,), std=(1.0,))
    scales, offsets = np.broadcast_arrays(
        np.atleast_1d(np.asarray(layer.scale, dtype=np.float64)),
        np.atleast_1d(np.asarray(layer.offset, dtype=np.float64)),
    )
    return dataclasses.replace(
        spec, mean=tuple(float(v) for v in -offsets / scales), std=tuple(float(v) for v in 1.0 / scales)
    )

"""Reading a training run directory (TensorFlow-free).

A run directory written by ``edgecnn train`` holds::

    config.json   model, preprocessing, data and train options, edgecnn version
    labels.txt    one class name per line
    best.keras    the model at the best validation accuracy (no optimizer)
    last.keras    the latest checkpoint with optimizer state; state.json says which epoch it ends
    history.csv   one row per epoch; curves.png plots it
    metrics.json  final validation/test accuracy, train time, images/s
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.labels import LABELS_FILE, read_labels
from edgecnn.core.preprocessing import Preprocessing

CONFIG = "config.json"
LABELS = LABELS_FILE
BEST = "best.keras"
LAST = "last.keras"
STATE = "state.json"
HISTORY = "history.csv"
METRICS = "metrics.json"
CURVES = "curves.png"


@dataclass
class RunInfo:
    """What a run directory says about its model.

    Attributes:
        path: The run directory.
        config: The whole ``config.json``.
        labels: Class names in output order.
        preprocessing: The model's preprocessing spec.
        model: ``arch``, ``alpha``, ``size`` ``[h, w]``, ``channels``, ``classes``, ``dropout``, ``separable``,
            ``stem_stride``, ``head_width``, ``scale_head``, ``depth`` (each absent in runs older than it: then the
            default of :data:`edgecnn.training.zoo.ARCH_KNOBS`).
        data: The data source and split settings (input to :func:`edgecnn.training.data.load_arrays`).
        best_model_path: ``best.keras``.
        metrics: ``metrics.json`` (empty while training has not finished).
    """

    path: Path
    config: dict[str, Any]
    labels: list[str]
    preprocessing: Preprocessing
    model: dict[str, Any]
    data: dict[str, Any]
    best_model_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def last_model_path(self) -> Path:
        return self.path / LAST

    @property
    def state(self) -> dict[str, Any]:
        """``state.json`` (epochs done, best so far), or an empty dict."""
        return _read_json(self.path / STATE) if (self.path / STATE).is_file() else {}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EdgeCNNError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise EdgeCNNError(f"{path} does not hold a JSON object")
    return doc


def is_run_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory with a ``config.json``."""
    return (Path(path) / CONFIG).is_file()


def load_run(path: str | os.PathLike) -> RunInfo:
    """Reads a run directory (or its ``config.json``).

    Raises:
        EdgeCNNError: If ``path`` is not a run directory or its config is incomplete.
    """
    path = Path(path)
    if path.is_file() and path.name == CONFIG:
        path = path.parent
    if not path.is_dir():
        raise EdgeCNNError(
            f"not a run directory: {path} does not exist"
            if not path.exists()
            else f"not a run directory: {path} is a file"
        )
    if not (path / CONFIG).is_file():
        raise EdgeCNNError(
            f"not a run directory: {path} has no {CONFIG} (train one with: edgecnn train ARCH --data SRC --out {path})"
        )
    config = _read_json(path / CONFIG)
    missing = [key for key in ("model", "preprocessing", "data") if not isinstance(config.get(key), dict)]
    if missing:
        raise EdgeCNNError(f"{path / CONFIG} lacks {', '.join(missing)}; not an edgecnn run config")
    labels = config.get("labels")
    if (path / LABELS).is_file():
        labels = read_labels(path / LABELS)
    if not labels:
        raise EdgeCNNError(f"{path} has no class labels ({LABELS} or config labels)")
    metrics = _read_json(path / METRICS) if (path / METRICS).is_file() else {}
    return RunInfo(
        path=path,
        config=config,
        labels=list(labels),
        preprocessing=Preprocessing.from_dict(config["preprocessing"]),
        model=dict(config["model"]),
        data=dict(config["data"]),
        best_model_path=path / BEST,
        metrics=metrics,
    )

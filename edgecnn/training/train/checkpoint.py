"""Writing a run directory while training: checkpoints, history, state and curves, every file atomically.

The layout is documented in :mod:`edgecnn.training.runs`, which reads it back without TensorFlow.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import atomic_path, write_json_atomic, write_text_atomic
from edgecnn.training import runs
from edgecnn.training._tf import import_tf
from edgecnn.training.train import schedules  # noqa: F401  (registers the schedules that last.keras refers to)
from edgecnn.training.train.plots import plot_curves

tf, keras = import_tf()
log = logging.getLogger(__name__)

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time_s")


def save_model_atomic(model, path: str | os.PathLike) -> None:
    """``model.save`` into a temporary ``.keras`` beside ``path``, renamed into place when complete."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def load_model(path: str | os.PathLike, *, compile: bool = False):
    """Loads a ``.keras`` model (ours or any Keras 3 file).

    Raises:
        EdgeCNNError: If the file is missing or not a loadable Keras model.
    """
    path = Path(path)
    if not path.is_file():
        raise EdgeCNNError(f"model file not found: {path}")
    try:
        return keras.models.load_model(path, compile=compile)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise EdgeCNNError(
            f"cannot load Keras model {path}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}"
        ) from None


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``history.csv`` (empty if there is none)."""
    path = run_dir / runs.HISTORY
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def write_history(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrites ``history.csv`` atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in HISTORY_FIELDS})
    write_text_atomic(run_dir / runs.HISTORY, buf.getvalue())


class RunCheckpoint(keras.callbacks.Callback):
    """Keeps the run directory current after every epoch.

    Writes ``last.keras`` (weights and optimizer), ``state.json``, ``history.csv`` and ``curves.png`` each epoch,
    and ``best.keras`` (an optimizer-free copy) when the monitored accuracy improves.

    Args:
        run_dir: The run directory.
        monitor: "val_accuracy", or "accuracy" when there is no validation split.
        state: The state to continue from (``epoch``, ``best``, ``best_epoch``, ``train_time_s``, ...).
        history: Rows of the epochs already done (on resume).
        bare_model: A model with the same architecture and no optimizer, for ``best.keras``.
        steps_per_epoch: Optimizer steps in one epoch (saved for resuming the schedule).
        images_per_epoch: Training images in one epoch (for images/s).
        student: The model to save when the fitted one wraps it (a distiller: its student, compiled with the
            same optimizer); None saves the fitted model.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        monitor: str,
        state: dict[str, Any],
        history: list[dict[str, Any]],
        bare_model,
        steps_per_epoch: int,
        images_per_epoch: int,
        student=None,
    ) -> None:
        super().__init__()
        self.student = student
        self.run_dir = run_dir
        self.monitor = monitor
        self.state = dict(state)
        self.state.setdefault("epoch", 0)
        self.state.setdefault("best", None)
        self.state.setdefault("best_epoch", None)
        self.state.setdefault("train_time_s", 0.0)
        self.state.setdefault("images_seen", 0)
        self.state["monitor"] = monitor
        self.state["steps_per_epoch"] = steps_per_epoch
        self.history = list(history)
        self.bare_model = bare_model
        self.images_per_epoch = images_per_epoch
        self._epoch_start = 0.0

    @property
    def saved_model(self):
        """The model written to ``best.keras`` / ``last.keras``."""
        return self.student or self.model

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = dict(logs or {})
        seconds = time.perf_counter() - self._epoch_start
        lr = self.model.optimizer.learning_rate
        row = {
            "epoch": epoch + 1,
            "loss": logs.get("loss"),
            "accuracy": logs.get("accuracy"),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy"),
            "lr": float(lr.numpy() if hasattr(lr, "numpy") else lr),
            "epoch_time_s": round(seconds, 2),
        }
        self.history.append({k: (round(float(v), 6) if isinstance(v, float) else v) for k, v in row.items()})
        self.state["train_time_s"] = round(self.state["train_time_s"] + seconds, 2)
        self.state["images_seen"] += self.images_per_epoch
        value = logs.get(self.monitor)
        if value is not None and (self.state["best"] is None or float(value) > self.state["best"]):
            self.state["best"] = float(value)
            self.state["best_epoch"] = epoch + 1
            self.bare_model.set_weights(self.saved_model.get_weights())
            save_model_atomic(self.bare_model, self.run_dir / runs.BEST)
        self.state["epoch"] = epoch + 1
        self.save_last()
        write_history(self.run_dir, self.history)
        plot_curves(self.history, self.run_dir / runs.CURVES)

    def save_last(self, interrupted: bool = False) -> None:
        """Writes ``last.keras`` then ``state.json`` (which names the epochs it completes)."""
        save_model_atomic(self.saved_model, self.run_dir / runs.LAST)
        self.state["interrupted"] = interrupted
        write_json_atomic(self.run_dir / runs.STATE, self.state)

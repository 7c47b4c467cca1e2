"""Figures of a run: training curves and confusion matrices (matplotlib, Agg backend, atomic writes).

TensorFlow-free, so that ``edgecnn eval`` on a ``.tflite`` can draw its confusion matrix without TF.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from edgecnn.core.files import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_curves(rows: Sequence[dict], path: str | os.PathLike) -> None:
    """Loss and accuracy per epoch (train and validation) as a two-panel PNG.

    Args:
        rows: ``history.csv`` rows: ``epoch``, ``loss``, ``accuracy`` and optionally ``val_loss``, ``val_accuracy``.
        path: Where to write the PNG.
    """
    plt = _pyplot()
    epochs = [int(r["epoch"]) for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "-s")):
            values = [r.get(prefix + key) for r in rows]
            if any(v not in (None, "") for v in values):
                ax.plot(
                    epochs,
                    [float(v) if v not in (None, "") else np.nan for v in values],
                    style,
                    markersize=3,
                    label="validation" if prefix else "train",
                )
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, labels: Sequence[str], path: str | os.PathLike, title: str = "") -> None:
    """A confusion matrix (rows: true class, columns: predicted), row-normalised colours and raw counts."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    n = len(labels)
    side = min(max(4.0, 0.55 * n + 2.0), 30.0)
    fig, ax = plt.subplots(figsize=(side, side))
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(n), labels=list(labels), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=list(labels), fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(
                        j,
                        i,
                        str(int(matrix[i, j])),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)

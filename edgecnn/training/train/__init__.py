"""Training (training side): the loop, schedules, run-directory checkpoints and curves.

``from edgecnn.training.train import train`` loads TensorFlow on first use; importing the package itself does not, so
TF-free modules (:mod:`edgecnn.training.train.plots`) stay importable without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from edgecnn.training.train.loop import train

__all__ = ["train"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from edgecnn.training.train.loop import train

        return train
    raise AttributeError(f"module 'edgecnn.training.train' has no attribute {name!r}")

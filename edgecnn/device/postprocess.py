"""From class probabilities to what the user sees: top-k with a threshold, and temporal smoothing.

Device side: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecnn.core.errors import EdgeCNNError


@dataclass(frozen=True)
class Label:
    """One ranked class."""

    index: int
    label: str
    score: float

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "score": round(self.score, 6)}


def top_k(scores: np.ndarray, labels: list[str], k: int = 3, threshold: float = 0.0) -> list[Label]:
    """The ``k`` best classes with ``score >= threshold``, best first (ties: lower index first).

    Args:
        scores: One probability (or score) per class.
        labels: Class names, one per score.
        k: How many classes at most.
        threshold: Classes scoring below it are left out, so the list may be shorter than ``k`` or empty.
    """
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    if np.isnan(scores).any():  # a broken float model: NaN classes rank last (and fail any threshold)
        scores = np.where(np.isnan(scores), -np.inf, scores)
    k = min(k, scores.size)
    if k <= 0:
        return []
    if k < scores.size:
        # O(n): find the k-th best score (a value: the same on every CPU), keep every class above it and the
        # lowest-index classes tied with it, then sort only those. Which tied indices np.argpartition keeps
        # depends on its SIMD path, so quantised scores (many ties) gave different lists on x86 and aarch64.
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)[: k - above.size]
        candidates = np.concatenate((above, tied))
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
    else:
        order = np.lexsort((np.arange(scores.size), -scores))
    return [Label(int(i), labels[i], float(scores[i])) for i in order if scores[i] >= threshold]


def check_selection(top_k: int, threshold: float) -> None:
    """Checks what a frame reports: ``top_k`` classes (>= 1) scoring at least ``threshold`` (in [0, 1]).

    Raises:
        EdgeCNNError: Naming the parameter that is out of range.
    """
    if top_k < 1:
        raise EdgeCNNError(f"top_k must be >= 1. Received top_k={top_k}", param="top_k")
    if not 0.0 <= threshold <= 1.0:
        raise EdgeCNNError(f"threshold must be in [0, 1]. Received threshold={threshold}", param="threshold")


def check_smoothing(smooth: float) -> None:
    """Checks an EMA weight (see :class:`EmaSmoother`): in (0, 1].

    Raises:
        EdgeCNNError: If it is out of range.
    """
    if not 0.0 < smooth <= 1.0:
        raise EdgeCNNError(f"smooth must be in (0, 1]. Received smooth={smooth}", param="smooth")


class EmaSmoother:
    """Exponential moving average of class scores over frames: ``s = alpha * new + (1 - alpha) * s``.

    Args:
        alpha: Weight of the newest frame, in (0, 1]; 1 disables smoothing, 0.2 averages over roughly the last
            ten frames (the EMA's effective window is ``2 / alpha - 1``).
    """

    def __init__(self, alpha: float) -> None:
        check_smoothing(alpha)
        self.alpha = float(alpha)
        self._state: np.ndarray | None = None

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """Updates the average with one frame's scores and returns it (a new array; never modified later)."""
        scores = np.asarray(scores, dtype=np.float32)
        if self._state is None or self._state.shape != scores.shape:
            self._state = scores.copy()
        else:
            self._state = self.alpha * scores + (1.0 - self.alpha) * self._state
        return self._state

    def reset(self) -> None:
        """Forgets the history (after a gap in the stream, such as a reconnect)."""
        self._state = None

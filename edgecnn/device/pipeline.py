"""The per-frame path: preprocess, invoke, postprocess, each stage timed.

One :class:`FramePipeline` holds one persistent :class:`~edgecnn.device.runtime.Classifier` (one interpreter for
the whole run, never one per frame). Preprocessing is the classifier's (``edgecnn.core.preprocessing.prepare`` and
the input tensor's dtype: a uint8 model gets the prepared uint8 pixels as they are).

Device side: numpy only (the classifier brings OpenCV and LiteRT).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from edgecnn.core.timestamps import utc_iso
from edgecnn.device.postprocess import EmaSmoother, Label, check_selection, top_k
from edgecnn.device.runtime import Classifier
from edgecnn.device.sources import Frame


@dataclass
class Prediction:
    """The result for one frame.

    Attributes:
        frame: Frame index in the source.
        timestamp: Capture time (Unix seconds).
        source: Source name.
        top: Ranked classes (after smoothing and threshold).
        timings: Seconds per stage (``wait``, ``preprocess``, ``invoke``, ``postprocess``, ``total``).
        name: File name for image folders.
        scores: All class scores (smoothed where smoothing is on).
    """

    frame: int
    timestamp: float
    source: str
    top: list[Label]
    timings: dict[str, float]
    name: str | None = None
    scores: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The JSON-lines record: times in ISO 8601 and Unix seconds, top-k, per-stage milliseconds."""
        record = {
            "time": utc_iso(self.timestamp, milliseconds=True),
            "timestamp": round(self.timestamp, 6),
            "frame": self.frame,
            "source": self.source,
        }
        if self.name is not None:
            record["file"] = self.name
        record["top_k"] = [label.to_dict() for label in self.top]
        record["ms"] = {stage: round(seconds * 1e3, 3) for stage, seconds in self.timings.items()}
        return record


class FramePipeline:
    """Frame -> prediction with one persistent interpreter.

    Args:
        classifier: The loaded model.
        k: Number of classes to report.
        threshold: Minimum score to report a class.
        smooth: EMA weight of the newest frame (see :class:`~edgecnn.device.postprocess.EmaSmoother`), or None.
        source: Source name written into predictions.
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        k: int = 3,
        threshold: float = 0.0,
        smooth: float | None = None,
        source: str = "",
    ) -> None:
        check_selection(k, threshold)
        self.classifier = classifier
        self.k = k
        self.threshold = threshold
        self.smoother = EmaSmoother(smooth) if smooth is not None else None
        self.source = source

    def process(self, frame: Frame, wait_s: float = 0.0) -> Prediction:
        """Classifies one frame, timing each stage."""
        clock = time.perf_counter
        c = self.classifier
        t0 = clock()
        model_input = c.to_input(c.prepare(frame.image))
        t1 = clock()
        raw = c.invoke(model_input)
        t2 = clock()
        scores = c.to_scores(raw)
        if self.smoother is not None:
            scores = self.smoother(scores)
        top = top_k(scores, c.labels, self.k, self.threshold)
        t3 = clock()
        timings = {"wait": wait_s, "preprocess": t1 - t0, "invoke": t2 - t1, "postprocess": t3 - t2, "total": t3 - t0}
        return Prediction(frame.index, frame.timestamp, self.source, top, timings, frame.name, scores)

    def reset(self) -> None:
        """Forgets smoothing history (call after a gap in the stream)."""
        if self.smoother is not None:
            self.smoother.reset()

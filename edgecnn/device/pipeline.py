"""The per-frame path: preprocess, invoke, postprocess, each stage timed.

One :class:`FramePipeline` holds one persistent :class:`~edgecnn.device.runtime.Classifier` (one interpreter for
the whole run, never one per frame). Preprocessing is the classifier's (``edgecnn.core.preprocessing.prepare`` and
the input tensor's dtype: a uint8 model gets the prepared uint8 pixels as they are).

The path has three parts so that they can run in different threads: :meth:`FramePipeline.prepare` (the frame to
the model's input, no interpreter involved), :meth:`FramePipeline.invoke` (the interpreter) and
:meth:`FramePipeline.finish` (postprocessing). :meth:`FramePipeline.process` runs them one after the other in the
caller's thread; ``edgecnn run`` runs each in its own thread (:mod:`edgecnn.device.stages`).

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


@dataclass
class PreparedFrame:
    """A frame turned into the model's input, waiting for the interpreter.

    Attributes:
        frame: The frame (its image stays for overlays and displays).
        model_input: The input tensor's contents (``HxWxC`` in the input dtype).
        preprocess_s: Seconds :meth:`FramePipeline.prepare` took.
    """

    frame: Frame
    model_input: np.ndarray
    preprocess_s: float


@dataclass
class InvokedFrame:
    """A prepared frame and the model's raw output for it, waiting for postprocessing.

    Attributes:
        prepared: The prepared frame.
        raw: The output tensor's row (a copy: the interpreter can run the next frame meanwhile).
        invoke_s: Seconds the invoke took (input copy, invoke, output copy).
        wait_s: Seconds the interpreter waited for the prepared frame (the ``wait`` stage).
    """

    prepared: PreparedFrame
    raw: np.ndarray
    invoke_s: float
    wait_s: float


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

    def prepare(self, frame: Frame) -> PreparedFrame:
        """A decoded frame to the model's input (thread-safe: it never touches the interpreter)."""
        c = self.classifier
        start = time.perf_counter()
        model_input = c.to_input(c.prepare(frame.image))
        return PreparedFrame(frame, model_input, time.perf_counter() - start)

    def invoke(self, prepared: PreparedFrame, wait_s: float = 0.0) -> InvokedFrame:
        """Runs the model on a prepared frame, timed (one thread at a time: the interpreter is not thread-safe)."""
        start = time.perf_counter()
        raw = self.classifier.invoke(prepared.model_input)
        return InvokedFrame(prepared, raw, time.perf_counter() - start, wait_s)

    def finish(self, invoked: InvokedFrame) -> Prediction:
        """Postprocesses an invoked frame (dequantise, smoothing, top-k) into its prediction with every stage's time."""
        start = time.perf_counter()
        c = self.classifier
        scores = c.to_scores(invoked.raw)
        if self.smoother is not None:
            scores = self.smoother(scores)
        top = top_k(scores, c.labels, self.k, self.threshold)
        post = time.perf_counter() - start
        pre, inv = invoked.prepared.preprocess_s, invoked.invoke_s
        timings = {
            "wait": invoked.wait_s,
            "preprocess": pre,
            "invoke": inv,
            "postprocess": post,
            "total": pre + inv + post,
        }
        frame = invoked.prepared.frame
        return Prediction(frame.index, frame.timestamp, self.source, top, timings, frame.name, scores)

    def process(self, frame: Frame, wait_s: float = 0.0) -> Prediction:
        """Classifies one frame in the caller's thread, timing each stage."""
        return self.finish(self.invoke(self.prepare(frame), wait_s))

    def reset(self) -> None:
        """Forgets smoothing history (call after a gap in the stream)."""
        if self.smoother is not None:
            self.smoother.reset()

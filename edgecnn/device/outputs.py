"""Where predictions go: JSON lines, an annotated video, an on-screen window, and the overlay they share.

Every output is a context manager: leaving it normally flushes and finalises (the video is renamed into place),
leaving it on an error discards what a half-finished file would hold. The overlay is drawn once per frame on
the frame itself (after inference, so the model never sees it), and only when an output needs it.

Device side: numpy and OpenCV.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import atomic_path
from edgecnn.device.pipeline import Prediction

VIDEO_CODECS = {".avi": "MJPG", ".mkv": "MJPG", ".mp4": "mp4v", ".mov": "mp4v"}


def draw_overlay(image: np.ndarray, prediction: Prediction, fps: float | None = None) -> np.ndarray:
    """Draws the top-k labels, FPS and invoke time onto ``image`` in place (a grey image is converted first).

    Returns:
        The BGR image drawn on (``image`` itself when it already is BGR).
    """
    import cv2

    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    height = image.shape[0]
    scale = max(0.35, height / 720.0)
    thickness = max(1, round(scale * 2))
    line_height = int(28 * scale) + 4
    lines = [(f"{label.label} {label.score * 100:.1f}%", (255, 255, 255)) for label in prediction.top]
    if not lines:
        lines = [("(below threshold)", (200, 200, 200))]
    status = f"invoke {prediction.timings.get('invoke', 0.0) * 1e3:.1f} ms"
    if fps:
        status = f"{fps:.1f} FPS  " + status
    lines.append((status, (0, 255, 255)))
    font = cv2.FONT_HERSHEY_SIMPLEX
    width = max(cv2.getTextSize(text, font, scale, thickness)[0][0] for text, _ in lines) + 12
    box_bottom = min(height, line_height * len(lines) + 8)
    # Darken the box behind the text (in place, on the region only) so it stays readable on any scene.
    region = image[:box_bottom, : min(width, image.shape[1])]
    region //= 3
    for i, (text, colour) in enumerate(lines):
        cv2.putText(image, text, (6, line_height * (i + 1)), font, scale, colour, thickness, cv2.LINE_AA)
    return image


class JsonlOutput:
    """Predictions as JSON lines on stdout (``-``) or appended to a file, flushed after every line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: TextIO | None = None
        self.lines = 0

    def __enter__(self) -> JsonlOutput:
        if self.path == "-":
            self._file = sys.stdout
        else:
            target = Path(self.path)
            if target.is_dir():
                raise EdgeCNNError(f"jsonl expects a file, got a directory: {target}", param="jsonl")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._file = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise EdgeCNNError(f"cannot open --jsonl {target}: {exc.strerror}") from None
        return self

    def write(self, record: dict | Prediction) -> None:
        """Writes one record (a :meth:`Prediction.to_dict` dict, or the prediction itself) as one line."""
        if isinstance(record, Prediction):
            record = record.to_dict()
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()
        self.lines += 1

    def __exit__(self, *exc_info) -> None:
        if self._file is not None and self._file is not sys.stdout:
            self._file.close()
        self._file = None


class VideoOutput:
    """An annotated video written atomically: it appears at ``path`` only when the run ends cleanly.

    Args:
        path: ``.avi``/``.mkv`` (Motion JPEG) or ``.mp4``/``.mov`` (MPEG-4 part 2).
        fps: Frame rate written into the file.
        realtime: For live sources: repeat frames so that the video plays in real time even when the model
            runs slower than ``fps``.
    """

    def __init__(self, path: str | os.PathLike, fps: float, realtime: bool = False) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise EdgeCNNError(
                f"save_video must end in {', '.join(VIDEO_CODECS)}. Received save_video={str(self.path)!r}",
                param="save_video",
            )
        if self.path.is_dir():
            raise EdgeCNNError(f"save_video expects a file, got a directory: {self.path}", param="save_video")
        self.fourcc = VIDEO_CODECS[suffix]
        self.fps = float(fps)
        self.realtime = realtime
        self._stack = contextlib.ExitStack()
        self._writer = None
        self._size: tuple[int, int] | None = None
        self._started = 0.0
        self.frames = 0

    def __enter__(self) -> VideoOutput:
        return self

    def _open(self, width: int, height: int) -> None:
        import cv2

        tmp = self._stack.enter_context(atomic_path(self.path))
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, (width, height))
        if not writer.isOpened():
            raise EdgeCNNError(f"cannot write video {self.path} (codec {self.fourcc} unavailable in this OpenCV)")
        self._writer, self._size, self._started = writer, (width, height), time.monotonic()

    def write(self, image: np.ndarray) -> None:
        """Appends one BGR frame (resized to the first frame's size where it differs)."""
        import cv2

        if self._writer is None:
            self._open(image.shape[1], image.shape[0])
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        copies = 1
        if self.realtime:
            due = int((time.monotonic() - self._started) * self.fps) + 1
            copies = max(1, due - self.frames)
        for _ in range(copies):
            self._writer.write(image)
        self.frames += copies

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._stack.__exit__(exc_type, exc, tb)  # renames on success, deletes the temporary file on error


def check_display() -> None:
    """Raises a one-line error where no window can be shown (no desktop session, or a headless OpenCV)."""
    import cv2

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise EdgeCNNError(
            "--display needs a desktop session (DISPLAY and WAYLAND_DISPLAY are not set); "
            "use --http HOST:PORT and open /stream, or --save-video, instead"
        )
    gui = [line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:")]
    if gui and gui[0].split(":", 1)[1].strip().upper() == "NONE":
        raise EdgeCNNError(
            "--display needs OpenCV with GUI support, but this is a headless build "
            "(opencv-python-headless); install opencv-python to show a window"
        )


class DisplayOutput:
    """An OpenCV window showing the annotated frames; ``q`` or Esc in the window stops the run."""

    WINDOW = "edgecnn"

    def __init__(self) -> None:
        check_display()
        self.stop_requested = False

    def __enter__(self) -> DisplayOutput:
        return self

    def show(self, image: np.ndarray) -> None:
        import cv2

        cv2.imshow(self.WINDOW, image)
        if cv2.waitKey(1) & 0xFF in (27, ord("q")):
            self.stop_requested = True

    def __exit__(self, *exc_info) -> None:
        import cv2

        with contextlib.suppress(cv2.error):
            cv2.destroyWindow(self.WINDOW)

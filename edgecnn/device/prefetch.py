"""The capture side of the camera loop: the next frame is decoded and prepared while the interpreter runs.

:class:`PrefetchingStream` runs a thread that takes a frame from a frame stream (:mod:`edgecnn.device.capture`),
decodes it and turns it into the model's input (:meth:`~edgecnn.device.pipeline.FramePipeline.prepare`), and
leaves the result in one slot. It takes a frame only once the slot is empty, that is when the loop has picked up
the previous prepared frame and starts to invoke it. So at most one prepared frame ever waits: for a live source
it is the newest frame at the moment the previous invoke started (never a queue of stale frames), for a file the
next frame in order. Decoding and preprocessing overlap the invoke (OpenCV and LiteRT release the GIL while they
work), so a model whose invoke takes longer than decode + prepare is fed as fast as it can run.

Device side: the standard library only.
"""

from __future__ import annotations

import logging
import threading

from edgecnn.device.capture import EndOfStream
from edgecnn.device.pipeline import FramePipeline, PreparedFrame
from edgecnn.device.sources import SourceError

log = logging.getLogger("edgecnn.device")


class PrefetchingStream:
    """Prepared frames from ``stream``, made one ahead by a thread (a context manager).

    Args:
        stream: An entered frame stream (:class:`~edgecnn.device.capture.SequentialStream`,
            :class:`~edgecnn.device.capture.LatestFrameStream`): the thread reads it, the caller opens and closes it.
        pipeline: Its :meth:`~edgecnn.device.pipeline.FramePipeline.prepare` makes the model input.
        poll_s: How long one wait for a live source's next frame lasts before the thread checks for a stop.
    """

    def __init__(self, stream, pipeline: FramePipeline, *, poll_s: float = 0.25) -> None:
        self.stream = stream
        self.pipeline = pipeline
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._slot: PreparedFrame | None = None
        self._error: BaseException | None = None
        self._ended = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="edgecnn-prepare", daemon=True)

    def __enter__(self) -> PrefetchingStream:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self, timeout: float = 1.5) -> None:
        """Stops the thread (after the frame it is preparing); waits at most ``timeout`` seconds."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "the preparing thread is blocked in a read of %s; leaving it behind", self.stream.status.name
                )

    def next(self, timeout: float | None = None) -> PreparedFrame | None:
        """The prepared frame, waiting up to ``timeout`` seconds for it; None if none came in that time.

        Raises:
            EndOfStream: When the source has ended and its last frame was delivered.
            Exception: Whatever reading or preparing a frame raised in the thread (a source that delivers nothing,
                an image that cannot be prepared), once the frames before it were delivered.
        """
        with self._cond:
            if self._slot is None and not self._ended:
                self._cond.wait(timeout)
            if self._slot is not None:
                prepared, self._slot = self._slot, None
                self._cond.notify_all()  # the thread may fetch the next frame now
                return prepared
            if self._error is not None:
                raise self._error
            if self._ended:
                raise EndOfStream
            return None

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while self._slot is not None and not self._stop:
                        self._cond.wait()
                    if self._stop:
                        return
                try:
                    frame = self.stream.next(self.poll_s)
                except EndOfStream:
                    return
                if frame is None:
                    continue
                try:
                    frame.decode()
                except SourceError as exc:
                    log.warning("skipping a frame: %s", exc)
                    continue
                prepared = self.pipeline.prepare(frame)
                with self._cond:
                    self._slot = prepared
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, which raises it in the main thread
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

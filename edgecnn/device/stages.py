"""The pipelined camera loop: stages in threads, each handing its result to the next through a single slot.

``edgecnn run`` chains three stages:

1. the capture side, :func:`preparing`: the next frame from the frame stream (:mod:`edgecnn.device.capture`),
   decoded and turned into the model's input (:meth:`~edgecnn.device.pipeline.FramePipeline.prepare`);
2. the interpreter, :func:`invoking`: the model run on that input
   (:meth:`~edgecnn.device.pipeline.FramePipeline.invoke`), which also times how long it waited for it;
3. the caller's thread: postprocessing and the outputs (:meth:`~edgecnn.device.pipeline.FramePipeline.finish`,
   JSON lines, HTTP, video, display), and signals.

The capture stage takes its next frame only once its slot is empty, that is once the interpreter picked the last
prepared frame up. So at most one prepared frame waits: for a live source it is the newest frame at the moment the
previous invoke started (never a queue of stale frames), for a file the next frame in order. The interpreter starts
the next invoke as soon as it has handed its result over (one result waits at most): waiting until the loop has
taken it would cost a GIL hand-over, 0.3 ms a frame. So the interpreter runs while the next frame is decoded and
prepared and the previous one is postprocessed and written out (OpenCV and LiteRT release the GIL while they work),
and a model whose invoke takes longer than decode + prepare is fed as fast as it runs. Postprocessing has its own
stage because after an invoke it runs on cold caches: 0.18 ms for 1000 classes against 0.04 ms when warm (measured
on this 2-core x86 machine), 5% of a 3.7 ms invoke.

Device side: the standard library only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from edgecnn.device.capture import EndOfStream
from edgecnn.device.pipeline import FramePipeline, InvokedFrame, PreparedFrame
from edgecnn.device.sources import Frame, SourceError

log = logging.getLogger("edgecnn.device")


class Stage:
    """A thread applying ``work`` to the items of ``upstream``, one result waiting at a time (a context manager).

    Args:
        upstream: Anything with ``next(timeout) -> item | None`` that raises
            :class:`~edgecnn.device.capture.EndOfStream` at the end: a frame stream or another stage. This stage
            reads it; whoever opened it closes it (after this stage).
        work: ``work(item, waited_s)`` -> the result, or None to skip the item; ``waited_s`` is how long the
            stage waited for the item once it was ready for one.
        name: The thread's name.
        ahead: Work on the next item while the last result still waits to be picked up (one more item in
            flight); otherwise take an item only once the slot is empty (the newest-frame rule for frames).
        poll_s: How long one wait for an item lasts before the thread checks for a stop.
    """

    def __init__(
        self,
        upstream,
        work: Callable[[Any, float], Any | None],
        *,
        name: str,
        ahead: bool = False,
        poll_s: float = 0.25,
    ) -> None:
        self.upstream = upstream
        self.work = work
        self.ahead = ahead
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._slot: Any = None
        self._error: BaseException | None = None
        self._ended = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Stage:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self, timeout: float = 1.5) -> None:
        """Stops the thread (after the item it is working on); waits at most ``timeout`` seconds."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the %s thread is blocked; leaving it behind", self._thread.name)

    def next(self, timeout: float | None = None) -> Any:
        """The next result, waiting up to ``timeout`` seconds for it; None if none came in that time.

        Raises:
            EndOfStream: When the upstream has ended and the last result was delivered.
            Exception: Whatever the upstream or ``work`` raised in the thread (a source that delivers nothing, an
                image that cannot be prepared, an interpreter error), once the results before it were delivered.
        """
        with self._cond:
            if self._slot is None and not self._ended:
                self._cond.wait(timeout)
            if self._slot is not None:
                result, self._slot = self._slot, None
                self._cond.notify_all()  # the thread may take the next item now
                return result
            if self._error is not None:
                raise self._error
            if self._ended:
                raise EndOfStream
            return None

    def _wait_for_an_empty_slot(self) -> bool:
        """Waits until the last result was picked up; False if the stage is stopping."""
        with self._cond:
            while self._slot is not None and not self._stop:
                self._cond.wait()
            return not self._stop

    def _run(self) -> None:
        clock = time.perf_counter
        try:
            while True:
                if not self.ahead and not self._wait_for_an_empty_slot():
                    return
                ready = clock()
                item = None
                while item is None:
                    try:
                        item = self.upstream.next(self.poll_s)
                    except EndOfStream:
                        return
                    if item is None and self._stop:
                        return
                result = self.work(item, clock() - ready)
                if result is None:
                    continue
                if not self._wait_for_an_empty_slot():
                    return
                with self._cond:
                    self._slot = result
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the next stage, which raises it in its thread
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()


def preparing(stream, pipeline: FramePipeline) -> Stage:
    """The capture-side stage: frames from ``stream``, decoded and prepared (undecodable ones skipped, logged)."""

    def work(frame: Frame, _waited_s: float) -> PreparedFrame | None:
        try:
            frame.decode()
        except SourceError as exc:
            log.warning("skipping a frame: %s", exc)
            return None
        return pipeline.prepare(frame)

    return Stage(stream, work, name="edgecnn-prepare")


def invoking(prepared: Stage, pipeline: FramePipeline) -> Stage:
    """The interpreter stage: each prepared frame invoked; the time it waited for one is the ``wait`` stage."""

    def work(item: PreparedFrame, waited_s: float) -> InvokedFrame:
        return pipeline.invoke(item, wait_s=waited_s)

    return Stage(prepared, work, name="edgecnn-invoke", ahead=True)

"""Frame delivery to the per-frame loop: in order for files, newest-only with reconnection for live sources.

:class:`SequentialStream` reads files and folders in the caller's thread: every frame, in order.
:class:`LatestFrameStream` runs the source in a capture thread that keeps only the newest frame (a slot, never
a queue: the loop never infers on a stale frame and memory never grows) and reopens a dropped camera or stream
with exponential backoff. The thread owns the source, so the device is always released by the thread that used
it. Both are context managers; :func:`frame_stream` picks one.

Device side: the standard library only (sources bring OpenCV).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.sources import Frame, FrameSource, SourceError

log = logging.getLogger("edgecnn.device")


class EndOfStream(Exception):
    """The source has no more frames (end of a file or folder)."""


@dataclass
class Backoff:
    """Exponential reconnect delays: ``initial``, doubled after every failure, at most ``maximum`` seconds."""

    initial: float = 0.5
    maximum: float = 10.0

    def __post_init__(self) -> None:
        self.delay = self.initial

    def next_delay(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2.0, self.maximum)
        return delay

    def reset(self) -> None:
        self.delay = self.initial


@dataclass
class SourceStatus:
    """What health checks and metrics report about the source."""

    name: str
    live: bool
    state: str = "starting"  # starting | waiting | ok | reconnecting | ended
    connected: bool = False
    reconnects: int = 0
    captured: int = 0
    dropped: int = 0
    last_error: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class SequentialStream:
    """Every frame of a file or folder, in order, read in the caller's thread.

    Args:
        source: The (unopened) source.
        loop: Start again at the first frame after the last one.
    """

    def __init__(self, source: FrameSource, loop: bool = False) -> None:
        self.source = source
        self.loop = loop
        self.status = SourceStatus(source.name, live=False)
        self._index = 0

    def __enter__(self) -> SequentialStream:
        self.source.open()
        self.status.state, self.status.connected = "ok", True
        return self

    def __exit__(self, *exc_info) -> None:
        self.source.close()
        self.status.connected = False

    @property
    def fps(self) -> float | None:
        return self.source.fps

    def next(self, timeout: float | None = None) -> Frame:
        """The next frame (``timeout`` is unused: files never make the caller wait long).

        Raises:
            EndOfStream: After the last frame (never with ``loop``).
        """
        frame = self.source.read()
        if frame is None and self.loop and self.status.captured:
            self.source.close()
            self.source.open()
            frame = self.source.read()
        if frame is None:
            self.status.state, self.status.connected = "ended", False
            if not self.status.captured:
                raise SourceError(f"no frame could be read from {self.source.name}")
            raise EndOfStream
        frame.index = self._index
        frame.timestamp = time.time()
        self._index += 1
        self.status.captured += 1
        return frame


class LatestFrameStream:
    """A capture thread that keeps only the newest frame, and reconnects a live source that drops.

    Args:
        source: The (unopened) source.
        wait_for_source: Start even if the source cannot be opened yet (keep retrying); otherwise a source
            that cannot be opened, or opens but delivers no frame, is an error at start.
        pace_fps: Deliver at most this many frames per second (``--realtime`` playback of a file).
        end_on_eof: End the stream when ``read()`` returns None (files) instead of reconnecting (live).
        backoff: Reconnect delays.
        first_frame_timeout_s: How long the start waits for the first frame of a live source.
        stop: An event that, once set, makes the start give up waiting for that first frame (a signal arrived).
    """

    def __init__(
        self,
        source: FrameSource,
        *,
        wait_for_source: bool = False,
        pace_fps: float | None = None,
        end_on_eof: bool = False,
        backoff: Backoff | None = None,
        first_frame_timeout_s: float = 10.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.wait_for_source = wait_for_source
        self.pace_fps = pace_fps
        self.end_on_eof = end_on_eof
        self.backoff = backoff or Backoff()
        self.first_frame_timeout_s = first_frame_timeout_s
        self._external_stop = stop
        self.status = SourceStatus(source.name, live=not end_on_eof)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._delivered = -1
        self._seq = -1
        self._ended = False
        self._stop = threading.Event()
        self._opened = False
        self._thread = threading.Thread(target=self._run, name="edgecnn-capture", daemon=True)

    @property
    def fps(self) -> float | None:
        return self.pace_fps or self.source.fps

    def __enter__(self) -> LatestFrameStream:
        if self.wait_for_source:
            self.status.state = "waiting"
        else:
            self._open_first()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self, timeout: float = 1.5) -> None:
        """Stops the capture thread (which releases the source); waits at most ``timeout`` seconds."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the capture thread of %s is blocked in a read; leaving it behind", self.source.name)
        elif self._opened:  # never started (the first open failed after opening): release here
            self._release()

    def _open_first(self) -> None:
        self.source.open()
        self._opened = True
        deadline = time.monotonic() + self.first_frame_timeout_s
        while True:
            try:
                frame = self.source.read()
            except SourceError:
                frame = None
            if frame is not None:
                break
            if self._external_stop is not None and self._external_stop.is_set():
                return  # stopping anyway: the loop will see the stop before it asks for a frame
            if time.monotonic() > deadline or self.end_on_eof:
                self._release()
                raise SourceError(f"{self.source.name} opened but delivered no frame")
            time.sleep(0.05)
        self._connected()
        self._publish(frame)

    def _connected(self) -> None:
        if self.status.state == "reconnecting":
            self.status.reconnects += 1
            log.info("source %s reconnected (reconnect %d)", self.source.name, self.status.reconnects)
        self.status.state, self.status.connected, self.status.last_error = "ok", True, None
        self.backoff.reset()

    def _publish(self, frame: Frame) -> None:
        frame.timestamp = time.time()
        with self._cond:
            self._seq += 1
            if self._latest is not None:  # the loop never took the previous frame
                self.status.dropped += 1
            frame.index = self._seq
            self._latest = frame
            self.status.captured += 1
            self._cond.notify_all()

    def _release(self) -> None:
        try:
            self.source.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken device must not kill the daemon
            log.warning("closing %s failed: %s", self.source.name, exc)
        self._opened = False

    def _failed(self, message: str) -> None:
        if self.status.state != "waiting":
            if self.status.state != "reconnecting":
                log.warning("source %s dropped: %s; reconnecting", self.source.name, message)
            self.status.state = "reconnecting"
        self.status.connected, self.status.last_error = False, message
        self._release()
        self._stop.wait(self.backoff.next_delay())

    def _run(self) -> None:
        period = 1.0 / self.pace_fps if self.pace_fps else 0.0
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                if not self._opened:
                    try:
                        self.source.open()
                        self._opened = True
                    except Exception as exc:  # noqa: BLE001 - any open failure is retried
                        self._failed(str(exc))
                        continue
                try:
                    frame = self.source.read()
                except Exception as exc:  # noqa: BLE001 - any read failure is a dropped source
                    self._failed(str(exc))
                    continue
                if frame is None:
                    if self.end_on_eof:
                        break
                    self._failed("the source stopped delivering frames")
                    continue
                if self.status.state != "ok":
                    self._connected()
                self._publish(frame)
                if period:
                    next_at = max(next_at + period, time.monotonic() - period)
                    self._stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            if self._opened:
                self._release()
            with self._cond:
                self._ended = True
                if self.end_on_eof:
                    self.status.state = "ended"
                self.status.connected = False
                self._cond.notify_all()

    def next(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not delivered yet, waiting up to ``timeout`` seconds; None if none came.

        Raises:
            EndOfStream: When a file played with ``--realtime`` has ended and its last frame was delivered.
        """
        with self._cond:
            if self._seq <= self._delivered and not self._ended:
                self._cond.wait(timeout)
            if self._seq > self._delivered and self._latest is not None:
                frame, self._latest = self._latest, None
                self._delivered = self._seq
                return frame
            if self._ended and (self.end_on_eof or self._stop.is_set()):
                raise EndOfStream
            return None


def frame_stream(
    source: FrameSource,
    *,
    realtime: bool = False,
    loop: bool = False,
    wait_for_source: bool = False,
    backoff: Backoff | None = None,
    stop: threading.Event | None = None,
):
    """The stream for ``source``: newest-frame thread for live sources and ``realtime`` files, else in order.

    Raises:
        EdgeCNNError: If ``loop`` is asked for a live source.
    """
    if source.live:
        if loop:
            raise EdgeCNNError(f"loop only applies to files and folders, not to {source.name}", param="loop")
        return LatestFrameStream(source, wait_for_source=wait_for_source, backoff=backoff, stop=stop)
    if realtime:
        return _RealtimeFile(source, loop=loop)
    return SequentialStream(source, loop=loop)


class _RealtimeFile(LatestFrameStream):
    """A file played at its own frame rate; frames the loop is too slow for are dropped, like a camera's."""

    def __init__(self, source: FrameSource, loop: bool = False) -> None:
        self._looping = SequentialStream(source, loop=loop)
        super().__init__(_Reader(self._looping), end_on_eof=True)

    def __enter__(self) -> _RealtimeFile:
        self._looping.__enter__()
        self._opened = True
        self.pace_fps = self._looping.fps or 25.0
        self._thread.start()
        self.status.state, self.status.connected = "ok", True
        return self


class _Reader(FrameSource):
    """Adapts an opened :class:`SequentialStream` to the source interface (None at the end)."""

    def __init__(self, stream: SequentialStream) -> None:
        self.stream, self.name, self.live = stream, stream.source.name, False

    def open(self) -> None:
        pass

    def read(self) -> Frame | None:
        try:
            return self.stream.next()
        except EndOfStream:
            return None

    def close(self) -> None:
        self.stream.__exit__(None, None, None)

    @property
    def fps(self) -> float | None:  # type: ignore[override]
        return self.stream.fps

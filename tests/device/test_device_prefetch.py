"""The capture side of the pipelined loop: the next frame is prepared while the current one runs, at most one
prepared frame waits, live sources still give the newest frame, and failures reach the loop."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest
from device_helpers import COLOUR_SEQUENCE, wait_until

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.capture import EndOfStream, LatestFrameStream, SequentialStream
from edgecnn.device.pipeline import PreparedFrame
from edgecnn.device.prefetch import PrefetchingStream
from edgecnn.device.sources import Frame, FrameSource, open_source


class _RecordingPipeline:
    """Prepares frames (their mean grey value as the "input"), recording which ones and in which thread."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.prepared: list[int] = []
        self.threads: set[str] = set()
        self.fail_at = fail_at

    def prepare(self, frame: Frame) -> PreparedFrame:
        if frame.index == self.fail_at:
            raise EdgeCNNError(f"cannot prepare frame {frame.index}")
        self.prepared.append(frame.index)
        self.threads.add(threading.current_thread().name)
        return PreparedFrame(frame, np.array(frame.image.mean()), 0.0)


class _FastCamera(FrameSource):
    """A live source delivering numbered frames every ``period`` seconds."""

    name, live = "fast camera", True

    def __init__(self, period: float = 0.002) -> None:
        self.period, self.n = period, 0

    def open(self) -> None:
        pass

    def read(self) -> Frame:
        time.sleep(self.period)
        self.n += 1
        return Frame(np.full((8, 8, 3), self.n % 256, np.uint8))


class _ListStream:
    """A stream over fixed frames (``next`` like :class:`SequentialStream`)."""

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.status = type("Status", (), {"name": "list"})()

    def next(self, timeout=None) -> Frame:
        if not self.frames:
            raise EndOfStream
        return self.frames.pop(0)


def _drain(prefetch: PrefetchingStream) -> list[PreparedFrame]:
    items = []
    while True:
        try:
            item = prefetch.next(timeout=5.0)
        except EndOfStream:
            return items
        assert item is not None, "no frame within 5 s"
        items.append(item)


def test_next_frame_is_prepared_while_the_current_one_runs(colour_video):
    pipeline = _RecordingPipeline()
    with SequentialStream(open_source(str(colour_video))) as stream, PrefetchingStream(stream, pipeline) as prefetch:
        first = prefetch.next(timeout=5.0)
        assert first.frame.index == 0
        # While the loop "invokes" frame 0 (no further call), the thread prepares frame 1 ...
        wait_until(lambda: pipeline.prepared == [0, 1], timeout=5)
        time.sleep(0.2)
        # ... and nothing more: at most one prepared frame waits.
        assert pipeline.prepared == [0, 1]
        taken = [first]
        for index in range(1, len(COLOUR_SEQUENCE)):
            taken.append(prefetch.next(timeout=5.0))
            # the same for every frame: the next one is prepared while this one is held
            wait_until(lambda i=index: len(pipeline.prepared) == min(i + 2, len(COLOUR_SEQUENCE)), timeout=5)
        with pytest.raises(EndOfStream):
            prefetch.next(timeout=5.0)
    assert [item.frame.index for item in taken] == list(range(len(COLOUR_SEQUENCE)))  # every frame, in order
    assert pipeline.threads == {"edgecnn-prepare"}  # prepared off the loop's thread


def test_live_source_still_gives_the_newest_frame():
    """With a model slower than the camera, each prepared frame is the newest one when the previous invoke started:
    never a queue of stale frames."""
    with LatestFrameStream(_FastCamera()) as stream, PrefetchingStream(stream, _RecordingPipeline()) as prefetch:
        seen = []
        for _ in range(8):
            newest_before = stream._seq  # the newest captured frame just before the loop takes the prepared one
            item = prefetch.next(timeout=5.0)
            seen.append((item.frame.index, newest_before))
            time.sleep(0.03)  # a slow invoke: the camera makes ~15 frames meanwhile
    indices = [index for index, _ in seen]
    assert indices == sorted(set(indices))
    # Frame k+1 was fetched after frame k was taken, so it is at least as new as anything captured before that.
    assert all(seen[k + 1][0] >= seen[k][1] for k in range(len(seen) - 1)), seen
    assert indices[-1] - indices[0] >= 2 * (len(indices) - 1), indices  # frames were skipped, not queued
    assert stream.status.dropped > 0


def test_a_failure_in_the_thread_reaches_the_loop_after_the_frames_before_it(colour_video):
    pipeline = _RecordingPipeline(fail_at=3)
    with SequentialStream(open_source(str(colour_video))) as stream, PrefetchingStream(stream, pipeline) as prefetch:
        items = [prefetch.next(timeout=5.0) for _ in range(3)]
        with pytest.raises(EdgeCNNError, match="cannot prepare frame 3"):
            prefetch.next(timeout=5.0)
    assert [item.frame.index for item in items] == [0, 1, 2]


def test_an_undecodable_frame_is_skipped_with_a_warning():
    import cv2

    jpeg = cv2.imencode(".jpg", np.full((8, 8, 3), 90, np.uint8))[1].tobytes()
    frames = [
        Frame(None, index=0, jpeg=jpeg),
        Frame(None, index=1, jpeg=b"not a jpeg"),
        Frame(None, index=2, jpeg=jpeg),
    ]
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())
    logger = logging.getLogger("edgecnn.device")
    logger.addHandler(handler)
    try:
        with PrefetchingStream(_ListStream(frames), _RecordingPipeline()) as prefetch:
            items = _drain(prefetch)
    finally:
        logger.removeHandler(handler)
    assert [item.frame.index for item in items] == [0, 2]
    assert items[0].frame.image.shape == (8, 8, 3)  # decoded in the thread
    assert len(warnings) == 1 and warnings[0].startswith("skipping a frame: frame 1: cannot decode")


def test_close_stops_the_thread_quickly():
    with LatestFrameStream(_FastCamera(period=0.01)) as stream:
        prefetch = PrefetchingStream(stream, _RecordingPipeline()).__enter__()
        prefetch.next(timeout=5.0)
        start = time.monotonic()
        prefetch.close()
        assert time.monotonic() - start < 1.0
        assert not prefetch._thread.is_alive()

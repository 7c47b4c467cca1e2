"""The stages of the pipelined loop: the next frame is prepared while the current one runs, at most one prepared
frame waits, live sources still give the newest frame, results keep their order, and failures reach the loop."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest
from device_helpers import COLOUR_SEQUENCE, wait_until

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.capture import EndOfStream, LatestFrameStream, SequentialStream
from edgecnn.device.pipeline import InvokedFrame, PreparedFrame
from edgecnn.device.sources import Frame, FrameSource, open_source
from edgecnn.device.stages import Stage, invoking, preparing


class _RecordingPipeline:
    """Prepares frames (their mean grey value as the "input"), recording which ones and in which thread."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.prepared: list[int] = []
        self.invoked: list[tuple[int, str, float]] = []
        self.threads: set[str] = set()
        self.fail_at = fail_at

    def prepare(self, frame: Frame) -> PreparedFrame:
        if frame.index == self.fail_at:
            raise EdgeCNNError(f"cannot prepare frame {frame.index}")
        self.prepared.append(frame.index)
        self.threads.add(threading.current_thread().name)
        return PreparedFrame(frame, np.array(frame.image.mean()), 0.0)

    def invoke(self, prepared: PreparedFrame, wait_s: float = 0.0) -> InvokedFrame:
        self.invoked.append((prepared.frame.index, threading.current_thread().name, wait_s))
        return InvokedFrame(prepared, prepared.model_input, 0.0, wait_s)


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


def _drain(stage: Stage) -> list[PreparedFrame]:
    items = []
    while True:
        try:
            item = stage.next(timeout=5.0)
        except EndOfStream:
            return items
        assert item is not None, "no frame within 5 s"
        items.append(item)


def test_next_frame_is_prepared_while_the_current_one_runs(colour_video):
    pipeline = _RecordingPipeline()
    with SequentialStream(open_source(str(colour_video))) as stream, preparing(stream, pipeline) as stage:
        first = stage.next(timeout=5.0)
        assert first.frame.index == 0
        # While the loop "invokes" frame 0 (no further call), the thread prepares frame 1 ...
        wait_until(lambda: pipeline.prepared == [0, 1], timeout=5)
        time.sleep(0.2)
        # ... and nothing more: at most one prepared frame waits.
        assert pipeline.prepared == [0, 1]
        taken = [first]
        for index in range(1, len(COLOUR_SEQUENCE)):
            taken.append(stage.next(timeout=5.0))
            # the same for every frame: the next one is prepared while this one is held
            wait_until(lambda i=index: len(pipeline.prepared) == min(i + 2, len(COLOUR_SEQUENCE)), timeout=5)
        with pytest.raises(EndOfStream):
            stage.next(timeout=5.0)
    assert [item.frame.index for item in taken] == list(range(len(COLOUR_SEQUENCE)))  # every frame, in order
    assert pipeline.threads == {"edgecnn-prepare"}  # prepared off the loop's thread


def test_the_interpreter_stage_runs_while_the_loop_postprocesses_in_order(colour_video):
    pipeline = _RecordingPipeline()
    with (
        SequentialStream(open_source(str(colour_video))) as stream,
        preparing(stream, pipeline) as prepared,
        invoking(prepared, pipeline) as invoked,
    ):
        first = invoked.next(timeout=5.0)
        # While the loop holds frame 0: frame 1's result waits, frame 2 was invoked (the interpreter works one
        # ahead) and frame 3 prepared; then both stages wait. Nothing more is taken from the source.
        wait_until(lambda: len(pipeline.invoked) == 3 and pipeline.prepared == [0, 1, 2, 3], timeout=5)
        time.sleep(0.2)
        assert len(pipeline.invoked) == 3 and pipeline.prepared == [0, 1, 2, 3]
        results = [first, *_drain(invoked)]
    assert [r.prepared.frame.index for r in results] == list(range(len(COLOUR_SEQUENCE)))
    assert {thread for _, thread, _ in pipeline.invoked} == {"edgecnn-invoke"}
    assert all(r.wait_s >= 0.0 for r in results)


def test_live_source_still_gives_the_newest_frame():
    """With a model slower than the camera, each prepared frame is the newest one when the previous invoke started:
    never a queue of stale frames."""
    with LatestFrameStream(_FastCamera()) as stream, preparing(stream, _RecordingPipeline()) as stage:
        seen = []
        for _ in range(8):
            newest_before = stream._seq  # the newest captured frame just before the loop takes the prepared one
            item = stage.next(timeout=5.0)
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
    with SequentialStream(open_source(str(colour_video))) as stream, preparing(stream, pipeline) as stage:
        items = [stage.next(timeout=5.0) for _ in range(3)]
        with pytest.raises(EdgeCNNError, match="cannot prepare frame 3"):
            stage.next(timeout=5.0)
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
        with preparing(_ListStream(frames), _RecordingPipeline()) as stage:
            items = _drain(stage)
    finally:
        logger.removeHandler(handler)
    assert [item.frame.index for item in items] == [0, 2]
    assert items[0].frame.image.shape == (8, 8, 3)  # decoded in the thread
    assert len(warnings) == 1 and warnings[0].startswith("skipping a frame: frame 1: cannot decode")


def test_close_stops_the_thread_quickly():
    with LatestFrameStream(_FastCamera(period=0.01)) as stream:
        stage = preparing(stream, _RecordingPipeline()).__enter__()
        stage.next(timeout=5.0)
        start = time.monotonic()
        stage.close()
        assert time.monotonic() - start < 1.0
        assert not stage._thread.is_alive()


def test_run_classifies_a_live_source_object_through_the_pipelined_loop(models, tmp_path):
    """``run(options, source=...)`` takes a source of one's own (the loop benchmark's in-memory camera)."""
    from device_helpers import read_jsonl, solid

    from edgecnn.device.daemon import run
    from edgecnn.device.run_config import RunOptions

    class RedCamera(_FastCamera):
        def read(self) -> Frame:
            time.sleep(self.period)
            return Frame(solid("red"))

    jsonl = tmp_path / "preds.jsonl"
    options = RunOptions(model=str(models["int8"]), max_frames=12, top_k=1, jsonl=str(jsonl))
    summary = run(options, source=RedCamera(period=0.005))
    assert summary["frames"] == 12 and summary["stopped_by"] == "max frames"
    assert [r["top_k"][0]["label"] for r in read_jsonl(jsonl)] == ["red"] * 12
    assert summary["source"] == "fast camera"
    assert summary["stages"]["preprocess"]["count"] == 12 and summary["stages"]["wait"]["count"] == 12


def test_run_keeps_opencv_single_threaded_while_it_runs_and_restores_it(models, tmp_path):
    """The preparing stage must not spread a resize over the interpreter's cores; the caller's setting comes back."""
    import cv2
    from device_helpers import solid

    from edgecnn.device.daemon import run
    from edgecnn.device.run_config import RunOptions

    class GreenCamera(_FastCamera):
        def read(self) -> Frame:
            time.sleep(self.period)
            return Frame(solid("green"))

    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        seen = []
        options = RunOptions(model=str(models["int8"]), max_frames=3, top_k=1)
        run(options, source=GreenCamera(period=0.005), on_start=lambda _info: seen.append(cv2.getNumThreads()))
        assert seen == [1]
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)

"""Sources and frame delivery: source strings, MJPEG parsing, newest-frame-only threading and reconnection."""

from __future__ import annotations

import time

import numpy as np
import pytest
from device_helpers import COLOUR_SEQUENCE, MjpegServer, wait_until

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.capture import Backoff, EndOfStream, LatestFrameStream, SequentialStream, frame_stream
from edgecnn.device.mjpeg import HttpStreamSource, part_bytes
from edgecnn.device.sources import CaptureSource, Frame, FrameSource, ImageFolderSource, Picamera2Source, open_source


def test_open_source_dispatch(colour_video, image_dir):
    assert isinstance(open_source(str(colour_video)), CaptureSource)
    assert not open_source(str(colour_video)).live
    assert isinstance(open_source(str(image_dir)), ImageFolderSource)
    camera = open_source("0")
    assert camera.live and camera.target == 0 and camera.name == "camera 0"
    assert isinstance(open_source("http://127.0.0.1:1/video"), HttpStreamSource)
    assert open_source("rtsp://user:secret@10.0.0.2/cam").name == "rtsp://user:***@10.0.0.2/cam"
    assert isinstance(open_source("picamera2"), Picamera2Source)
    with pytest.raises(EdgeCNNError, match="source not found"):
        open_source("/no/such/thing.avi")


def test_sequential_stream_reads_every_frame_in_order(colour_video):
    with SequentialStream(open_source(str(colour_video))) as stream:
        frames = []
        while True:
            try:
                frames.append(stream.next())
            except EndOfStream:
                break
    assert [f.index for f in frames] == list(range(len(COLOUR_SEQUENCE)))
    assert all(f.image.shape == (120, 160, 3) for f in frames)
    assert stream.status.captured == len(COLOUR_SEQUENCE)


def test_image_folder_skips_unreadable_images(image_dir):
    (image_dir / "99_broken.png").write_bytes(b"not a png")
    source = ImageFolderSource(image_dir)
    with source:
        names = []
        while (frame := source.read()) is not None:
            names.append(frame.name)
    assert names == ["00_blue.jpg", "01_dark.png", "02_green.jpg", "03_red.png"]
    assert source.skipped == ["99_broken.png"]


class _Counter(FrameSource):
    """A live source producing numbered frames as fast as asked, optionally failing on a schedule."""

    live = True

    def __init__(self, fail_at: set[int] | None = None, open_failures: int = 0, period: float = 0.002) -> None:
        self.name, self.n, self.fail_at, self.period = "counter", 0, fail_at or set(), period
        self.open_failures, self.opens, self.closes = open_failures, 0, 0

    def open(self):
        self.opens += 1
        if self.open_failures > 0:
            self.open_failures -= 1
            from edgecnn.device.sources import SourceError

            raise SourceError("not yet")

    def read(self):
        time.sleep(self.period)
        self.n += 1
        if self.n in self.fail_at:
            return None
        return Frame(np.full((4, 4, 3), self.n % 256, np.uint8))

    def close(self):
        self.closes += 1


def test_latest_frame_stream_never_delivers_stale_frames():
    source = _Counter()
    with LatestFrameStream(source) as stream:
        seen = []
        for _ in range(10):
            time.sleep(0.03)  # a slow consumer: the producer makes ~15 frames meanwhile
            frame = stream.next(timeout=1.0)
            seen.append((frame.index, stream._seq))
    indices = [index for index, _ in seen]
    assert indices == sorted(set(indices))  # strictly increasing: nothing repeated, nothing old
    assert all(newest - index <= 1 for index, newest in seen)  # each was the newest (or next-newest) frame
    assert stream.status.dropped > 10
    assert source.closes >= 1  # the capture thread released the source


def test_latest_frame_stream_reconnects_with_backoff():
    source = _Counter(fail_at={5, 6}, period=0.001)
    with LatestFrameStream(source, backoff=Backoff(initial=0.01, maximum=0.02)) as stream:
        wait_until(lambda: stream.status.reconnects >= 1 and stream.next(0.1) is not None, timeout=5)
    assert source.opens >= 2
    assert stream.status.state in ("ok", "reconnecting")


def test_wait_for_source_retries_until_it_opens():
    source = _Counter(open_failures=3)
    with LatestFrameStream(source, wait_for_source=True, backoff=Backoff(0.01, 0.02)) as stream:
        assert stream.status.state in ("waiting", "ok")
        frame = wait_until(lambda: stream.next(0.1), timeout=5)
        assert frame is not None and source.opens == 4
        assert stream.status.reconnects == 0 and stream.status.state == "ok"


def test_live_source_that_never_opens_is_an_error_without_wait():
    with pytest.raises(EdgeCNNError, match="not yet"), LatestFrameStream(_Counter(open_failures=1)):
        pass


def test_stop_ends_the_capture_thread_quickly():
    stream = LatestFrameStream(_Counter(period=0.01))
    stream.__enter__()
    start = time.monotonic()
    stream.close()
    assert time.monotonic() - start < 1.0
    assert not stream._thread.is_alive()


def test_frame_stream_picks_the_strategy(colour_video):
    assert isinstance(frame_stream(open_source(str(colour_video))), SequentialStream)
    assert isinstance(frame_stream(open_source(str(colour_video)), realtime=True), LatestFrameStream)
    assert isinstance(frame_stream(_Counter()), LatestFrameStream)


@pytest.mark.parametrize("content_length", [True, False])
def test_mjpeg_source_reads_parts(content_length):
    server = MjpegServer(fps=100, colour="green", content_length=content_length).start()
    try:
        with HttpStreamSource(server.url, timeout_s=2) as source:
            frames = [source.read().decode() for _ in range(5)]
    finally:
        server.stop()
    for frame in frames:
        assert frame.image.shape == (120, 160, 3)
        b, g, r = frame.image.reshape(-1, 3).mean(axis=0)
        assert g > 200 and b < 40 and r < 40
    assert [f.index for f in frames] == list(range(5))


def test_mjpeg_snapshot_url_is_polled():
    server = MjpegServer(colour="blue").start()
    try:
        with HttpStreamSource(f"http://127.0.0.1:{server.port}/snapshot.jpg", timeout_s=2) as source:
            first = source.read().decode()
            second = source.read().decode()
    finally:
        server.stop()
    assert first.image.shape == second.image.shape == (120, 160, 3)


def test_mjpeg_source_reports_a_dead_server():
    server = MjpegServer(fps=50).start()
    source = HttpStreamSource(server.url, timeout_s=1)
    source.open()
    assert source.read() is not None
    server.stop()

    def dropped():
        try:
            return source.read() is None
        except EdgeCNNError:
            return True

    assert wait_until(dropped, timeout=5)
    source.close()


def test_part_bytes_round_trip():
    part = part_bytes(b"\xff\xd8jpeg\xff\xd9")
    assert part.startswith(b"--edgecnnframe\r\nContent-Type: image/jpeg\r\nContent-Length: 8\r\n\r\n")
    assert part.endswith(b"\xff\xd8jpeg\xff\xd9\r\n")


def test_mjpeg_stream_restart_is_reconnected():
    server = MjpegServer(fps=50, colour="red").start()
    stream = LatestFrameStream(open_source(server.url), backoff=Backoff(0.05, 0.2))
    try:
        with stream:
            assert wait_until(lambda: stream.next(0.2), timeout=5).decode().image is not None
            server.stop()
            wait_until(lambda: stream.status.state == "reconnecting", timeout=10)
            assert not stream.status.connected and stream.status.last_error
            server.colour = "blue"
            server.start()  # same port
            frame = wait_until(
                lambda: (f := stream.next(0.2)) is not None and f.decode().image[..., 0].mean() > 200 and f, timeout=10
            )
            assert frame is not None
            assert stream.status.reconnects == 1 and stream.status.state == "ok"
    finally:
        server.stop()


def test_picamera2_missing_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "picamera2", None)  # make the import fail even where it is installed
    with pytest.raises(EdgeCNNError, match="picamera2 package"):
        Picamera2Source().open()


def test_picamera2_source_with_a_fake_camera(monkeypatch):
    """The Picamera2 calls we make (configure, lores YUV420 -> BGR, main for display, release)."""
    import sys
    import types

    import cv2

    events = []

    class Request:
        def make_array(self, name):
            if name == "lores":  # I420 of a uniform BGR (0, 0, 255) image
                yuv = cv2.cvtColor(np.full((240, 320, 3), (0, 0, 255), np.uint8), cv2.COLOR_BGR2YUV_I420)
                return yuv
            return np.zeros((480, 640, 3), np.uint8)

        def release(self):
            events.append("release")

    class Picamera2:
        def create_video_configuration(self, main, lores):
            events.append(("config", main["size"], lores["size"], lores["format"]))
            return {}

        def configure(self, config):
            events.append("configure")

        def start(self):
            events.append("start")

        def capture_request(self):
            return Request()

        def stop(self):
            events.append("stop")

        def close(self):
            events.append("close")

    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=Picamera2))
    with Picamera2Source() as camera:
        frame = camera.read()
    assert frame.image.shape == (240, 320, 3) and frame.display.shape == (480, 640, 3)
    assert frame.image[..., 2].mean() > 200 and frame.image[..., 0].mean() < 40
    assert frame.canvas is frame.display
    assert events[0] == ("config", (640, 480), (320, 240), "YUV420")
    assert events[-2:] == ["stop", "close"] and "release" in events

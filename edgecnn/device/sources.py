"""Frame sources: cameras, video files, network streams, GStreamer pipelines, image folders and Picamera2.

Every source is a context manager that always releases its device (the Picamera2 habit), and can be opened
again after a failure (the reconnect loop in :mod:`edgecnn.device.capture` relies on that). ``read()`` returns
the next :class:`Frame`, or None at the end of a file or when a live stream stops delivering.

:func:`open_source` turns the ``--source`` string into a source:

=================================  =====================================================================
``0``, ``1``, ``/dev/video0``      a V4L2 camera (USB webcam, or the Pi camera through libcamera's V4L2)
``picamera2``                      the Pi camera through Picamera2, inferring on its low-resolution stream
``rtsp://...``                     a network stream through FFmpeg
``tcp://HOST:PORT``                a raw H.264 (or MJPEG) stream such as ``rpicam-vid --listen`` serves,
                                   through FFmpeg with minimal probing (the first frame within ~0.1 s)
``http://...``, ``https://...``    an MJPEG stream (``multipart/x-mixed-replace``) or a JPEG snapshot URL;
                                   other HTTP media goes through FFmpeg
a string containing ``!``          a GStreamer pipeline ending in ``appsink``
a directory                        its images, in name order
a file                             a video file (or a single image)
=================================  =====================================================================

Device side: numpy, OpenCV and the standard library (plus ``picamera2`` where it is installed).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm")


class SourceError(EdgeCNNError):
    """A source that cannot be opened or stopped delivering frames."""


def cv2_quiet():
    """OpenCV, with its own warnings (``[ WARN:0@0.01] ...``) and FFmpeg's messages (``[tcp @ 0x...] Connection
    refused`` at every reconnect attempt) silenced: we report failures ourselves."""
    import cv2

    if not getattr(cv2_quiet, "_done", False):
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when FFmpeg is first used
        with contextlib.suppress(AttributeError):  # very old OpenCV has no cv2.utils.logging
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        cv2_quiet._done = True
    return cv2


@dataclass
class Frame:
    """One captured image and where it came from.

    Attributes:
        image: The image the model sees, as OpenCV delivers it (BGR or grey); None until :meth:`decode`
            for sources that deliver JPEG bytes.
        index: Position in the source (live sources count every captured frame, so skipped ones leave gaps).
        timestamp: Capture time (``time.time()``).
        display: A larger image to draw the overlay on (Picamera2's main stream), or None to use ``image``.
        name: The file name for image folders.
        jpeg: Encoded bytes still to decode (MJPEG streams decode only the frames that get classified).
    """

    image: np.ndarray | None
    index: int = 0
    timestamp: float = 0.0
    display: np.ndarray | None = None
    name: str | None = None
    jpeg: bytes | None = None

    def decode(self) -> Frame:
        """Decodes :attr:`jpeg` into :attr:`image` (once).

        Raises:
            SourceError: If the bytes are not a decodable image.
        """
        if self.image is None and self.jpeg is not None:
            cv2 = cv2_quiet()
            image = cv2.imdecode(np.frombuffer(self.jpeg, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise SourceError(f"frame {self.index}: cannot decode {len(self.jpeg)} bytes as an image")
            self.image, self.jpeg = image, None
        if self.image is None:
            raise SourceError(f"frame {self.index} has no image")
        return self

    @property
    def canvas(self) -> np.ndarray:
        """The image to draw on and to show: :attr:`display` where there is one, else :attr:`image`."""
        return self.display if self.display is not None else self.image


class FrameSource:
    """Base class: a re-openable context manager that yields frames.

    Attributes:
        name: How logs, JSON lines and metrics name the source.
        live: True for cameras and streams (newest frame only, reconnect on failure); False for files and
            folders (every frame, in order, end at the last one).
        fps: The source's nominal frame rate, or None when unknown.
    """

    name = "source"
    live = False
    fps: float | None = None

    def open(self) -> None:
        """Opens (or reopens) the source. Raises :class:`SourceError` if it cannot."""
        raise NotImplementedError

    def read(self) -> Frame | None:
        """The next frame, or None at the end of the stream (or when a live source stopped delivering)."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the device; safe to call twice or on a source that never opened."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


FFMPEG_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
"""OpenCV's FFmpeg backend reads demuxer options from this variable (``key;value|key;value``) when it opens."""
_ENVIRONMENT_LOCK = threading.Lock()


@contextlib.contextmanager
def _ffmpeg_options(options: str | None):
    """Sets OpenCV's FFmpeg options for one open (unless the user set the variable), then restores it."""
    if not options or FFMPEG_OPTIONS_VARIABLE in os.environ:
        yield
        return
    with _ENVIRONMENT_LOCK:
        os.environ[FFMPEG_OPTIONS_VARIABLE] = options
        try:
            yield
        finally:
            os.environ.pop(FFMPEG_OPTIONS_VARIABLE, None)


class CaptureSource(FrameSource):
    """Anything ``cv2.VideoCapture`` opens: V4L2 cameras, video files, RTSP/HTTP/TCP through FFmpeg, GStreamer.

    Args:
        target: Camera index, device path, file path, URL or GStreamer pipeline.
        api: OpenCV's backend constant (``cv2.CAP_V4L2``, ``cv2.CAP_FFMPEG``...), or ``cv2.CAP_ANY``.
        name: Display name.
        live: Whether this is a camera or stream.
        timeout_s: Open/read timeout for network streams (FFmpeg).
        ffmpeg_options: FFmpeg demuxer options for the open (``key;value|key;value``); a user's own
            ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` wins.
    """

    def __init__(
        self,
        target: int | str,
        api: int,
        name: str,
        live: bool,
        timeout_s: float = 5.0,
        ffmpeg_options: str | None = None,
    ) -> None:
        self.target, self.api, self.name, self.live = target, api, name, live
        self.timeout_s = timeout_s
        self.ffmpeg_options = ffmpeg_options
        self._capture = None
        self._index = 0

    def open(self) -> None:
        cv2 = cv2_quiet()
        self.close()
        params: list[int] = []
        if self.live and self.api in (cv2.CAP_FFMPEG, cv2.CAP_ANY):
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                int(self.timeout_s * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                int(self.timeout_s * 1000),
            ]
        try:
            with _ffmpeg_options(self.ffmpeg_options):
                capture = cv2.VideoCapture(self.target, self.api, params)
        except cv2.error as exc:
            raise SourceError(f"cannot open {self.name}: {exc}") from exc
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {self.name}")
        if self.live:
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # cameras: keep the driver queue short (ignored elsewhere)
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 0 < fps < 1000 else None
        self._capture = capture
        self._index = 0

    def read(self) -> Frame | None:
        if self._capture is None:
            raise SourceError(f"{self.name} is not open")
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        frame = Frame(image, index=self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class ImageFolderSource(FrameSource):
    """The images of a directory (or one image file), in name order; unreadable files are skipped."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.files: list[Path] = []
        self._position = 0
        self.skipped: list[str] = []

    def open(self) -> None:
        if self.path.is_dir():
            files = sorted(p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {self.path}")
        else:
            files = [self.path]
        self.files = files
        self._position = 0

    def read(self) -> Frame | None:
        cv2 = cv2_quiet()
        while self._position < len(self.files):
            path = self.files[self._position]
            index = self._position
            self._position += 1
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is not None and image.size:
                return Frame(image, index=index, name=path.name)
            self.skipped.append(path.name)
        return None


class Picamera2Source(FrameSource):
    """The Raspberry Pi camera through Picamera2: infer on the low-resolution ``lores`` stream, draw on ``main``.

    Args:
        main_size: Size of the main (display) stream.
        lores_size: Size of the low-resolution stream the model sees (YUV420 on every Pi model).
    """

    name = "picamera2"
    live = True

    def __init__(self, main_size: tuple[int, int] = (640, 480), lores_size: tuple[int, int] = (320, 240)) -> None:
        self.main_size, self.lores_size = main_size, lores_size
        self._camera = None
        self._index = 0

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise EdgeCNNError(
                f"--source picamera2 needs the picamera2 package ({exc}); on Raspberry Pi OS: "
                "sudo apt install python3-picamera2, and create the venv with --system-site-packages"
            ) from exc
        self.close()
        try:
            camera = Picamera2()
            config = camera.create_video_configuration(
                main={"size": self.main_size, "format": "RGB888"}, lores={"size": self.lores_size, "format": "YUV420"}
            )
            camera.configure(config)
            camera.start()
        except Exception as exc:  # picamera2 raises RuntimeError, IndexError (no camera), OSError...
            raise SourceError(f"cannot start the Pi camera: {exc}") from exc
        self._camera = camera
        self._index = 0

    def read(self) -> Frame | None:
        cv2 = cv2_quiet()
        if self._camera is None:
            raise SourceError("the Pi camera is not open")
        try:
            request = self._camera.capture_request()
        except Exception as exc:  # noqa: BLE001 - any camera failure is a dropped source
            raise SourceError(f"the Pi camera stopped: {exc}") from exc
        try:
            lores = request.make_array("lores")
            main = request.make_array("main")  # "RGB888" is BGR in memory: what OpenCV expects
        finally:
            request.release()
        image = cv2.cvtColor(lores, cv2.COLOR_YUV2BGR_I420)
        frame = Frame(image, index=self._index, display=main)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._camera is not None:
            camera, self._camera = self._camera, None
            try:
                camera.stop()
            finally:
                camera.close()


def _camera_index_of(spec: str) -> int | None:
    if spec.isdigit():
        return int(spec)
    match = re.fullmatch(r"/dev/video(\d+)", spec)
    return int(match.group(1)) if match else None


def open_source(spec: str | int, *, timeout_s: float = 5.0) -> FrameSource:
    """The :class:`FrameSource` for a ``--source`` string (not opened yet).

    Raises:
        EdgeCNNError: If the string names nothing usable (a missing file, a GStreamer pipeline without
            GStreamer support in this OpenCV build).
    """
    cv2 = cv2_quiet()
    spec = str(spec).strip()
    if not spec:
        raise EdgeCNNError("source is empty", param="source")
    lowered = spec.lower()
    if lowered == "picamera2":
        return Picamera2Source()
    if "!" in spec:
        if not cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
            raise EdgeCNNError(
                "this OpenCV build has no GStreamer support (the pip wheels have none); install "
                "OpenCV from your distribution (sudo apt install python3-opencv) to use a pipeline"
            )
        if "appsink" not in spec:
            spec += " ! appsink drop=true max-buffers=1"
        return CaptureSource(spec, cv2.CAP_GSTREAMER, name="gstreamer", live=True, timeout_s=timeout_s)
    if lowered.startswith(("http://", "https://")):
        from edgecnn.device.mjpeg import HttpStreamSource

        return HttpStreamSource(spec, timeout_s=timeout_s)
    if lowered.startswith("tcp://"):
        return tcp_source(spec, timeout_s=timeout_s)
    if re.match(r"^[a-z][a-z0-9+.-]*://", lowered):  # rtsp://, rtmp://, udp://, ...
        return CaptureSource(spec, cv2.CAP_FFMPEG, name=_redact(spec), live=True, timeout_s=timeout_s)
    index = _camera_index_of(spec)
    if index is not None:
        if spec.startswith("/dev/") and not Path(spec).exists():
            raise EdgeCNNError(f"camera {spec} not found (no such device)")
        return CaptureSource(
            index,
            cv2.CAP_V4L2 if os.name == "posix" else cv2.CAP_ANY,
            name=spec if spec.startswith("/dev/") else f"camera {index}",
            live=True,
        )
    path = Path(spec).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES):
        return ImageFolderSource(path)
    if path.is_file():
        return CaptureSource(str(path), cv2.CAP_ANY, name=str(path), live=False)
    if path.exists():
        raise EdgeCNNError(f"source is neither a file nor a directory: {spec}")
    raise EdgeCNNError(
        f"source not found: {spec} (expected a camera index, /dev/videoN, a video file, an image "
        "directory, an rtsp://, http:// or tcp:// URL, a GStreamer pipeline or picamera2)"
    )


TCP_FFMPEG_OPTIONS = "probesize;32"
"""A raw H.264 or MJPEG stream has no container header: with FFmpeg's default probing the first frame comes after
~3 s and the frames buffered meanwhile arrive in a burst; probing 32 bytes gets the first frame of a camera-like
15 FPS 320x240 H.264 stream within ~0.1 s, then frames as they are sent (measured on loopback with ffmpeg)."""


def tcp_source(url: str, *, timeout_s: float = 5.0) -> CaptureSource:
    """A ``tcp://HOST:PORT`` stream, as ``rpicam-vid -t 0 --inline --listen -o tcp://0.0.0.0:PORT`` serves it
    (raw H.264, or MJPEG with ``--codec mjpeg``), read by OpenCV's FFmpeg backend.

    The server takes one client: a daemon that loses it reconnects with backoff (keep ``rpicam-vid`` running in a
    loop or as a service, since it exits when its client goes).

    Raises:
        EdgeCNNError: If the URL has no host or port.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EdgeCNNError(f"bad tcp:// source {url!r}: {exc}") from exc
    if not parts.hostname or port is None:
        raise EdgeCNNError(f"a tcp:// source needs a host and a port, e.g. tcp://raspberrypi.local:8888; got {url!r}")
    cv2 = cv2_quiet()
    return CaptureSource(
        url, cv2.CAP_FFMPEG, name=_redact(url), live=True, timeout_s=timeout_s, ffmpeg_options=TCP_FFMPEG_OPTIONS
    )


def _redact(url: str) -> str:
    """A URL with its password replaced, for logs."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", url)

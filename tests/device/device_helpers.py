"""Helpers of the device tests (imported by conftest.py and the tests): coloured frames, videos, a restartable
MJPEG server on 127.0.0.1, HTTP and subprocess helpers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

LABELS = ["red", "green", "blue", "dark"]
SIZE = 32
# BGR colours, as OpenCV frames hold them, and the class each must produce.
COLOURS = {"red": (0, 0, 255), "green": (0, 255, 0), "blue": (255, 0, 0), "dark": (20, 20, 20)}
REPO = Path(__file__).resolve().parents[2]


def solid(colour: str, width: int = 160, height: int = 120) -> np.ndarray:
    """A BGR frame of one colour with a little noise (so JPEG and the model see a real image)."""
    rng = np.random.default_rng(list(COLOURS).index(colour))
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = COLOURS[colour]
    noise = rng.integers(-8, 9, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


COLOUR_SEQUENCE = ["red"] * 8 + ["green"] * 8 + ["blue"] * 8 + ["dark"] * 6


def write_video(path: Path, colours: list[str] = COLOUR_SEQUENCE, fps: float = 30.0, size=(160, 120)) -> Path:
    """An MJPG .avi whose frame i is ``solid(colours[i])``."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for colour in colours:
        writer.write(solid(colour, *size))
    writer.release()
    return path


class MjpegServer:
    """A multipart/x-mixed-replace JPEG stream on 127.0.0.1 that can be killed and restarted on the same port.

    Serves ``solid(colour)`` frames at ``fps``; ``colour`` can be changed while it runs.
    """

    def __init__(self, fps: float = 30.0, colour: str = "red", content_length: bool = True) -> None:
        import cv2

        self.fps, self.colour, self.content_length = fps, colour, content_length
        self._jpegs = {c: cv2.imencode(".jpg", solid(c))[1].tobytes() for c in COLOURS}
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.alive = threading.Event()
        self.frames_sent = 0

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/snapshot.jpg":
                    body = owner._jpegs[owner.colour]
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=--testboundary")
                self.end_headers()
                try:
                    while owner.alive.is_set():
                        jpeg = owner._jpegs[owner.colour]
                        head = "----testboundary\r\nContent-Type: image/jpeg\r\n"
                        if owner.content_length:
                            head += f"Content-Length: {len(jpeg)}\r\n"
                        self.wfile.write(head.encode() + b"\r\n" + jpeg + b"\r\n")
                        self.wfile.flush()
                        owner.frames_sent += 1
                        time.sleep(1.0 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def start(self) -> MjpegServer:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.alive.set()
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Kills the server: stops accepting and ends every open stream."""
        self.alive.clear()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream"


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Polls ``predicate`` until it returns a truthy value (returned) or ``timeout`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """``(status, headers, body)`` of a GET, for any status."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def edgecnn_process(args: list[str], **kwargs) -> subprocess.Popen:
    """``python -m edgecnn ARGS`` in a subprocess (stdout and stderr piped, text mode)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "edgecnn", *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSON-lines file, parsed (fails on a partial line)."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the last JSON line is incomplete"
    return [json.loads(line) for line in text.splitlines()]


def with_operator(model_bytes: bytes, old: str, new: str) -> bytes:
    """A copy of a .tflite whose operator code ``old`` (a builtin name, e.g. SOFTMAX) is replaced by ``new``."""
    from edgecnn.modelfile.graph_edit import load_model_object, pack_model_object
    from edgecnn.modelfile.schema import load_schema

    schema = load_schema()
    model = load_model_object(model_bytes)
    codes = [
        c
        for c in model.operatorCodes
        if max(c.builtinCode, c.deprecatedBuiltinCode) == getattr(schema.BuiltinOperator, old)
    ]
    assert codes, f"the model has no {old} operator"
    for code in codes:
        code.builtinCode = getattr(schema.BuiltinOperator, new)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    return pack_model_object(model)

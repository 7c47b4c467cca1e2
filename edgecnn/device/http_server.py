"""A small threaded HTTP server for a running pipeline (standard library ``http.server``).

Endpoints:

- ``GET /predictions``: the latest prediction as JSON (503 before the first one).
- ``GET /stream``: MJPEG (``multipart/x-mixed-replace``) of the annotated frames, for a browser or VLC.
- ``GET /healthz``: 200 ``{"status": "ok", ...}`` while frames flow, 503 ``{"status": "degraded", ...}``
  when the source is down or stalled (with the source's state, reconnects and last error).
- ``GET /metrics``: Prometheus text (frames, FPS, per-stage latency quantiles, reconnects, memory).
- ``GET /``: a page showing the stream and the latest prediction.

The server listens on loopback unless told otherwise; it has no authentication, so expose it deliberately.
JPEG encoding happens only while a ``/stream`` client is connected.

Device side: the standard library and OpenCV (for JPEG encoding).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.mjpeg import STREAM_CONTENT_TYPE, part_bytes

log = logging.getLogger("edgecnn.device")

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>edgecnn</title>
<style>body{font-family:sans-serif;margin:1em;background:#111;color:#eee}pre{background:#222;padding:.5em}</style>
</head><body><h1>edgecnn</h1><img src="/stream" alt="stream" style="max-width:100%%">
<pre id="p">waiting for a prediction...</pre>
<p><a href="/predictions">/predictions</a> &middot; <a href="/healthz">/healthz</a> &middot;
<a href="/metrics">/metrics</a></p>
<script>setInterval(()=>fetch('/predictions').then(r=>r.json()).then(j=>{
document.getElementById('p').textContent=JSON.stringify(j,null,1)}).catch(()=>{}),%d)</script>
</body></html>
"""


def parse_address(text: str) -> tuple[str, int]:
    """``"8080"``, ``"127.0.0.1:8080"``, ``"0.0.0.0:8080"`` or ``"[::1]:8080"`` -> ``(host, port)``.

    A bare port listens on 127.0.0.1 (loopback only).
    """
    text = text.strip()
    host, port = "127.0.0.1", text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif ":" in text:
        host, _, port = text.rpartition(":")
        host = host or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise EdgeCNNError(f"http expects HOST:PORT (such as 127.0.0.1:8080). Received http={text!r}", param="http")
    return host, int(port)


class LiveState:
    """What the handlers serve, updated by the per-frame loop (thread-safe).

    Args:
        health: Returns ``(healthy, document)`` for ``/healthz``.
        metrics: Returns the ``/metrics`` text.
        jpeg_quality: Quality of the ``/stream`` JPEGs.
    """

    def __init__(
        self, health: Callable[[], tuple[bool, dict]], metrics: Callable[[], str], jpeg_quality: int = 80
    ) -> None:
        self.health = health
        self.metrics = metrics
        self.jpeg_quality = jpeg_quality
        self._cond = threading.Condition()
        self._prediction: bytes | None = None
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self.stream_clients = 0
        self.closed = False

    @property
    def wants_frames(self) -> bool:
        """Whether a ``/stream`` client is waiting for annotated frames."""
        return self.stream_clients > 0

    def set_prediction(self, record: dict) -> None:
        data = json.dumps(record, separators=(",", ":")).encode("utf-8")
        with self._cond:
            self._prediction = data

    def set_frame(self, image: np.ndarray) -> None:
        """Encodes ``image`` for the stream clients (does nothing without one)."""
        if not self.wants_frames:
            return
        import cv2

        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if ok:
            with self._cond:
                self._jpeg = encoded.tobytes()
                self._jpeg_seq += 1
                self._cond.notify_all()

    def prediction(self) -> bytes | None:
        with self._cond:
            return self._prediction

    def next_jpeg(self, after: int, timeout: float) -> tuple[int, bytes | None]:
        """The newest JPEG with a sequence number above ``after`` (waiting up to ``timeout``)."""
        with self._cond:
            if self._jpeg_seq <= after and not self.closed:
                self._cond.wait(timeout)
            if self._jpeg_seq > after:
                return self._jpeg_seq, self._jpeg
            return after, None

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server_version = "edgecnn"
    protocol_version = "HTTP/1.1"
    state: LiveState  # set on the subclass made by the server

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("http %s - " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: object) -> None:
        self._send(status, json.dumps(doc, indent=1, default=str).encode("utf-8") + b"\n", "application/json")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            if path == "/predictions":
                body = self.state.prediction()
                if body is None:
                    self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "no prediction yet"})
                else:
                    self._send(HTTPStatus.OK, body + b"\n", "application/json")
            elif path == "/healthz":
                healthy, doc = self.state.health()
                self._json(HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE, doc)
            elif path == "/metrics":
                self._send(
                    HTTPStatus.OK, self.state.metrics().encode("utf-8"), "text/plain; version=0.0.4; charset=utf-8"
                )
            elif path == "/stream":
                self._stream()
            elif path == "/":
                self._send(HTTPStatus.OK, (INDEX_HTML % 1000).encode("utf-8"), "text/html; charset=utf-8")
            else:
                self._json(
                    HTTPStatus.NOT_FOUND,
                    {
                        "error": f"no such endpoint: {path}",
                        "endpoints": ["/predictions", "/stream", "/healthz", "/metrics"],
                    },
                )
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass  # the client went away

    def _stream(self) -> None:
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", STREAM_CONTENT_TYPE)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        state = self.state
        with state._cond:
            state.stream_clients += 1
        try:
            seq = 0
            while not state.closed:
                seq, jpeg = state.next_jpeg(seq, timeout=0.5)
                if jpeg is not None:
                    self.wfile.write(part_bytes(jpeg))
                    self.wfile.flush()
        finally:
            with state._cond:
                state.stream_clients -= 1


class HttpServer:
    """The endpoints above, served from daemon threads until :meth:`close`.

    Args:
        address: ``HOST:PORT`` (see :func:`parse_address`); port 0 picks a free port.
        state: What to serve.
    """

    def __init__(self, address: str, state: LiveState) -> None:
        host, port = parse_address(address)
        handler = type("Handler", (_Handler,), {"state": state})
        server_class = ThreadingHTTPServer
        if ":" in host:
            server_class = type("ThreadingHTTPServerV6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        try:
            self.server = server_class((host, port), handler)
        except OSError as exc:
            raise EdgeCNNError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.server.daemon_threads = True
        self.state = state
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="edgecnn-http", daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stops serving: ends the streams, the accept loop and the listening socket."""
        self.state.close()
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

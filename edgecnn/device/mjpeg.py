"""MJPEG over HTTP (``multipart/x-mixed-replace``): the client source and the part framing our server writes.

IP cameras, ``mjpg-streamer``, ESP32-CAM boards and ``edgecnn run --http`` itself serve a never-ending HTTP
response whose parts are JPEG images. Reading it directly (rather than through FFmpeg) gives exact socket
timeouts, so a dead camera is noticed within ``timeout_s`` and reconnected, and lets the source hand over
undecoded JPEG bytes so that only the frames that get classified are decoded.

Device side: the standard library and numpy/OpenCV (through :class:`~edgecnn.device.sources.Frame`).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
from urllib.parse import unquote, urlsplit

from edgecnn.device.sources import CaptureSource, Frame, FrameSource, SourceError, _redact, cv2_quiet

BOUNDARY = "edgecnnframe"
STREAM_CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
MAX_HEADER_LINE = 8192
MAX_PART_BYTES = 64 * 1024 * 1024


def part_bytes(jpeg: bytes, boundary: str = BOUNDARY) -> bytes:
    """One multipart part (delimiter, headers, JPEG, CRLF) as our ``/stream`` endpoint writes it."""
    head = f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode("ascii")
    return head + jpeg + b"\r\n"


def _boundary_of(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value:
            return value.strip().strip('"').lstrip("-").encode("latin-1")
    raise SourceError(f"multipart stream without a boundary (Content-Type: {content_type})")


class HttpStreamSource(FrameSource):
    """An ``http(s)://`` camera: an MJPEG stream, a JPEG snapshot URL (polled), or other media via FFmpeg.

    Args:
        url: The stream URL; ``user:password@`` in it becomes HTTP basic authentication.
        timeout_s: Connect and read timeout; a stream silent for longer counts as dropped.
    """

    live = True

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.name = _redact(url)
        self.timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None
        self._response: http.client.HTTPResponse | None = None
        self._boundary = b""
        self._at_headers = False  # True when the last read already consumed the next part's delimiter
        self._snapshot = False
        self._fallback: CaptureSource | None = None
        self._index = 0

    def _request(self) -> http.client.HTTPResponse:
        parts = urlsplit(self.url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname or "localhost", parts.port, timeout=self.timeout_s)
        headers = {"User-Agent": "edgecnn", "Accept": "multipart/x-mixed-replace, image/jpeg, */*"}
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise SourceError(f"cannot open {self.name}: {exc}") from exc
        if response.status != 200:
            connection.close()
            raise SourceError(f"cannot open {self.name}: HTTP {response.status} {response.reason}")
        self._connection = connection
        return response

    def open(self) -> None:
        self.close()
        response = self._request()
        content_type = response.getheader("Content-Type", "") or ""
        kind = content_type.split(";")[0].strip().lower()
        self._index = 0
        if kind.startswith("multipart/"):
            self._boundary = _boundary_of(content_type)
            self._response, self._at_headers, self._snapshot = response, False, False
        elif kind.startswith("image/"):
            self._response, self._snapshot = response, True
        else:  # an HLS playlist, an MP4 over HTTP...: FFmpeg's job
            self.close()
            cv2 = cv2_quiet()
            self._fallback = CaptureSource(
                self.url, cv2.CAP_FFMPEG, name=self.name, live=True, timeout_s=self.timeout_s
            )
            self._fallback.open()

    def read(self) -> Frame | None:
        if self._fallback is not None:
            return self._fallback.read()
        try:
            data = self._read_snapshot() if self._snapshot else self._read_part()
        except (OSError, http.client.HTTPException) as exc:  # socket.timeout is an OSError
            raise SourceError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if data is None:
            return None
        frame = Frame(None, index=self._index, jpeg=data)
        self._index += 1
        return frame

    def _read_snapshot(self) -> bytes | None:
        if self._response is None:  # poll the URL again for the next snapshot
            self.close()
            self._response = self._request()
        response, self._response = self._response, None
        data = response.read(MAX_PART_BYTES)
        return data or None

    def _readline(self) -> bytes:
        line = self._response.readline(MAX_HEADER_LINE)
        if not line:
            raise EOFError
        return line

    def _is_delimiter(self, line: bytes) -> bool:
        return line.strip().lstrip(b"-").startswith(self._boundary) and line.startswith(b"-")

    def _read_part(self) -> bytes | None:
        if self._response is None:
            raise SourceError(f"{self.name} is not open")
        try:
            if not self._at_headers:
                while not self._is_delimiter(self._readline()):
                    pass
            length = None
            while True:
                line = self._readline().strip()
                if not line:
                    break
                key, _, value = line.decode("latin-1").partition(":")
                if key.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is not None:
                if not 0 < length <= MAX_PART_BYTES:
                    raise SourceError(f"{self.name}: bad part length {length}")
                data = self._response.read(length)
                if len(data) < length:
                    raise EOFError
                self._at_headers = False
                return data
            # No Content-Length: the part runs until the next delimiter line.
            chunks, size = [], 0
            while True:
                line = self._readline()
                if self._is_delimiter(line):
                    self._at_headers = True
                    break
                chunks.append(line)
                size += len(line)
                if size > MAX_PART_BYTES:
                    raise SourceError(f"{self.name}: part larger than {MAX_PART_BYTES} bytes")
            return b"".join(chunks).removesuffix(b"\r\n")
        except EOFError:
            return None
        except ValueError as exc:
            raise SourceError(f"{self.name}: malformed multipart stream ({exc})") from exc

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()
            self._fallback = None
        if self._response is not None:
            self._response.close()
            self._response = None
        if self._connection is not None:
            sock = self._connection.sock
            if sock is not None:  # wake a read blocked in another thread
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._connection.close()
            self._connection = None

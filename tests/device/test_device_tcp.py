"""``--source tcp://HOST:PORT``: a raw H.264 stream like ``rpicam-vid --listen -o tcp://0.0.0.0:8888`` serves, here
served on loopback by Debian's ``ffmpeg`` (solid colours, so every classified frame is checkable), read through
OpenCV's FFmpeg backend, and reconnected when the server goes away and comes back."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess

import pytest
from device_helpers import edgecnn_process, free_port, http_get, read_jsonl, wait_until

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.sources import TCP_FFMPEG_OPTIONS, CaptureSource, open_source

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg program is not installed (apt-get install ffmpeg)")


def serve_h264(port: int, colour: str, seconds: float = 30.0) -> subprocess.Popen:
    """``ffmpeg`` serving one client a raw H.264 stream of one colour with sensor-like noise (15 FPS, 160x120) on
    127.0.0.1:port. (Without noise the frames are a few bytes each and FFmpeg's format probing waits seconds.)"""
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"]
    command += ["-i", f"color=c={colour}:size=160x120:rate=15,noise=alls=16:allf=t+u", "-t", str(seconds)]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"]
    command += ["-f", "h264", f"tcp://127.0.0.1:{port}?listen=1"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_tcp_url_is_an_ffmpeg_stream_with_minimal_probing():
    source = open_source("tcp://raspberrypi.local:8888")
    assert isinstance(source, CaptureSource) and source.live
    assert source.target == "tcp://raspberrypi.local:8888" and source.ffmpeg_options == TCP_FFMPEG_OPTIONS
    for bad in ("tcp://raspberrypi.local", "tcp://:8888", "tcp://host:port"):
        with pytest.raises(EdgeCNNError, match="tcp://"):
            open_source(bad)


@needs_ffmpeg
def test_h264_stream_over_tcp_is_classified(models, tmp_path):
    port, jsonl = free_port(), tmp_path / "preds.jsonl"
    server = serve_h264(port, "red")
    try:
        proc = edgecnn_process(
            ["run", str(models["int8"]), "--source", f"tcp://127.0.0.1:{port}", "--wait-for-source"]
            + ["--max-frames", "10", "--duration", "30", "--jsonl", str(jsonl), "--json"]
        )
        out, err = proc.communicate(timeout=60)
    finally:
        _stop(server)
    assert proc.returncode == 0, err
    records, summary = read_jsonl(jsonl), json.loads(out)
    assert summary["stopped_by"] == "max frames" and len(records) == 10
    assert all(r["source"] == f"tcp://127.0.0.1:{port}" for r in records)
    assert [r["top_k"][0]["label"] for r in records] == ["red"] * 10


@needs_ffmpeg
def test_tcp_stream_that_goes_away_is_reconnected(models, tmp_path):
    port, http_port = free_port(), free_port()
    jsonl = tmp_path / "preds.jsonl"
    server = serve_h264(port, "red")
    proc = edgecnn_process(
        ["run", str(models["int8"]), "--source", f"tcp://127.0.0.1:{port}", "--wait-for-source"]
        + ["--jsonl", str(jsonl), "--http", f"127.0.0.1:{http_port}", "--json"]
    )
    health = f"http://127.0.0.1:{http_port}/healthz"

    def lines() -> int:
        return len(jsonl.read_text().splitlines()) if jsonl.exists() else 0

    try:
        wait_until(lambda: lines() >= 5 or proc.poll() is not None, timeout=30)
        assert proc.poll() is None
        _stop(server)  # like rpicam-vid exiting
        wait_until(lambda: http_get(health)[0] == 503, timeout=20)
        before = lines()
        server = serve_h264(port, "blue")  # started again on the same port
        wait_until(lambda: lines() >= before + 5, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        _stop(server)
    assert proc.returncode == 0, err
    labels = [r["top_k"][0]["label"] for r in read_jsonl(jsonl)]
    assert labels[0] == "red" and labels[-1] == "blue"
    assert json.loads(out)["reconnects"] >= 1

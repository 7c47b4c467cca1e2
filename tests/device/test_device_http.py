"""The HTTP endpoints of a running pipeline fed by an MJPEG stream that goes away and comes back."""

from __future__ import annotations

import json
import threading

import pytest
from device_helpers import MjpegServer, http_get, wait_until

from edgecnn.device.daemon import run
from edgecnn.device.http_server import parse_address
from edgecnn.device.mjpeg import HttpStreamSource
from edgecnn.device.run_config import RunOptions


def _status(url: str) -> int:
    return http_get(url)[0]


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


@pytest.fixture
def live_run(models):
    """A run() in a thread on an MJPEG stream that is down at start (``--wait-for-source``)."""
    server = MjpegServer(fps=40, colour="red")
    server.port = 0
    server.start()
    port = server.port
    server.stop()  # down at start; restarted on the same port by the test
    stop = threading.Event()
    info: dict = {}
    result: dict = {}
    started = threading.Event()
    options = RunOptions(
        model=str(models["int8"]), source=server.url, http="127.0.0.1:0", wait_for_source=True, top_k=2
    )

    def target():
        result["summary"] = run(options, stop=stop, on_start=lambda i: (info.update(i), started.set()))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert started.wait(15)
    yield {"server": server, "port": port, "base": info["http_url"], "stop": stop, "thread": thread, "result": result}
    stop.set()
    thread.join(10)
    server.stop()


def test_endpoints_through_a_source_outage(live_run):
    base, server = live_run["base"], live_run["server"]
    # Starting: no source yet.
    status, _, body = http_get(base + "healthz")
    assert status == 503 and json.loads(body)["status"] == "starting"
    assert _status(base + "predictions") == 503

    server.port = live_run["port"]
    server.start()
    wait_until(lambda: _status(base + "healthz") == 200, timeout=15)

    status, headers, body = http_get(base + "predictions")
    prediction = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert prediction["top_k"][0]["label"] == "red" and len(prediction["top_k"]) == 2
    assert prediction["source"] == server.url

    status, headers, body = http_get(base + "metrics")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert _metric(text, "edgecnn_frames_total") >= 1
    assert _metric(text, "edgecnn_up") == 1
    assert 'edgecnn_stage_latency_seconds{quantile="0.5",stage="invoke"}' in text  # prometheus_client sorts labels
    assert _metric(text, "process_resident_memory_bytes") > 1e6

    # /stream: our own MJPEG client reads the first part back; it is the annotated frame.
    with HttpStreamSource(base + "stream", timeout_s=5) as stream:
        frame = stream.read().decode()
    assert frame.image.shape == (120, 160, 3)
    assert frame.image[100:, 140:, 2].mean() > 200  # red scene outside the overlay box

    status, _, body = http_get(base)
    assert status == 200 and b"/stream" in body
    status, _, body = http_get(base + "nope")
    assert status == 404 and "endpoints" in json.loads(body)

    # The camera goes away: degraded, with the source's state; the run keeps going.
    server.stop()
    degraded = wait_until(lambda: (r := http_get(base + "healthz"))[0] == 503 and json.loads(r[2]), timeout=15)
    assert degraded["status"] == "degraded"
    assert degraded["source"]["state"] == "reconnecting" and degraded["source"]["last_error"]
    assert _metric(http_get(base + "metrics")[2].decode(), "edgecnn_up") == 0

    # ... and comes back, showing another colour.
    server.colour = "blue"
    server.start()
    wait_until(lambda: json.loads(http_get(base + "predictions")[2])["top_k"][0]["label"] == "blue", timeout=15)
    assert json.loads(http_get(base + "healthz")[2])["source"]["reconnects"] == 1

    live_run["stop"].set()
    live_run["thread"].join(10)
    assert not live_run["thread"].is_alive()
    summary = live_run["result"]["summary"]
    assert summary["reconnects"] == 1 and summary["stopped_by"] == "stop request"
    assert _status_refused(base)


def _status_refused(base: str) -> bool:
    """The server is gone after the run."""
    try:
        http_get(base + "healthz", timeout=1)
    except OSError:
        return True
    return False


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8080", ("127.0.0.1", 8080)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("[::1]:9000", ("::1", 9000)),
        (":8081", ("127.0.0.1", 8081)),
    ],
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected

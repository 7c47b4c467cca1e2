"""`edgecnn run` as a daemon in a subprocess: SIGTERM/SIGINT stop it cleanly with outputs flushed, and a stream
that is killed and restarted mid-run is reconnected."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import cv2
import pytest
from device_helpers import REPO, MjpegServer, edgecnn_process, free_port, http_get, read_jsonl, wait_until


def _lines(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _finish(proc: subprocess.Popen, sig: int) -> tuple[int, str, str]:
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"did not stop after {signal.Signals(sig).name}: {err}") from None
    return proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_outputs_flushed(models, colour_video, tmp_path, sig):
    jsonl, video = tmp_path / "preds.jsonl", tmp_path / "out.avi"
    proc = edgecnn_process(
        [
            "run",
            str(models["int8"]),
            "--source",
            str(colour_video),
            "--loop",
            "--realtime",
            "--jsonl",
            str(jsonl),
            "--save-video",
            str(video),
            "--json",
        ]
    )
    try:
        wait_until(lambda: _lines(jsonl) >= 10 or proc.poll() is not None, timeout=30)
    finally:
        code, out, err = _finish(proc, sig)
    assert code == 0, err
    records = read_jsonl(jsonl)  # every line complete and parseable
    assert len(records) >= 10
    summary = json.loads(out)
    assert summary["stopped_by"] == f"signal {signal.Signals(sig).name}"
    assert summary["frames"] == len(records)
    capture = cv2.VideoCapture(str(video))
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (120, 160, 3)  # finalised: the container is readable
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_stream_killed_and_restarted_mid_run(models, tmp_path):
    server = MjpegServer(fps=30, colour="red").start()
    jsonl = tmp_path / "preds.jsonl"
    port = free_port()
    proc = edgecnn_process(
        [
            "run",
            str(models["int8"]),
            "--source",
            server.url,
            "--jsonl",
            str(jsonl),
            "--http",
            f"127.0.0.1:{port}",
            "--json",
        ]
    )
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        wait_until(lambda: _lines(jsonl) >= 5 or proc.poll() is not None, timeout=30)
        assert proc.poll() is None
        server.stop()
        wait_until(lambda: http_get(health)[0] == 503, timeout=15)
        before = _lines(jsonl)
        server.colour = "blue"
        server.start()
        wait_until(lambda: _lines(jsonl) >= before + 5, timeout=20)
        assert http_get(health)[0] == 200
    finally:
        code, out, err = _finish(proc, signal.SIGTERM)
        server.stop()
    assert code == 0, err
    labels = [r["top_k"][0]["label"] for r in read_jsonl(jsonl)]
    assert labels[0] == "red" and labels[-1] == "blue"
    summary = json.loads(out)
    assert summary["reconnects"] == 1
    assert "reconnect" in err  # the log says what happened


def test_closed_stdout_ends_the_run_quietly(models, colour_video):
    """`edgecnn run ... --jsonl - | head -2`: exit 0, no BrokenPipeError traceback."""
    proc = edgecnn_process(["run", str(models["int8"]), "--source", str(colour_video), "--loop", "--jsonl", "-"])
    first = [json.loads(proc.stdout.readline()) for _ in range(2)]
    proc.stdout.close()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert [r["frame"] for r in first] == [0, 1]
    assert "stopped by closed output" in err and "Traceback" not in err and "BrokenPipe" not in err


def test_run_bench_inspect_never_import_tensorflow(models, colour_video, tmp_path):
    """The device commands load neither TensorFlow nor Keras (checked in sys.modules at exit)."""
    report = tmp_path / "modules.json"
    script = textwrap.dedent(f"""
        import atexit, json, sys
        def dump():
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
            open({str(report)!r}, "w").write(json.dumps(heavy))
        atexit.register(dump)
        from edgecnn.cli import main
        sys.argv = ["edgecnn"] + sys.argv[1:]
        main()
    """)
    commands = [
        ["run", str(models["int8"]), "--source", str(colour_video), "--max-frames", "3", "--jsonl", "-"],
        ["bench", str(models["int8"]), "--runs", "3", "--warmup", "1", "--pipeline", "--json"],
        ["inspect", str(models["int8"])],
    ]
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-c", script, *command], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (command, result.stderr)
        assert json.loads(report.read_text()) == [], command
        report.unlink()

"""Cold start: from process start to the first prediction of ``edgecnn run`` on a video file (and stop latency).

Starts the installed ``edgecnn`` console script (``edgecnn run MODEL --source VIDEO --max-frames 1 --jsonl -``)
``--repeats`` times and measures, from ``Popen`` to the first JSON line on its stdout, the whole cold path:
interpreter start, imports (numpy, OpenCV, LiteRT; never TensorFlow), model load, opening the video, the first
frame through prepare + invoke + postprocess. Target: under 1.5 s. The video is a 640x480 MJPG .avi written with
OpenCV; the model is the int8 MobileNet V2 of ``tools/bench_models.py`` (built in a subprocess if missing).

It also measures the stop latency: SIGTERM and SIGINT sent to a ``--realtime --loop`` run that writes JSON lines
and an annotated video, to process exit (target: within 2 s, exit code 0).

    .venv/bin/python tools/bench_coldstart.py [--model PATH] [--repeats 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import ensure_model  # noqa: E402

TARGET_S = 1.5
VIDEO = Path("/tmp/device/bench/frames_640x480.avi")


def ensure_video(path: Path = VIDEO, frames: int = 60) -> Path:
    """A 640x480 MJPG video of camera-like frames."""
    if not path.exists():
        import cv2

        from edgecnn.device.bench import synthetic_frames

        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
        images = synthetic_frames(count=8)
        for i in range(frames):
            writer.write(images[i % len(images)])
        writer.release()
    return path


def edgecnn_command() -> list[str]:
    """The console script installed beside this Python (what a user runs), else ``python -m edgecnn``."""
    script = Path(sys.executable).parent / "edgecnn"
    return [str(script)] if script.exists() else [sys.executable, "-m", "edgecnn"]


def time_to_first_prediction(model: Path, video: Path) -> dict:
    """Seconds from process start to the first JSON line, and to process exit."""
    command = [
        *edgecnn_command(),
        "run",
        str(model),
        "--source",
        str(video),
        "--max-frames",
        "1",
        "--jsonl",
        "-",
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_line = proc.stdout.readline()
    first = time.perf_counter() - start
    _, err = proc.communicate(timeout=60)
    total = time.perf_counter() - start
    if proc.returncode != 0 or not first_line.strip():
        raise RuntimeError(f"edgecnn run failed ({proc.returncode}): {err}")
    json.loads(first_line)
    return {"first_prediction_s": first, "exit_s": total}


def time_to_stop(model: Path, video: Path, sig: int, out_dir: Path) -> float:
    """Seconds from ``sig`` to the exit of a run writing JSON lines and a video (checks exit code 0)."""
    jsonl = out_dir / "stop.jsonl"
    jsonl.unlink(missing_ok=True)  # JSON lines are appended: start empty
    command = [
        *edgecnn_command(),
        "run",
        str(model),
        "--source",
        str(video),
        "--realtime",
        "--loop",
        "--quiet",
        "--jsonl",
        str(jsonl),
        "--save-video",
        str(out_dir / "stop.avi"),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not jsonl.exists() or jsonl.stat().st_size < 1000) and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.perf_counter()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"edgecnn run exited {proc.returncode} after signal {sig}: {err}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description="Process start to first prediction of `edgecnn run`.")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model, video = ensure_model(args.model), ensure_video()
    runs = [time_to_first_prediction(model, video) for _ in range(args.repeats)]
    firsts = [r["first_prediction_s"] for r in runs]
    stops = {sig.name: time_to_stop(model, video, sig, video.parent) for sig in (signal.SIGTERM, signal.SIGINT)}
    report = {
        "model": str(model),
        "video": str(video),
        "command": " ".join(edgecnn_command()),
        "runs": runs,
        "median_s": statistics.median(firsts),
        "min_s": min(firsts),
        "max_s": max(firsts),
        "target_s": TARGET_S,
        "pass": statistics.median(firsts) < TARGET_S,
        "stop_s": stops,
        "loadavg": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for i, r in enumerate(runs):
            print(f"run {i + 1}: first prediction {r['first_prediction_s']:.3f} s, exit {r['exit_s']:.3f} s")
        print(
            f"first prediction: median {report['median_s']:.3f} s, min {report['min_s']:.3f} s, "
            f"max {report['max_s']:.3f} s (target < {TARGET_S} s): {'PASS' if report['pass'] else 'FAIL'}; "
            f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print(
            "stop latency (signal to exit, outputs flushed): "
            + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in stops.items())
        )
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())

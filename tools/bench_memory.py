"""Resident memory over a long run: ``edgecnn run`` for 10,000 frames must grow by less than 5 MB.

Runs ``edgecnn run MODEL --source VIDEO --loop --max-frames N --jsonl - --http 127.0.0.1:PORT`` in a subprocess,
reads its JSON lines as they come, and samples the process's resident set size (``VmRSS`` in
``/proc/PID/status``) every ``--every`` frames; while it runs, the HTTP endpoints are polled (``/predictions``,
``/metrics``, ``/healthz``) and a ``/stream`` client reads for a while, so that every output path is exercised.
Growth is measured from the sample after ``--settle`` frames (allocator and caches warmed) to the last one.

    .venv/bin/python tools/bench_memory.py [--model PATH] [--frames 10000] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coldstart import edgecnn_command, ensure_video  # noqa: E402
from bench_models import ensure_model  # noqa: E402

TARGET_MB = 5.0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll_http(base: str, stop: threading.Event) -> None:
    stream_until = time.monotonic() + 5.0
    while not stop.wait(0.5):
        for path in ("predictions", "metrics", "healthz"):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + path, timeout=2).read()
        if time.monotonic() < stream_until:
            with contextlib.suppress(OSError), urllib.request.urlopen(base + "stream", timeout=2) as response:
                response.read(200_000)  # a few annotated frames


def measure(
    model: Path,
    video: Path,
    frames: int = 10_000,
    every: int = 500,
    settle: int = 1000,
    extra_args: list[str] | None = None,
    progress: bool = True,
) -> dict:
    """Runs the daemon for ``frames`` frames and returns the RSS samples and growth (MiB)."""
    port = _free_port()
    command = [
        *edgecnn_command(),
        "run",
        str(model),
        "--source",
        str(video),
        "--loop",
        "--max-frames",
        str(frames),
        "--jsonl",
        "-",
        "--http",
        f"127.0.0.1:{port}",
        "--quiet",
        *(extra_args or []),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    poller = threading.Thread(target=_poll_http, args=(f"http://127.0.0.1:{port}/", stop), daemon=True)
    poller.start()
    samples: list[tuple[int, float]] = []
    count = 0
    start = time.perf_counter()
    try:
        for line in proc.stdout:
            count += 1
            if count == 1 or count % every == 0:
                samples.append((count, rss_mb(proc.pid)))
                if progress:
                    print(f"frame {count:>6}: RSS {samples[-1][1]:.1f} MiB", file=sys.stderr)
            if count == frames:
                json.loads(line)
    finally:
        stop.set()
        _, err = proc.communicate(timeout=60)
    if proc.returncode != 0 or count != frames:
        raise RuntimeError(f"edgecnn run failed ({proc.returncode}, {count} frames): {err}")
    base = next(rss for n, rss in samples if n >= settle)
    growth = samples[-1][1] - base
    return {
        "model": str(model),
        "frames": frames,
        "seconds": time.perf_counter() - start,
        "samples": samples,
        "first_rss_mb": samples[0][1],
        "growth_from_first_mb": samples[-1][1] - samples[0][1],
        "settled_at": settle,
        "settled_rss_mb": base,
        "final_rss_mb": samples[-1][1],
        "growth_mb": growth,
        "max_rss_mb": max(rss for _, rss in samples),
        "target_mb": TARGET_MB,
        "pass": growth < TARGET_MB,
        "command": " ".join(command),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Resident memory of `edgecnn run` over many frames.")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--settle", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = measure(ensure_model(args.model), ensure_video(), args.frames, args.every, args.settle)
    report["loadavg"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['frames']} frames in {report['seconds']:.0f} s: RSS {report['first_rss_mb']:.1f} MiB after "
            f"the first frame, {report['settled_rss_mb']:.1f} MiB at "
            f"frame {report['settled_at']}, {report['final_rss_mb']:.1f} MiB at the end (max "
            f"{report['max_rss_mb']:.1f}): growth {report['growth_mb']:+.2f} MiB (target < {TARGET_MB} MB): "
            f"{'PASS' if report['pass'] else 'FAIL'}"
        )
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())

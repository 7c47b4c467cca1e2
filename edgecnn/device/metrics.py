"""Latency statistics, process memory and the Prometheus text exposition of a running pipeline.

Every statistic here is bounded in memory: a daemon that runs for weeks keeps the last ``window`` samples per
stage in a preallocated ring (for percentiles) plus running totals (for counts, sums and means).
Device side: numpy and the standard library only.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterable, Mapping

import numpy as np

STAGES = ("wait", "preprocess", "invoke", "postprocess", "total")
"""Per-frame stages, in order. ``total`` is preprocess + invoke + postprocess (``wait`` is time spent getting
the frame: decoding a file, or waiting for the camera's next frame)."""

QUANTILES = (0.5, 0.9, 0.99)


def describe_latencies(seconds: Iterable[float] | np.ndarray) -> dict[str, float]:
    """Count, min, mean, median, p90, p99, max and standard deviation of latencies, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64).reshape(-1) * 1e3
    if ms.size == 0:
        return {"count": 0}
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {
        "count": int(ms.size),
        "min_ms": float(ms.min()),
        "mean_ms": float(ms.mean()),
        "median_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "max_ms": float(ms.max()),
        "std_ms": float(ms.std()),
    }


class LatencyWindow:
    """The last ``capacity`` latencies of one stage (a preallocated ring) and running totals of all of them."""

    def __init__(self, capacity: int = 4096) -> None:
        self._ring = np.zeros(capacity, dtype=np.float64)
        self._next = 0
        self.count = 0
        self.total = 0.0

    def add(self, seconds: float) -> None:
        self._ring[self._next] = seconds
        self._next = (self._next + 1) % self._ring.size
        self.count += 1
        self.total += seconds

    def recent(self) -> np.ndarray:
        """The samples in the ring (a copy, in no particular order)."""
        return self._ring[: min(self.count, self._ring.size)].copy()


def current_rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc``; elsewhere the peak)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class RunStats:
    """Thread-safe counters and latency windows of a running pipeline (the loop writes, HTTP handlers read).

    Args:
        window: Samples kept per stage for percentiles.
        fps_window: Recent frames used for the live frame rate.
    """

    def __init__(self, window: int = 4096, fps_window: int = 30) -> None:
        self._lock = threading.Lock()
        self.stages = {stage: LatencyWindow(window) for stage in STAGES}
        self.frames = 0
        self.started = time.monotonic()
        self._frame_times = np.zeros(fps_window, dtype=np.float64)
        self.last_frame_at: float | None = None

    def record(self, timings: Mapping[str, float]) -> None:
        """Adds one processed frame's per-stage latencies (seconds)."""
        now = time.monotonic()
        with self._lock:
            for stage, seconds in timings.items():
                if stage in self.stages:
                    self.stages[stage].add(seconds)
            self._frame_times[self.frames % self._frame_times.size] = now
            self.frames += 1
            self.last_frame_at = now

    def restart_clock(self) -> None:
        """Starts the run's clock now (after model loading and source opening)."""
        with self._lock:
            self.started = time.monotonic()

    def live_fps(self) -> float:
        """Frames per second over the last few frames (0 before two frames)."""
        with self._lock:
            n = min(self.frames, self._frame_times.size)
            if n < 2:
                return 0.0
            recent = self._frame_times[:n]
            span = recent.max() - recent.min()
            return float((n - 1) / span) if span > 0 else 0.0

    def summary(self) -> dict:
        """Frames, elapsed seconds, average and live FPS, and per-stage latency statistics."""
        with self._lock:
            elapsed = time.monotonic() - self.started
            stages = {name: {**describe_latencies(w.recent()), "count": w.count} for name, w in self.stages.items()}
            frames = self.frames
        return {
            "frames": frames,
            "elapsed_s": round(elapsed, 3),
            "fps": frames / elapsed if elapsed > 0 else 0.0,
            "live_fps": self.live_fps(),
            "stages": stages,
        }

    def prometheus_samples(self) -> list[tuple[str, dict[str, str], float]]:
        """Per-stage latency quantiles (recent window), sums and counts (all frames) as metric samples."""
        samples: list[tuple[str, dict[str, str], float]] = []
        with self._lock:
            for stage, window in self.stages.items():
                recent = window.recent()
                if recent.size:
                    for q, value in zip(QUANTILES, np.quantile(recent, QUANTILES), strict=True):
                        samples.append(
                            ("edgecnn_stage_latency_seconds", {"stage": stage, "quantile": str(q)}, float(value))
                        )
                samples.append(("edgecnn_stage_latency_seconds_sum", {"stage": stage}, window.total))
                samples.append(("edgecnn_stage_latency_seconds_count", {"stage": stage}, float(window.count)))
        return samples


METRIC_HELP = {
    "edgecnn_info": ("gauge", "Model and runtime of this process (value 1)."),
    "edgecnn_up": ("gauge", "1 when the source delivers frames and the pipeline is healthy, else 0."),
    "edgecnn_frames_total": ("counter", "Frames classified."),
    "edgecnn_frames_dropped_total": ("counter", "Live frames replaced by a newer one before they were classified."),
    "edgecnn_source_reconnects_total": ("counter", "Times the source was reopened after a failure."),
    "edgecnn_fps": ("gauge", "Frames per second over the last few frames."),
    "edgecnn_top_score": ("gauge", "Score of the best class in the latest prediction."),
    "edgecnn_last_frame_age_seconds": ("gauge", "Seconds since the latest frame was classified."),
    "edgecnn_stage_latency_seconds": ("summary", "Per-frame latency of each pipeline stage (recent quantiles)."),
    "process_resident_memory_bytes": ("gauge", "Resident memory size in bytes."),
    "process_start_time_seconds": ("gauge", "Start time of the process since the Unix epoch in seconds."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def prometheus_text(samples: Iterable[tuple[str, Mapping[str, str], float]]) -> str:
    """Renders ``(name, labels, value)`` samples in the Prometheus text exposition format (version 0.0.4).

    ``# HELP``/``# TYPE`` lines come from :data:`METRIC_HELP` (``_sum``/``_count`` belong to their summary).
    """
    lines: list[str] = []
    announced: set[str] = set()
    for name, labels, value in samples:
        family = name.removesuffix("_sum").removesuffix("_count") if name not in METRIC_HELP else name
        if family not in announced and family in METRIC_HELP:
            kind, text = METRIC_HELP[family]
            lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}"]
            announced.add(family)
        label_text = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
        lines.append(
            f"{name}{{{label_text}}} {_format_value(value)}" if label_text else f"{name} {_format_value(value)}"
        )
    return "\n".join(lines) + "\n"

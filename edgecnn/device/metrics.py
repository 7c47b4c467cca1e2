"""Latency statistics, process memory and the ``/metrics`` of a running pipeline.

Every statistic here is bounded in memory: a daemon that runs for weeks keeps the last ``window`` samples per
stage in a preallocated ring (for percentiles) plus running totals (for counts, sums and means).
``/metrics`` goes through ``prometheus_client`` (a registry per pipeline, the library's text format and its
``process_*``/``python_*`` collectors); everything else here is numpy and the standard library.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from edgecnn.core.errors import EdgeCNNError

STAGES = ("wait", "preprocess", "invoke", "postprocess", "total")
"""Per-frame stages, in order. ``total`` is preprocess + invoke + postprocess (``wait`` is the interpreter waiting
for the next prepared frame: the camera's next frame, or decoding and preparing that outlasted the previous invoke;
``edgecnn run`` prepares in another thread, see :mod:`edgecnn.device.prefetch`)."""

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

    def latency_summaries(self) -> dict[str, tuple[dict[float, float], float, int]]:
        """Per stage: ``({quantile: seconds} over the recent window, sum of all seconds, count of all frames)``."""
        summaries = {}
        with self._lock:
            for stage, window in self.stages.items():
                recent = window.recent()
                quantiles = (
                    dict(zip(QUANTILES, np.quantile(recent, QUANTILES).tolist(), strict=True)) if recent.size else {}
                )
                summaries[stage] = (quantiles, window.total, window.count)
        return summaries


#: Name -> help text of the pipeline's own series (the ``process_*`` and ``python_*`` ones are prometheus_client's).
METRIC_HELP = {
    "edgecnn_info": "Model and runtime of this process (value 1).",
    "edgecnn_up": "1 when the source delivers frames and the pipeline is healthy, else 0.",
    "edgecnn_frames_total": "Frames classified.",
    "edgecnn_frames_dropped_total": "Live frames replaced by a newer one before they were classified.",
    "edgecnn_source_reconnects_total": "Times the source was reopened after a failure.",
    "edgecnn_fps": "Frames per second over the last few frames.",
    "edgecnn_top_score": "Score of the best class in the latest prediction.",
    "edgecnn_last_frame_age_seconds": "Seconds since the latest frame was classified.",
    "edgecnn_stage_latency_seconds": "Per-frame latency of each pipeline stage (recent quantiles).",
}
INFO_LABELS = ("model", "backend", "source", "arch")


@dataclass(frozen=True)
class LiveValues:
    """What ``/metrics`` reports beyond :class:`RunStats`, read from the running pipeline at scrape time.

    Attributes:
        info: Values of :data:`INFO_LABELS` for ``edgecnn_info``.
        up: Whether the pipeline is healthy (``/healthz`` would answer 200).
        dropped: Live frames replaced by a newer one before they were classified.
        reconnects: Times the source was reopened.
        top_score: Score of the best class in the latest prediction (NaN before the first).
    """

    info: Mapping[str, str]
    up: bool
    dropped: int
    reconnects: int
    top_score: float


class PipelineCollector:
    """A ``prometheus_client`` collector of one pipeline's series, computed when ``/metrics`` is scraped.

    Args:
        stats: The run's counters and latency windows.
        live: Returns the values that live outside ``stats`` (source state, health, latest prediction).
    """

    def __init__(self, stats: RunStats, live: Callable[[], LiveValues]) -> None:
        self.stats = stats
        self.live = live

    def describe(self) -> list:
        """The families without samples (what the registry checks for name clashes)."""
        return self._families(None)

    def collect(self) -> list:
        return self._families(self.live())

    def _families(self, values: LiveValues | None) -> list:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            InfoMetricFamily,
            SummaryMetricFamily,
        )

        h = METRIC_HELP
        info = InfoMetricFamily("edgecnn", h["edgecnn_info"])
        up = GaugeMetricFamily("edgecnn_up", h["edgecnn_up"])
        frames = CounterMetricFamily("edgecnn_frames", h["edgecnn_frames_total"])
        dropped = CounterMetricFamily("edgecnn_frames_dropped", h["edgecnn_frames_dropped_total"])
        reconnects = CounterMetricFamily("edgecnn_source_reconnects", h["edgecnn_source_reconnects_total"])
        fps = GaugeMetricFamily("edgecnn_fps", h["edgecnn_fps"])
        top_score = GaugeMetricFamily("edgecnn_top_score", h["edgecnn_top_score"])
        age = GaugeMetricFamily("edgecnn_last_frame_age_seconds", h["edgecnn_last_frame_age_seconds"])
        latency = SummaryMetricFamily(
            "edgecnn_stage_latency_seconds", h["edgecnn_stage_latency_seconds"], labels=["stage"]
        )
        families = [info, up, frames, dropped, reconnects, fps, top_score, age, latency]
        if values is None:
            return families
        stats = self.stats
        last = stats.last_frame_at
        info.add_metric([], {key: str(values.info.get(key, "")) for key in INFO_LABELS})
        up.add_metric([], 1.0 if values.up else 0.0)
        frames.add_metric([], stats.frames)
        dropped.add_metric([], values.dropped)
        reconnects.add_metric([], values.reconnects)
        fps.add_metric([], stats.live_fps())
        top_score.add_metric([], values.top_score)
        age.add_metric([], time.monotonic() - last if last is not None else float("nan"))
        for stage, (quantiles, total, count) in stats.latency_summaries().items():
            for q, seconds in quantiles.items():
                latency.add_sample(latency.name, {"stage": stage, "quantile": str(q)}, seconds)
            latency.add_metric([stage], count_value=count, sum_value=total)
        return families


class PipelineMetrics:
    """The ``/metrics`` of one pipeline: its own registry with :class:`PipelineCollector` and the library's
    process and Python collectors (a registry per daemon, not the global one, so several never collide).

    Args:
        stats: The run's counters and latency windows.
        live: Returns the values that live outside ``stats``.

    Raises:
        EdgeCNNError: If ``prometheus_client`` is not installed.
    """

    def __init__(self, stats: RunStats, live: Callable[[], LiveValues]) -> None:
        try:  # imported here: ~40 ms that only `--http` needs
            from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
        except ImportError as exc:
            raise EdgeCNNError(
                f"http needs prometheus-client ({exc}); pip install 'edgecnn[device]'", param="http"
            ) from None
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(PipelineCollector(stats, live))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def text(self) -> str:
        """The Prometheus text exposition (format 0.0.4) of every series in the registry."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode("utf-8")

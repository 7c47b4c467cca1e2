"""``edgecnn bench``: interpreter latency like TFLite's ``benchmark_model``, and the whole per-frame path beside it.

For each thread count: the time to initialise (read the model, build the interpreter, allocate tensors), the first
invoke, ``warmup`` invokes, then ``runs`` timed invokes (min, mean, median, p90, p99, std) and the peak resident
memory. With ``pipeline=True`` every timed run also pushes a 640x480 camera-like frame through the daemon's own
per-frame code, :meth:`~edgecnn.device.pipeline.FramePipeline.process` (``prepare`` + input conversion, invoke,
dequantise + top-k, each stage timed by the pipeline itself), interleaved with the raw invokes so that both see
the same machine state, and reports the ratio of the two.

Device side: numpy, OpenCV and LiteRT only.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.metrics import current_rss_bytes, describe_latencies, peak_rss_bytes
from edgecnn.device.pipeline import FramePipeline
from edgecnn.device.runtime import Classifier
from edgecnn.device.sources import Frame


@dataclass
class BenchResult:
    """One thread count's measurements (times in milliseconds, memory in MiB).

    Attributes:
        latency: Statistics of the raw invokes (see :func:`~edgecnn.device.metrics.describe_latencies`).
        pipeline: With ``pipeline=True``: ``latency`` of the whole per-frame path, mean ms per ``stages``
            (preprocess, invoke, postprocess), ``overhead`` (mean pipeline / mean raw invoke; also
            ``overhead_median`` and ``overhead_min``, the ratio of the fastest runs), ``frame`` size.
    """

    model: str
    backend: str
    threads: int | None
    input: str
    runs: int
    warmup: int
    init_ms: float
    first_ms: float
    warmup_mean_ms: float
    latency: dict
    peak_rss_mb: float
    rss_mb: float
    pipeline: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def synthetic_frames(width: int = 640, height: int = 480, count: int = 4, seed: int = 0) -> list[np.ndarray]:
    """Camera-like BGR frames (smooth gradients, a few shapes, sensor noise), deterministic."""
    import cv2

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for i in range(count):
        base = np.stack([(x / width) * 255, (y / height) * 255, ((x + y) / (width + height)) * 255], axis=-1)
        frame = np.roll(base, i * 37, axis=1).astype(np.uint8)
        for _ in range(6):
            centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.circle(frame, centre, int(rng.integers(10, height // 3)), colour, -1)
        noise = rng.normal(0, 6, frame.shape)
        frames.append(np.clip(frame + noise, 0, 255).astype(np.uint8))
    return frames


def _time_calls(function: Callable[[], object], count: int) -> np.ndarray:
    samples = np.empty(count, dtype=np.float64)
    clock = time.perf_counter
    for i in range(count):
        start = clock()
        function()
        samples[i] = clock() - start
    return samples


def benchmark(
    model_path: str | os.PathLike,
    threads: Sequence[int | None] = (1,),
    runs: int = 100,
    warmup: int = 10,
    pipeline: bool = False,
    *,
    frame_size: tuple[int, int] = (640, 480),
    k: int = 5,
    delegate: str | None = None,
    backend: str | None = None,
    on_result: Callable[[BenchResult], None] | None = None,
) -> list[BenchResult]:
    """Benchmarks one model at each thread count (one fresh interpreter per count).

    Args:
        model_path: The ``.tflite`` file (a plain one without edgecnn metadata gets inputs scaled to [-1, 1]).
        threads: Thread counts to sweep; None means the runtime's default.
        runs: Timed invokes per thread count.
        warmup: Untimed invokes before them (after the first, which is reported on its own).
        pipeline: Also time the whole per-frame path on a ``frame_size`` frame.
        frame_size: ``(width, height)`` of the pipeline's frames.
        k: Classes the pipeline's top-k keeps.
        delegate: External delegate library.
        backend: Force an interpreter backend.
        on_result: Called with each result as soon as it is measured (progress output).

    Raises:
        EdgeCNNError: For bad arguments or an unusable model.
    """
    if runs < 1:
        raise EdgeCNNError(f"--runs must be >= 1. Received runs={runs}")
    if warmup < 0:
        raise EdgeCNNError(f"--warmup must be >= 0. Received warmup={warmup}")
    if not threads or any(t is not None and t < 1 for t in threads):
        raise EdgeCNNError(f"--threads must be positive integers. Received threads={list(threads)}")
    frames = synthetic_frames(*frame_size) if pipeline else []
    results = []
    for count in threads:
        gc.collect()
        start = time.perf_counter()
        classifier = _load(model_path, count, delegate, backend)
        init_ms = (time.perf_counter() - start) * 1e3
        model_input = _raw_input(classifier, frames)
        first_ms = _time_calls(lambda c=classifier, x=model_input: c.invoke(x), 1)[0] * 1e3
        warm = _time_calls(lambda c=classifier, x=model_input: c.invoke(x), warmup)
        if pipeline:
            raw, stages = _interleaved(classifier, frames, model_input, runs, k)
            total = stages.sum(axis=1)
            pipeline_stats = {
                "frame": f"{frame_size[0]}x{frame_size[1]}",
                "latency": describe_latencies(total),
                "stages": {
                    name: float(stages[:, i].mean() * 1e3)
                    for i, name in enumerate(("preprocess", "invoke", "postprocess"))
                },
                "overhead": float(total.mean() / raw.mean()),
                "overhead_median": float(np.median(total) / np.median(raw)),
                "overhead_min": float(total.min() / raw.min()),  # least disturbed by other processes
            }
        else:
            raw = _time_calls(lambda c=classifier, x=model_input: c.invoke(x), runs)
            pipeline_stats = None
        shape = "x".join(str(d) for d in classifier.input.shape[1:])
        result = BenchResult(
            model=str(model_path),
            backend=classifier.backend,
            threads=count,
            input=f"{shape} {classifier.input.dtype.name}",
            runs=runs,
            warmup=warmup,
            init_ms=init_ms,
            first_ms=first_ms,
            warmup_mean_ms=float(warm.mean() * 1e3) if warmup else 0.0,
            latency=describe_latencies(raw),
            peak_rss_mb=peak_rss_bytes() / 2**20,
            rss_mb=current_rss_bytes() / 2**20,
            pipeline=pipeline_stats,
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
        del classifier
    return results


def _load(model_path, threads, delegate, backend) -> Classifier:
    try:
        return Classifier(model_path, threads=threads, delegate=delegate, backend=backend)
    except EdgeCNNError as exc:
        if "no edgecnn metadata" not in str(exc):
            raise
    # A plain .tflite: time it with inputs scaled to [-1, 1] (what `edgecnn run --mean 127.5 --std 127.5` does).
    from edgecnn.device.runtime import override_preprocessing

    spec = override_preprocessing(model_path, mean=[127.5], std=[127.5])
    return Classifier(model_path, threads=threads, delegate=delegate, backend=backend, preprocessing=spec)


def _raw_input(classifier: Classifier, frames: list[np.ndarray]) -> np.ndarray:
    """An input tensor of the model's dtype: a prepared frame, or deterministic noise."""
    if frames:
        return classifier.to_input(classifier.prepare(frames[0]))
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, classifier.input.shape[1:], dtype=np.uint8)
    return classifier.to_input(pixels)


def _interleaved(
    classifier: Classifier, frames: list[np.ndarray], model_input: np.ndarray, runs: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Raw invoke and :meth:`FramePipeline.process` (the code ``edgecnn run`` runs per frame), alternating run by
    run: ``(raw [runs], stages [runs, 3])`` with the pipeline's own preprocess, invoke and postprocess timings."""
    clock = time.perf_counter
    pipeline = FramePipeline(classifier, k=k, source="bench")
    raw = np.empty(runs, dtype=np.float64)
    stages = np.empty((runs, 3), dtype=np.float64)
    for i in range(runs):
        t0 = clock()
        classifier.invoke(model_input)
        raw[i] = clock() - t0
        timings = pipeline.process(Frame(frames[i % len(frames)], index=i)).timings
        stages[i] = (timings["preprocess"], timings["invoke"], timings["postprocess"])
    return raw, stages


def format_results(results: list[BenchResult]) -> str:
    """The human-readable table: one row per thread count (and a pipeline table where measured)."""
    if not results:
        return ""
    first = results[0]
    lines = [
        f"model {first.model} (input {first.input}), interpreter {first.backend}, "
        f"{first.runs} runs after {first.warmup} warm-up",
        f"{'threads':>7} {'init':>8} {'first':>8} {'min':>8} {'mean':>8} {'median':>8} {'p90':>8} {'p99':>8} "
        f"{'std':>7} {'peak RSS':>9}",
        f"{'':>7} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>7} {'MiB':>9}",
    ]
    for r in results:
        s = r.latency
        lines.append(
            f"{r.threads or 'default':>7} {r.init_ms:8.1f} {r.first_ms:8.2f} {s['min_ms']:8.2f} "
            f"{s['mean_ms']:8.2f} {s['median_ms']:8.2f} {s['p90_ms']:8.2f} {s['p99_ms']:8.2f} "
            f"{s['std_ms']:7.2f} {r.peak_rss_mb:9.1f}"
        )
    if first.pipeline:
        lines += [
            "",
            f"per-frame pipeline on a {first.pipeline['frame']} frame (prepare + invoke + postprocess), "
            "interleaved with the raw invokes above",
            f"{'threads':>7} {'prep':>8} {'invoke':>8} {'post':>8} {'total':>8} {'median':>8} {'p99':>8} "
            f"{'overhead':>9}",
            f"{'':>7} {'mean ms':>8} {'mean ms':>8} {'mean ms':>8} {'mean ms':>8} {'ms':>8} {'ms':>8} {'(median)':>9}",
        ]
        for r in results:
            p = r.pipeline
            lines.append(
                f"{r.threads or 'default':>7} {p['stages']['preprocess']:8.2f} {p['stages']['invoke']:8.2f} "
                f"{p['stages']['postprocess']:8.2f} {p['latency']['mean_ms']:8.2f} "
                f"{p['latency']['median_ms']:8.2f} {p['latency']['p99_ms']:8.2f} {p['overhead_median']:8.3f}x"
            )
    return "\n".join(lines)

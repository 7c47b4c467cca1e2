"""``edgecnn run``: the camera loop as a daemon (signals, lifecycle, outputs, health and the final summary).

One run loads one persistent classifier, opens the source, and classifies frames until the source ends,
``--max-frames`` or ``--duration`` is reached, or SIGTERM/SIGINT arrives; it then flushes every output (JSON
lines complete, video finalised) and prints a summary. Live sources that drop are reopened with exponential
backoff while ``/healthz`` reports ``degraded``; the process never exits on a transient source failure.

Device side: numpy, OpenCV and LiteRT only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from edgecnn.core.labels import read_labels
from edgecnn.device.capture import EndOfStream, frame_stream
from edgecnn.device.http_server import HttpServer, LiveState, parse_address
from edgecnn.device.metrics import STAGES, LiveValues, PipelineMetrics, RunStats, current_rss_bytes
from edgecnn.device.outputs import DisplayOutput, JsonlOutput, VideoOutput, check_display, draw_overlay
from edgecnn.device.pipeline import FramePipeline, Prediction
from edgecnn.device.run_config import RunOptions
from edgecnn.device.runtime import Classifier, override_preprocessing
from edgecnn.device.sources import FrameSource, cv2_quiet, open_source
from edgecnn.device.stages import invoking, preparing

log = logging.getLogger("edgecnn.device")

STALL_AFTER_S = 10.0
"""A live source that delivered no frame for this long makes ``/healthz`` report degraded."""


def build_classifier(options: RunOptions) -> Classifier:
    """The classifier for the run's model, labels, preprocessing overrides, threads, delegate and backend."""
    labels = read_labels(options.labels) if options.labels else None
    spec = override_preprocessing(
        options.model, mean=options.mean, std=options.std, bgr=options.bgr, resize_mode=options.resize_mode
    )
    return Classifier(
        options.model,
        threads=options.threads,
        delegate=options.delegate,
        labels=labels,
        preprocessing=spec,
        backend=options.interpreter,
    )


def describe_classifier(classifier: Classifier) -> str:
    """One line: model, architecture, input, classes, interpreter backend and threads."""
    meta = classifier.metadata
    arch = f"{meta.arch}, " if meta is not None and meta.arch else ""
    shape = "x".join(str(d) for d in classifier.input.shape[1:])
    threads = classifier.threads or "default"
    return (
        f"model {classifier.path.name} ({arch}input {shape} {classifier.input.dtype.name}, "
        f"{classifier.num_classes} classes); interpreter {classifier.backend}, threads {threads}"
    )


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[dict]:
    """Makes SIGTERM and SIGINT set ``stop`` (a second one forces a KeyboardInterrupt); restores the handlers.

    Yields a dict whose ``"signal"`` key names the signal that arrived. Outside the main thread (where Python
    cannot install handlers) it only yields.
    """
    received: dict[str, str | None] = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        received["signal"] = signal.Signals(signum).name  # no logging here: the handler may interrupt a log call
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(
    options: RunOptions,
    *,
    stop: threading.Event | None = None,
    on_start: Callable[[dict[str, Any]], None] | None = None,
    source: FrameSource | None = None,
) -> dict[str, Any]:
    """Runs the per-frame loop until the source ends, a limit is reached or ``stop`` is set.

    Args:
        options: What to run (see :class:`~edgecnn.device.run_config.RunOptions`).
        stop: Set it (or send SIGTERM/SIGINT) to end the run cleanly.
        on_start: Called once the source is open with ``{"http_url": ..., "source": ..., "backend": ...}``.
        source: A frame source of your own (not opened yet), used instead of ``options.source``.

    Returns:
        The run summary (see :func:`format_summary`).

    Raises:
        EdgeCNNError: For a bad model, labels, option or output, or a source that cannot be opened.
    """
    options.validate()
    stop = stop or threading.Event()
    if options.display:
        check_display()
    if options.http:
        parse_address(options.http)
    classifier = build_classifier(options)
    source = source or open_source(options.source)
    stream = frame_stream(
        source, realtime=options.realtime, loop=options.loop, wait_for_source=options.wait_for_source, stop=stop
    )
    video = None
    if options.save_video:
        live = source.live or options.realtime
        video = VideoOutput(options.save_video, fps=15.0, realtime=live)  # fps set once the source is open
    stats = RunStats()
    stopped_by = "end of source"
    latest: list[Prediction | None] = [None]  # the latest prediction, for /metrics
    metrics = (
        PipelineMetrics(stats, lambda: _live_values(stream, stats, classifier, latest[0])) if options.http else None
    )
    state = LiveState(health=lambda: _health(stream, stats, classifier), metrics=metrics.text if metrics else str)

    with contextlib.ExitStack() as stack:
        received = stack.enter_context(stop_on_signals(stop))
        # Everything that can fail on a bad input happens before the first log line, so that a mistake is
        # reported as exactly one line.
        server = stack.enter_context(HttpServer(options.http, state)) if options.http else None
        jsonl = stack.enter_context(JsonlOutput(options.jsonl)) if options.jsonl else None
        display = stack.enter_context(DisplayOutput()) if options.display else None
        stack.enter_context(stream)
        if video is not None:
            video.fps = float(stream.fps or 15.0)
            stack.enter_context(video)
        log.info(describe_classifier(classifier))
        if classifier.input_note:
            log.info(classifier.input_note)
        if server is not None:
            log.info("serving %s (predictions, stream, healthz, metrics)", server.url)
        log.info(
            "source %s: %s",
            stream.status.name,
            "waiting for it to come up"
            if options.wait_for_source
            else "opened" + (f" ({stream.fps:g} FPS)" if stream.fps else ""),
        )
        pipeline = FramePipeline(
            classifier, k=options.top_k, threshold=options.threshold, smooth=options.smooth, source=stream.status.name
        )
        # OpenCV's thread pool would spread each resize over every core, the interpreter's too; the preparing
        # stage has a thread of its own, so OpenCV runs single-threaded in it (docs/device.md, "What bounds the loop").
        cv2 = cv2_quiet()
        stack.callback(cv2.setNumThreads, cv2.getNumThreads())
        cv2.setNumThreads(1)
        # Three stages in three threads: decode + prepare, invoke, and this one (postprocess, outputs, signals).
        prepared = stack.enter_context(preparing(stream, pipeline))
        invoked = stack.enter_context(invoking(prepared, pipeline))
        if on_start is not None:
            on_start(
                {
                    "http_url": server.url if server else None,
                    "source": stream.status.name,
                    "backend": classifier.backend,
                }
            )
        stats.restart_clock()
        deadline = time.monotonic() + options.duration if options.duration else None
        reconnects = 0
        frames = 0
        while True:
            if stop.is_set():
                stopped_by = f"signal {received['signal']}" if received["signal"] else "stop request"
                log.info("stopping (%s)", stopped_by)
                break
            timeout = 0.25
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    stopped_by = "duration"
                    break
                timeout = min(timeout, remaining)
            try:
                result = invoked.next(timeout)
            except EndOfStream:
                break
            if result is None:
                continue
            frame = result.prepared.frame
            if stream.status.reconnects != reconnects:  # a gap in the stream: forget the smoothing history
                reconnects = stream.status.reconnects
                pipeline.reset()
            prediction = pipeline.finish(result)
            stats.record(prediction.timings)
            latest[0] = prediction
            record = prediction.to_dict() if jsonl is not None or server is not None else None
            if jsonl is not None:
                try:
                    jsonl.write(record)
                except BrokenPipeError:  # `edgecnn run ... --jsonl - | head`: stop quietly
                    if options.jsonl == "-":
                        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    stopped_by = "closed output"
                    break
            if server is not None:
                state.set_prediction(record)
            if video is not None or display is not None or state.wants_frames:
                canvas = draw_overlay(frame.canvas, prediction, stats.live_fps())
                if video is not None:
                    video.write(canvas)
                if display is not None:
                    display.show(canvas)
                state.set_frame(canvas)
            frames += 1
            if display is not None and display.stop_requested:
                stopped_by = "window closed"
                break
            if options.max_frames and frames >= options.max_frames:
                stopped_by = "max frames"
                break
        summary = stats.summary()
    summary.update(
        model=str(classifier.path),
        backend=classifier.backend,
        threads=classifier.threads,
        source=stream.status.name,
        stopped_by=stopped_by,
        dropped=stream.status.dropped,
        reconnects=stream.status.reconnects,
        rss_mb=round(current_rss_bytes() / 2**20, 1),
    )
    if jsonl is not None:
        summary["jsonl"] = {"path": options.jsonl, "lines": jsonl.lines}
    if video is not None:
        summary["video"] = {"path": options.save_video, "frames": video.frames}
    return summary


def _health(stream, stats: RunStats, classifier: Classifier) -> tuple[bool, dict]:
    status = stream.status
    age = time.monotonic() - stats.last_frame_at if stats.last_frame_at is not None else None
    stalled = status.live and age is not None and age > STALL_AFTER_S
    if status.state == "ok" and stats.frames and not stalled:
        verdict = "ok"
    elif status.state in ("starting", "waiting") or (status.state == "ok" and not stats.frames):
        verdict = "starting"
    else:
        verdict = "degraded"
    doc = {
        "status": verdict,
        "source": status.to_dict(),
        "frames": stats.frames,
        "fps": round(stats.live_fps(), 2),
        "last_frame_age_s": None if age is None else round(age, 3),
        "stalled": stalled,
        "model": classifier.path.name,
        "backend": classifier.backend,
    }
    return verdict == "ok", doc


def _live_values(stream, stats: RunStats, classifier: Classifier, latest: Prediction | None) -> LiveValues:
    healthy, _ = _health(stream, stats, classifier)
    info = {
        "model": classifier.path.name,
        "backend": classifier.backend,
        "source": stream.status.name,
        "arch": (classifier.metadata.arch if classifier.metadata else None) or "unknown",
    }
    top_score = latest.top[0].score if latest is not None and latest.top else float("nan")
    return LiveValues(info, healthy, stream.status.dropped, stream.status.reconnects, top_score)


def format_summary(summary: dict[str, Any]) -> str:
    """The human-readable end-of-run summary: frames, FPS and per-stage latency percentiles."""
    lines = [
        f"{summary['frames']} frames in {summary['elapsed_s']:.2f} s ({summary['fps']:.1f} FPS), "
        f"stopped by {summary['stopped_by']}; source {summary['source']}; interpreter {summary['backend']}",
        f"{'stage (ms)':<12} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}",
    ]
    for stage in STAGES:
        s = summary["stages"].get(stage, {})
        if not s.get("count"):
            continue
        lines.append(
            f"{stage:<12} "
            + " ".join(f"{s[key]:>8.2f}" for key in ("mean_ms", "median_ms", "p90_ms", "p99_ms", "max_ms"))
        )
    lines.append(
        f"dropped frames {summary['dropped']}, reconnects {summary['reconnects']}, "
        f"resident memory {summary['rss_mb']} MB"
    )
    for key in ("jsonl", "video"):
        if key in summary:
            lines.append(f"{key}: {summary[key]['path']}")
    return "\n".join(lines)

"""Loop throughput: frames per second of the real ``edgecnn run`` loop against 1 / median raw invoke, side by side.

Target (issue 12): for a 640x480 source that delivers frames faster than the model and a model whose invoke takes
longer than decode + prepare (int8 MobileNet V2 1.0/224, 1 thread), the loop reaches >= 0.95x of 1 / median raw
invoke. The loop runs in three threads (``edgecnn.device.stages``): decode + prepare, invoke, and postprocess +
outputs, so its rate is bounded by the slowest: normally the interpreter's (invoke + handing frames over) or the
capture side's (decode + prepare). For models faster than their preprocessing (the shipped
32x32 one) the capture side bounds it; the tool prints both sides' medians and which one bounds the loop.

Two 640x480 sources, both faster than the model:

- ``camera``: a live source in memory delivering camera-like BGR frames at ``--camera-fps`` (default 1000), as a
  V4L2 camera or Picamera2 delivers decoded frames: the newest-frame capture thread, frames dropped;
- ``video``: a generated MJPG video read in order and looped (every frame is decoded in the preparing thread).

In one process, alternating block by block (raw, loop, raw, loop, ..., raw) so that machine load hits both alike:
raw is ``--frames`` invokes of a second interpreter of the same model and thread count on a prepared frame; loop is
``edgecnn.device.daemon.run`` (what ``edgecnn run MODEL --source ... --max-frames N --threads T`` runs) with its
summary's FPS. A round's ratio is its loop FPS x the median of the raw invokes on both sides of it; the verdict uses
the median of the rounds' ratios.

The loop keeps two cores busy (interpreter, capture) where the raw invoke needs one, so on a machine shared with
other jobs its ratio drops with their load. The tool therefore also reports the CPU time per frame of each of the
loop's threads (read from their CPU clocks during the run; the caller's thread around ``run`` minus a one-frame
run's loading and opening) and the ratio they imply with a core per thread (as on a 4-core Pi): raw invoke CPU /
the busiest thread's CPU. That is an estimate, not a measurement. The MobileNet V2 model is built once into
``--cache-dir`` by ``tools/bench_models.py`` in a subprocess (zoo + TF converter): this process never imports
TensorFlow.

    .venv/bin/python tools/bench_loop.py [--model PATH ...] [--source camera,video] [--rounds 7] [--frames 400]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# This checkout's package, not whichever one the environment has installed (an editable install of another tree).
sys.path[:0] = [str(REPO), str(REPO / "tools")]

from bench_models import DEFAULT_MODEL, ensure_model  # noqa: E402

from edgecnn.device.sources import Frame, FrameSource  # noqa: E402

SHIPPED = REPO / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
TARGET = 0.95
SIZE = (640, 480)


class FastCamera(FrameSource):
    """A live 640x480 source in memory: camera-like frames, each ready ``1 / fps`` seconds after the previous one."""

    name, live = "synthetic camera", True

    def __init__(self, images: list[np.ndarray], fps: float) -> None:
        self.images, self.period, self.fps = images, 1.0 / fps, fps
        self._next_at = 0.0
        self._count = 0

    def open(self) -> None:
        self._next_at = time.monotonic()

    def read(self) -> Frame:
        self._next_at = max(self._next_at + self.period, time.monotonic() - self.period)
        time.sleep(max(0.0, self._next_at - time.monotonic()))  # blocks like a camera waiting for its sensor
        self._count += 1
        return Frame(self.images[self._count % len(self.images)])


def make_video(path: Path, images: list[np.ndarray], frames: int = 120) -> Path:
    """A camera-like MJPG video of ``images``, written once."""
    if path.exists():
        return path
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, SIZE)
    for i in range(frames):
        writer.write(images[i % len(images)])
    writer.release()
    partial.replace(path)
    return path


def _raw_block(classifier, model_input: np.ndarray, count: int, cpu: list[float]) -> list[float]:
    """``count`` timed invokes (wall seconds each); appends their CPU seconds per invoke to ``cpu``."""
    clock = time.perf_counter
    samples = []
    cpu_start = time.thread_time()
    for _ in range(count):
        start = clock()
        classifier.invoke(model_input)
        samples.append(clock() - start)
    cpu.append((time.thread_time() - cpu_start) / count)
    return samples


def _decode_block(video: Path, count: int) -> list[float]:
    """Wall seconds per frame of reading ``count`` frames of the video (what the capture stage decodes)."""
    from edgecnn.device.sources import open_source

    samples = []
    with open_source(str(video)) as source:
        while len(samples) < count:
            start = time.perf_counter()
            if source.read() is None:
                source.open()
                continue
            samples.append(time.perf_counter() - start)
    return samples


class ThreadClocks:
    """CPU seconds of the loop's threads, read from their CPU clocks every few milliseconds until they end."""

    NAMES = ("edgecnn-capture", "edgecnn-prepare", "edgecnn-invoke")

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, _info=None) -> None:
        """``run``'s ``on_start``: the stage threads exist by then."""
        clocks = {t.name: time.pthread_getcpuclockid(t.ident) for t in threading.enumerate() if t.name in self.NAMES}

        def sample() -> None:
            while clocks and not self._stop.is_set():
                for name, clock in list(clocks.items()):
                    try:
                        self.seconds[name] = time.clock_gettime(clock)
                    except OSError:  # the thread has ended
                        del clocks[name]
                self._stop.wait(0.005)

        self._thread = threading.Thread(target=sample, name="bench-clocks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _run(options, source_factory) -> tuple[dict, dict[str, float]]:
    """``run``'s summary and the CPU seconds of each of its threads (``main``: the caller's)."""
    from edgecnn.device.daemon import run

    clocks = ThreadClocks()
    start = time.thread_time()
    try:
        summary = run(options, on_start=clocks.start, source=source_factory())
    finally:
        clocks.stop()
    return summary, {"main": time.thread_time() - start, **clocks.seconds}


def measure(
    model: Path, kind: str, *, video: Path, images, camera_fps: float, rounds: int, frames: int, threads: int
) -> dict:
    """Alternating raw-invoke and loop blocks for one model and source kind; the medians, ratios and bound."""
    from edgecnn.device.run_config import RunOptions
    from edgecnn.device.runtime import Classifier

    classifier = Classifier(model, threads=threads)
    model_input = classifier.to_input(classifier.prepare(images[0]))
    if kind == "camera":
        options = RunOptions(model=str(model), threads=threads, max_frames=frames)

        def source_factory():
            return FastCamera(images, camera_fps)
    else:
        options = RunOptions(model=str(model), source=str(video), loop=True, threads=threads, max_frames=frames)

        def source_factory():
            return None

    cpu_raw: list[float] = []
    cpu_threads: list[dict[str, float]] = []
    _raw_block(classifier, model_input, 20, [])  # warm-up
    _run(replace(options, max_frames=20), source_factory)  # the first run in a process pays one-off costs
    raw_blocks = [_raw_block(classifier, model_input, frames, cpu_raw)]
    loops, decode = [], []
    for _ in range(rounds):
        if kind == "video":
            decode += _decode_block(video, 40)
        summary, cpu = _run(options, source_factory)
        _, setup = _run(replace(options, max_frames=1), source_factory)  # loading and opening, one frame
        loops.append(summary)
        cpu["main"] -= setup["main"]
        cpu_threads.append({name: seconds / frames for name, seconds in cpu.items()})
        raw_blocks.append(_raw_block(classifier, model_input, frames, cpu_raw))
    ratios = [summary["fps"] * statistics.median(raw_blocks[i] + raw_blocks[i + 1]) for i, summary in enumerate(loops)]

    def stage(name: str) -> float:
        return statistics.median(s["stages"][name]["median_ms"] for s in loops)

    decode_ms = statistics.median(decode) * 1e3 if decode else 0.0
    capture_ms = decode_ms + stage("preprocess")
    loop_fps = statistics.median(s["fps"] for s in loops)
    interpreter_ms = 1e3 / loop_fps - stage("wait")  # what the loop spends per frame besides waiting
    cpu_ms = {"raw_invoke": statistics.median(cpu_raw) * 1e3}
    for name in ("edgecnn-invoke", "edgecnn-prepare", "edgecnn-capture", "main"):
        values = [c[name] for c in cpu_threads if name in c]
        if values:
            cpu_ms[name.removeprefix("edgecnn-")] = statistics.median(values) * 1e3
    busiest = max(value for name, value in cpu_ms.items() if name != "raw_invoke")
    return {
        "model": str(model),
        "source": kind,
        "threads": threads,
        "raw_invoke_median_ms": statistics.median(x for block in raw_blocks for x in block) * 1e3,
        "loop_fps": loop_fps,
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "stages_median_ms": {name: stage(name) for name in ("wait", "preprocess", "invoke", "postprocess")},
        "decode_median_ms": decode_ms,
        "capture_side_ms": capture_ms,
        "interpreter_side_ms": interpreter_ms,
        "bound": (
            "source"  # the loop took every frame the source made: it was waiting for the camera
            if kind == "camera" and loop_fps >= 0.9 * camera_fps
            else "interpreter"
            if interpreter_ms >= capture_ms
            else "capture"
        ),
        "dropped": sum(s["dropped"] for s in loops),
        "cpu_per_frame_ms": cpu_ms,
        "cpu_ratio": cpu_ms["raw_invoke"] / busiest,
    }


def _print(results: list[dict], args, load_before) -> None:
    import edgecnn

    print(f"edgecnn from {Path(edgecnn.__file__).parent}; {args.threads} interpreter thread(s)")
    print(
        f"sources: camera = in memory, 640x480 at {args.camera_fps:g} FPS; video = {args.video} (640x480 MJPG, "
        f"in order, looped); {args.rounds} rounds of {args.frames} frames"
    )
    print(
        f"{'model':<34} {'source':<6} {'raw inv':>7} {'loop':>6} {'ratio':>6} | {'wait':>6} {'invoke':>6} "
        f"{'post':>6} | {'decode':>6} {'prep':>6} | {'bound':<11}"
    )
    for r in results:
        s = r["stages_median_ms"]
        print(
            f"{Path(r['model']).name[:34]:<34} {r['source']:<6} {r['raw_invoke_median_ms']:7.3f} {r['loop_fps']:6.0f} "
            f"{r['ratio']:6.3f} | {s['wait']:6.3f} {s['invoke']:6.3f} {s['postprocess']:6.3f} | "
            f"{r['decode_median_ms']:6.3f} {s['preprocess']:6.3f} | {r['bound']:<11}"
        )
    print("CPU ms per frame:    raw invoke | loop threads: invoke, prepare, capture, main | estimate")
    for r in results:
        c = r["cpu_per_frame_ms"]
        threads = ", ".join(f"{c[n]:.3f}" if n in c else "-" for n in ("invoke", "prepare", "capture", "main"))
        print(
            f"{Path(r['model']).stem[:20]:<20} {r['source']:<6} {c['raw_invoke']:7.3f} | {threads:<38} | "
            f"{r['cpu_ratio']:.3f}"
        )
    print("(times are medians in ms; ratio = loop FPS x median raw invoke, median over rounds; estimate = raw invoke")
    print(" CPU / the busiest loop thread's CPU: the ratio with a core per thread)")
    for r in results:
        print(f"rounds, {Path(r['model']).stem} {r['source']}: " + " ".join(f"{x:.3f}" for x in r["ratios"]))
    print(
        f"load average before {', '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    for r in results:
        name = f"{Path(r['model']).name} ({r['source']})"
        if r["bound"] == "source":
            print(
                f"{name}: the source's {args.camera_fps:g} FPS bound the loop ({r['loop_fps']:.0f} FPS, "
                f"{r['ratio']:.3f}x of 1 / raw); run it with a higher --camera-fps to find the loop's own bound"
            )
        elif r["raw_invoke_median_ms"] > r["capture_side_ms"]:
            verdict = "PASS" if r["ratio"] >= TARGET else "FAIL"
            print(f"{name}: {r['ratio']:.3f}x of 1 / raw invoke (target >= {TARGET}x): {verdict}")
        else:
            print(
                f"{name}: invoke ({r['raw_invoke_median_ms']:.3f} ms) is faster than decode + prepare "
                f"({r['capture_side_ms']:.3f} ms): the capture side bounds the loop at about "
                f"{1e3 / r['capture_side_ms']:.0f} FPS; measured {r['loop_fps']:.0f} FPS, {r['ratio']:.3f}x of 1 / raw"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description="edgecnn run's loop throughput vs 1 / median raw invoke.")
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        help="A .tflite model (repeatable; default: the int8 MobileNet V2 1.0/224, then the shipped 32x32 one).",
    )
    parser.add_argument("--source", default="camera,video", help="camera, video or both (comma-separated).")
    parser.add_argument("--camera-fps", type=float, default=1000.0, help="Frame rate of the in-memory camera.")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_MODEL.parent, help="Where the built model goes.")
    parser.add_argument("--rounds", type=int, default=7, help="Loop blocks per model (each between two raw blocks).")
    parser.add_argument("--frames", type=int, default=400, help="Frames per loop block (and invokes per raw block).")
    parser.add_argument("--threads", type=int, default=1, help="Interpreter threads (both sides).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()

    from edgecnn.device.bench import synthetic_frames

    logging.getLogger("edgecnn.device").setLevel(logging.WARNING)
    models = args.model or [ensure_model(args.cache_dir / DEFAULT_MODEL.name), SHIPPED]
    kinds = [k.strip() for k in args.source.split(",") if k.strip()]
    if not kinds or set(kinds) - {"camera", "video"}:
        parser.error(f"--source takes camera, video or both. Received {args.source!r}")
    images = synthetic_frames(*SIZE, count=8)
    args.video = make_video(args.cache_dir / "loop_640x480_mjpg.avi", images)
    load_before = os.getloadavg()
    results = [
        measure(
            model,
            kind,
            video=args.video,
            images=images,
            camera_fps=args.camera_fps,
            rounds=args.rounds,
            frames=args.frames,
            threads=args.threads,
        )
        for model in models
        for kind in kinds
    ]
    assert "tensorflow" not in sys.modules, "the measuring process must not load TensorFlow"
    # The target applies where the interpreter bounds the loop (invoke longer than decode + prepare).
    checked = [r for r in results if r["raw_invoke_median_ms"] > r["capture_side_ms"]]
    passed = all(r["ratio"] >= TARGET for r in checked)
    if args.json:
        import edgecnn

        doc = {"results": results, "target": TARGET, "pass": passed, "cpus": os.cpu_count()}
        doc.update(loadavg_before=load_before, loadavg_after=os.getloadavg(), edgecnn=edgecnn.__file__)
        print(json.dumps(doc, indent=2))
    else:
        _print(results, args, load_before)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

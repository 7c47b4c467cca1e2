"""Loop throughput: frames per second of the real ``edgecnn run`` loop against 1 / median raw invoke, side by side.

Target (issue 12): for a 640x480 source that delivers frames faster than the model and a model whose invoke takes
longer than decode + prepare (int8 MobileNet V2 1.0/224, 1 thread), the loop reaches >= 0.95x of 1 / median raw
invoke. The loop prepares the next frame in another thread while the interpreter runs (``edgecnn.device.prefetch``),
so its rate is bounded by the slower of the two sides: the interpreter's (invoke + postprocess + the loop's own
per-frame work) and the capture side's (decode + prepare). For models faster than their preprocessing (the shipped
32x32 one) the capture side bounds it; the tool prints both sides' medians and which one bounds the loop.

In one process, alternating block by block (raw, loop, raw, loop, ..., raw) so that machine load hits both alike:

- raw: ``--frames`` invokes of a second interpreter of the same model and thread count on a prepared frame;
- loop: ``edgecnn.device.daemon.run`` (what ``edgecnn run MODEL --source VIDEO --loop --max-frames N --threads T``
  runs) on a generated 640x480 MJPG video, read in order (every frame: a source faster than the model);
- decode: the video's frames read with OpenCV alone (the capture side's other half), between the blocks.

A round's ratio is its loop FPS x the median of the raw invokes on both sides of it; the verdict uses the median
of the rounds' ratios. On a machine shared with other jobs the two threads of the loop rarely get two cores at
once, so the tool also reports CPU time per frame of each side (the loop's thread around ``run``, minus a one-frame
run's loading and opening; decode + prepare in this thread) and the ratio they imply with a free core per thread:
raw invoke CPU / max(loop thread CPU, capture CPU). That is an estimate, not a measurement. The MobileNet V2 model
is built once into ``--cache-dir`` by ``tools/bench_models.py`` in a subprocess (zoo + TF converter): this process
never imports TensorFlow.

    .venv/bin/python tools/bench_loop.py [--model PATH ...] [--rounds 7] [--frames 400] [--threads 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# This checkout's package, not whichever one the environment has installed (an editable install of another tree).
sys.path[:0] = [str(REPO), str(REPO / "tools")]

from bench_models import DEFAULT_MODEL, ensure_model  # noqa: E402

SHIPPED = REPO / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
TARGET = 0.95
VIDEO_FRAMES = 120


def make_video(path: Path, width: int = 640, height: int = 480, frames: int = VIDEO_FRAMES) -> Path:
    """A camera-like MJPG video (``edgecnn.device.bench.synthetic_frames``), written once."""
    if path.exists():
        return path
    import cv2

    from edgecnn.device.bench import synthetic_frames

    path.parent.mkdir(parents=True, exist_ok=True)
    images = synthetic_frames(width, height, count=8)
    partial = path.with_name(f".{path.name}")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
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


def _capture_block(video: Path, classifier, count: int, cpu: list[float]) -> list[float]:
    """``count`` frames read from the video (wall seconds each); appends the CPU seconds per frame of reading and
    preparing them (what the preparing thread does) to ``cpu``."""
    from edgecnn.device.sources import open_source

    samples, images = [], []
    cpu_start = time.thread_time()
    with open_source(str(video)) as source:
        while len(samples) < count:
            start = time.perf_counter()
            frame = source.read()
            if frame is None:
                source.open()
                continue
            samples.append(time.perf_counter() - start)
            images.append(frame.image)
    for image in images:
        classifier.to_input(classifier.prepare(image))
    cpu.append((time.thread_time() - cpu_start) / count)
    return samples


def _run_cpu(options) -> tuple[dict, float]:
    """``run(options)``'s summary and the CPU seconds the calling thread (the loop: invoke, postprocess) spent."""
    from edgecnn.device.daemon import run

    start = time.thread_time()
    summary = run(options)
    return summary, time.thread_time() - start


def measure(model: Path, video: Path, *, rounds: int, frames: int, threads: int) -> dict:
    """Alternating raw-invoke and loop blocks for one model; returns the medians, ratios and bound."""
    from dataclasses import replace

    from edgecnn.device.run_config import RunOptions
    from edgecnn.device.runtime import Classifier
    from edgecnn.device.sources import open_source

    classifier = Classifier(model, threads=threads)
    with open_source(str(video)) as source:
        model_input = classifier.to_input(classifier.prepare(source.read().image))
    cpu_raw: list[float] = []
    cpu_capture: list[float] = []
    cpu_loop: list[float] = []
    _raw_block(classifier, model_input, 20, [])  # warm-up
    options = RunOptions(model=str(model), source=str(video), loop=True, threads=threads, max_frames=frames)
    _run_cpu(replace(options, max_frames=20))  # warm-up: the first run in a process pays one-off costs
    raw_blocks = [_raw_block(classifier, model_input, frames, cpu_raw)]
    loops, decode = [], []
    for _ in range(rounds):
        decode += _capture_block(video, classifier, max(20, frames // 10), cpu_capture)
        summary, cpu = _run_cpu(options)
        _, setup_cpu = _run_cpu(replace(options, max_frames=1))  # loading and opening, plus one frame
        loops.append(summary)
        cpu_loop.append((cpu - setup_cpu) / (frames - 1))
        raw_blocks.append(_raw_block(classifier, model_input, frames, cpu_raw))
    ratios = [summary["fps"] * statistics.median(raw_blocks[i] + raw_blocks[i + 1]) for i, summary in enumerate(loops)]

    def stage(name: str) -> float:
        return statistics.median(s["stages"][name]["median_ms"] for s in loops)

    raw_ms = statistics.median(x for block in raw_blocks for x in block) * 1e3
    decode_ms = statistics.median(decode) * 1e3
    capture_ms = decode_ms + stage("preprocess")
    loop_fps = statistics.median(s["fps"] for s in loops)
    interpreter_ms = 1e3 / loop_fps - stage("wait")  # what the loop spends per frame besides waiting
    cpu_ms = {
        "raw_invoke": statistics.median(cpu_raw) * 1e3,
        "loop_thread": statistics.median(cpu_loop) * 1e3,
        "capture": statistics.median(cpu_capture) * 1e3,
    }
    return {
        "model": str(model),
        "threads": threads,
        "raw_invoke_median_ms": raw_ms,
        "loop_fps": loop_fps,
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "stages_median_ms": {name: stage(name) for name in ("wait", "preprocess", "invoke", "postprocess")},
        "decode_median_ms": decode_ms,
        "capture_side_ms": capture_ms,
        "interpreter_side_ms": interpreter_ms,
        "bound": "interpreter" if interpreter_ms >= capture_ms else "capture (decode + prepare)",
        "dropped": sum(s["dropped"] for s in loops),
        # CPU time per frame of each side: with a free core per thread, the loop's ratio would be
        # raw / max(loop thread, capture). Unlike wall time it hardly moves with the load of other processes.
        "cpu_per_frame_ms": cpu_ms,
        "cpu_ratio": cpu_ms["raw_invoke"] / max(cpu_ms["loop_thread"], cpu_ms["capture"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="edgecnn run's loop throughput vs 1 / median raw invoke.")
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        help="A .tflite model (repeatable; default: the int8 MobileNet V2 1.0/224, then the shipped 32x32 one).",
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_MODEL.parent, help="Where the built model goes.")
    parser.add_argument("--rounds", type=int, default=7, help="Loop blocks per model (each between two raw blocks).")
    parser.add_argument("--frames", type=int, default=400, help="Frames per loop block (and invokes per raw block).")
    parser.add_argument("--threads", type=int, default=1, help="Interpreter threads (both sides).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()

    logging.getLogger("edgecnn.device").setLevel(logging.WARNING)
    models = args.model or [ensure_model(args.cache_dir / DEFAULT_MODEL.name), SHIPPED]
    video = make_video(args.cache_dir / "loop_640x480_mjpg.avi")
    load_before = os.getloadavg()
    results = [measure(m, video, rounds=args.rounds, frames=args.frames, threads=args.threads) for m in models]
    assert "tensorflow" not in sys.modules, "the measuring process must not load TensorFlow"
    # The target applies where the interpreter bounds the loop (invoke longer than decode + prepare).
    checked = [r for r in results if r["raw_invoke_median_ms"] > r["capture_side_ms"]]
    passed = all(r["ratio"] >= TARGET for r in checked)
    if args.json:
        import edgecnn

        doc = {
            "results": results,
            "target": TARGET,
            "pass": passed,
            "cpus": os.cpu_count(),
            "edgecnn": edgecnn.__file__,
        }
        doc.update(loadavg_before=load_before, loadavg_after=os.getloadavg(), video=str(video))
        print(json.dumps(doc, indent=2))
        return 0 if passed else 1
    import edgecnn

    print(f"edgecnn {Path(edgecnn.__file__).parent}; source {video} (640x480 MJPG, read in order, looped)")
    print(f"{args.rounds} rounds of {args.frames} frames, {args.threads} interpreter thread(s)")
    print(
        f"{'model':<36} {'raw inv':>8} {'loop':>7} {'ratio':>6} | {'wait':>6} {'invoke':>6} {'post':>6} | "
        f"{'decode':>6} {'prep':>6} | bound"
    )
    print(f"{'':<36} {'ms':>8} {'FPS':>7} {'':>6} | {'loop thread, median ms':>20} | {'capture, ms':>13} |")
    for r in results:
        s = r["stages_median_ms"]
        print(
            f"{Path(r['model']).name[:36]:<36} {r['raw_invoke_median_ms']:8.3f} {r['loop_fps']:7.1f} "
            f"{r['ratio']:6.3f} | {s['wait']:6.3f} {s['invoke']:6.3f} {s['postprocess']:6.3f} | "
            f"{r['decode_median_ms']:6.3f} {s['preprocess']:6.3f} | {r['bound']}"
        )
    print(
        "\nCPU time per frame (ms): raw invoke | loop thread (invoke + postprocess + loop) | capture (decode + prepare)"
    )
    for r in results:
        c = r["cpu_per_frame_ms"]
        print(
            f"{Path(r['model']).name[:36]:<36} {c['raw_invoke']:8.3f} | {c['loop_thread']:8.3f} | {c['capture']:8.3f}"
            f"  -> ratio with a free core per thread {r['cpu_ratio']:.3f}"
        )
    print(
        "\nratio = loop FPS x median raw invoke (median over rounds); per round: "
        + "; ".join(f"{Path(r['model']).stem}: " + " ".join(f"{x:.3f}" for x in r["ratios"]) for r in results)
    )
    print(
        f"load average before {', '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    for r in results:
        if r in checked:
            verdict = "PASS" if r["ratio"] >= TARGET else "FAIL"
            print(f"{Path(r['model']).name}: {r['ratio']:.3f}x of 1 / raw invoke (target >= {TARGET}x): {verdict}")
        else:
            print(
                f"{Path(r['model']).name}: invoke ({r['raw_invoke_median_ms']:.3f} ms) is faster than decode + prepare "
                f"({r['capture_side_ms']:.3f} ms): the capture side bounds the loop at "
                f"{1e3 / r['capture_side_ms']:.0f} FPS; measured {r['loop_fps']:.0f} FPS"
            )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""prepare() speed per preprocessing version, measured side by side (interleaved, same frames, one process).

Version 1 (edgecnn 0.1.0) resizes with OpenCV's INTER_LINEAR, version 2 with INTER_LINEAR_EXACT (bit-identical
on x86 and aarch64; see edgecnn.core.preprocessing). A third column times an integer bilinear written in numpy
(11-bit fixed-point weights, the candidate "resize of our own"), followed by the same area stage and colour
conversion, to show whether it would measure better.

    python tools/bench_prepare.py                 # all cases, 300 interleaved rounds
    python tools/bench_prepare.py --json          # for scripts

Timings on a shared machine are noisy: compare the ratios, which are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np

from edgecnn.core.preprocessing import Preprocessing, prepare

# (name, source height x width x channels, spec)
CASES = [
    ("640x480 BGR -> 224x224 RGB (camera, MobileNet)", (480, 640, 3), Preprocessing.for_model(224, 3)),
    ("320x240 BGR -> 224x224 RGB (Pi lores stream)", (240, 320, 3), Preprocessing.for_model(224, 3)),
    ("1280x720 BGR -> 224x224 RGB (HD camera)", (720, 1280, 3), Preprocessing.for_model(224, 3)),
    ("640x480 BGR -> 32x32 grey (integer factors)", (480, 640, 3), Preprocessing.for_model(32, 1)),
    ("28x28 grey -> 32x32 grey (Fashion-MNIST)", (28, 28, 1), Preprocessing.for_model(32, 1)),
]


def _frame(height: int, width: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (height, width, channels), dtype=np.uint8), (5, 5), 1.5)
    return image.reshape(height, width, channels)


def _taps(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.clip((np.arange(n_dst) + 0.5) * n_src / n_dst - 0.5, 0, n_src - 1)
    x0 = np.floor(x).astype(np.intp)
    return x0, np.minimum(x0 + 1, n_src - 1), np.round((x - x0) * 2048).astype(np.int32)


def numpy_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Separable fixed-point bilinear (half-pixel centres, 11-bit weights): integer maths, the same on any CPU."""
    image = image if image.ndim == 3 else image[:, :, np.newaxis]
    y0, y1, wy = _taps(image.shape[0], height)
    x0, x1, wx = _taps(image.shape[1], width)
    pixels = image.astype(np.int32)
    rows = pixels[y0] * (2048 - wy)[:, None, None] + pixels[y1] * wy[:, None, None]
    out = rows[:, x0] * (2048 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]
    return ((out + (1 << 21)) >> 22).astype(np.uint8).squeeze()


def prepare_numpy(image: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """prepare()'s algorithm with the numpy bilinear stage (stretch only: a crop is a view, the same for all)."""
    height, width = spec.height, spec.width
    factor_y, factor_x = max(1, image.shape[0] // height), max(1, image.shape[1] // width)
    if (image.shape[0], image.shape[1]) != (factor_y * height, factor_x * width):
        image = numpy_bilinear(image, factor_y * height, factor_x * width)
    if factor_y > 1 or factor_x > 1:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    if spec.channels == 1:
        return (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image)[:, :, np.newaxis]
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)


def bench_case(frame: np.ndarray, spec: Preprocessing, rounds: int) -> dict:
    v1 = Preprocessing.from_dict({**spec.to_dict(), "version": 1})
    v2 = Preprocessing.from_dict({**spec.to_dict(), "version": 2})
    variants = {
        "v1_inter_linear": lambda: prepare(frame, v1),
        "v2_inter_linear_exact": lambda: prepare(frame, v2),
        "numpy_integer": lambda: prepare_numpy(frame, v2),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():  # warm-up
        fn()
    names = list(variants)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order every round
            start = time.perf_counter_ns()
            variants[name]()
            times[name].append((time.perf_counter_ns() - start) / 1e6)
    medians = {name: float(np.median(values)) for name, values in times.items()}
    v1_out, v2_out = prepare(frame, v1), prepare(frame, v2)
    return {
        "median_ms": {name: round(value, 4) for name, value in medians.items()},
        "ratio_v2_over_v1": round(medians["v2_inter_linear_exact"] / medians["v1_inter_linear"], 3),
        "ratio_numpy_over_v2": round(medians["numpy_integer"] / medians["v2_inter_linear_exact"], 3),
        "max_pixel_diff_v1_v2": int(np.abs(v1_out.astype(int) - v2_out.astype(int)).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="interleaved rounds per case")
    parser.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's own)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    results = {}
    for name, shape, spec in CASES:
        results[name] = bench_case(_frame(*shape), spec, args.rounds)
    if args.json:
        print(json.dumps({"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "cases": results}, indent=1))
        return
    print(
        f"prepare() per frame, median of {args.rounds} interleaved rounds "
        f"(OpenCV {cv2.__version__}, {cv2.getNumThreads()} thread(s))"
    )
    print(f"{'case':<50} {'v1 ms':>8} {'v2 ms':>8} {'v2/v1':>6} {'numpy ms':>9} {'numpy/v2':>9}")
    for name, r in results.items():
        m = r["median_ms"]
        print(
            f"{name:<50} {m['v1_inter_linear']:>8.3f} {m['v2_inter_linear_exact']:>8.3f} "
            f"{r['ratio_v2_over_v1']:>6.2f} {m['numpy_integer']:>9.3f} {r['ratio_numpy_over_v2']:>9.2f}"
        )


if __name__ == "__main__":
    main()

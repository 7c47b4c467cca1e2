"""Pipeline overhead: the whole per-frame path against the raw interpreter invoke, side by side in one run.

Target: preprocess (``prepare`` a 640x480 BGR frame + input conversion) + invoke + postprocess (dequantise +
top-5) <= 1.10x the raw invoke, for an int8 MobileNet V2 (alpha 1.0, 224x224x3). The pipeline is the daemon's own
``FramePipeline.process`` (what ``edgecnn run`` calls per frame). Both are timed in the same loop, alternating run by
run (see ``edgecnn.device.bench.benchmark(pipeline=True)``), so machine load hits both alike.
The verdict uses the ratio of the medians; the ratios of the means and of the fastest runs are printed too.
The model is built by ``tools/bench_models.py`` in a subprocess: this process never imports TensorFlow.

    .venv/bin/python tools/bench_pipeline.py [--model PATH] [--threads 1,2] [--runs 300] [--frame 640x480] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import ensure_model  # noqa: E402

TARGET = 1.10


def main() -> int:
    parser = argparse.ArgumentParser(description="Per-frame pipeline vs raw invoke (int8 MobileNet V2, 224).")
    parser.add_argument("--model", type=Path, default=None, help="A .tflite model (default: build the int8 one).")
    parser.add_argument("--threads", default="1,2", help="Thread counts, comma-separated.")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--frame", default="640x480", help="Frame size WIDTHxHEIGHT (the target is for 640x480).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()

    from edgecnn.core.parsing import parse_list, parse_size
    from edgecnn.device.bench import benchmark, format_results

    model = ensure_model(args.model)
    threads = list(parse_list(args.threads, int, "threads"))
    frame = parse_size(args.frame, "frame", square=False)
    results = benchmark(
        model, threads=threads, runs=args.runs, warmup=args.warmup, pipeline=True, k=5, frame_size=frame.wh
    )
    assert "tensorflow" not in sys.modules, "the measuring process must not load TensorFlow"
    # The verdict uses the ratio of medians: on a shared machine a few preempted runs swing the means either way.
    verdicts = {r.threads: r.pipeline["overhead_median"] <= TARGET for r in results}
    if args.json:
        print(
            json.dumps(
                {
                    "results": [r.to_dict() for r in results],
                    "target": TARGET,
                    "pass": all(verdicts.values()),
                    "cpus": os.cpu_count(),
                    "loadavg": os.getloadavg(),
                },
                indent=2,
            )
        )
    else:
        print(format_results(results))
        print(f"\nload average {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        for r in results:
            p = r.pipeline
            print(
                f"threads {r.threads}: pipeline {p['latency']['median_ms']:.2f} ms vs raw invoke "
                f"{r.latency['median_ms']:.2f} ms (medians) = {p['overhead_median']:.3f}x; means "
                f"{p['overhead']:.3f}x, fastest runs {p['overhead_min']:.3f}x (target <= {TARGET}x): "
                f"{'PASS' if verdicts[r.threads] else 'FAIL'}"
            )
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

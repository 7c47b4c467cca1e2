"""Training throughput through edgecnn's input pipeline vs ``model.fit`` on the same in-memory tensors.

Both sides train the same compiled model on the same prepared pixels, interleaved (A B A B ...) so that load
from other processes hits both alike; the reported figure is the median images/s of each side and their ratio
(pipeline / plain). The pipeline side includes shuffling, float conversion, one-hot labels and, unless
``--no-augment``, the batched augmentation used in training. Target: ratio >= 0.9.

    .venv/bin/python tools/bench_input_pipeline.py --arch mobilenet_v2 --alpha 0.35 --size 32 --images 12800
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def _data(source: str, size: int, images: int, seed: int) -> tuple[np.ndarray, np.ndarray, int, str]:
    from edgecnn.core.errors import EdgeCNNError
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.training.data import load_arrays, open_source

    try:
        channels = open_source(source).channels
        x, y, labels = load_arrays(source, Preprocessing.for_model(size, channels), "train", limit=images, seed=seed)
        return x, y, len(labels), source
    except EdgeCNNError as exc:
        print(f"note: {exc}; using random pixels", file=sys.stderr)
        rng = np.random.default_rng(seed)
        return (
            rng.integers(0, 256, (images, size, size, 1), dtype=np.uint8),
            rng.integers(0, 10, images).astype(np.int64),
            10,
            "random",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="mobilenet_v2")
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--data", default="fashion_mnist", help="data source (falls back to random pixels)")
    parser.add_argument("--images", type=int, default=12800, help="training images per timed epoch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per side (interleaved)")
    parser.add_argument("--no-augment", action="store_true", help="time the pipeline without augmentation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    from edgecnn.training._tf import import_tf
    from edgecnn.training.data.pipeline import Augment, memory_dataset
    from edgecnn.training.zoo import build_model

    tf, keras = import_tf()
    x, y, classes, source = _data(args.data, args.size, args.images, args.seed)
    keras.utils.set_random_seed(args.seed)
    model = build_model(args.arch, alpha=args.alpha, size=args.size, channels=x.shape[-1], classes=classes)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )

    x_float = tf.constant(x.astype(np.float32))
    y_onehot = tf.constant(np.eye(classes, dtype=np.float32)[y])
    augment = None if args.no_augment else Augment()
    ours = memory_dataset(
        x, y, num_classes=classes, batch_size=args.batch_size, training=True, augment=augment, seed=args.seed
    )
    n = (len(x) // args.batch_size) * args.batch_size  # both sides train on whole batches only
    plain_x, plain_y = x_float[:n], y_onehot[:n]

    def plain_epoch() -> float:
        start = time.perf_counter()
        model.fit(plain_x, plain_y, batch_size=args.batch_size, epochs=1, shuffle=True, verbose=0)
        return n / (time.perf_counter() - start)

    def pipeline_epoch() -> float:
        start = time.perf_counter()
        model.fit(ours, epochs=1, shuffle=False, verbose=0)
        return n / (time.perf_counter() - start)

    plain_epoch(), pipeline_epoch()  # warm-up: tracing, thread pools
    plain, pipeline = [], []
    for _ in range(args.repeats):
        plain.append(plain_epoch())
        pipeline.append(pipeline_epoch())
    result = {
        "arch": args.arch,
        "alpha": args.alpha,
        "size": args.size,
        "data": source,
        "images": n,
        "batch_size": args.batch_size,
        "augment": augment is not None,
        "repeats": args.repeats,
        "plain_fit_images_per_s": round(statistics.median(plain), 1),
        "pipeline_images_per_s": round(statistics.median(pipeline), 1),
        "plain_runs": [round(v, 1) for v in plain],
        "pipeline_runs": [round(v, 1) for v in pipeline],
    }
    result["ratio"] = round(result["pipeline_images_per_s"] / result["plain_fit_images_per_s"], 3)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.arch} alpha {args.alpha} @ {args.size}, {n} images/epoch, batch {args.batch_size}, "
            f"data {source}, {args.repeats} interleaved epochs per side"
        )
        print(
            f"  model.fit on in-memory tensors : {result['plain_fit_images_per_s']:8.1f} images/s  "
            f"{result['plain_runs']}"
        )
        print(
            f"  edgecnn pipeline{' + augment' if augment else '         '}       : "
            f"{result['pipeline_images_per_s']:8.1f} images/s  {result['pipeline_runs']}"
        )
        print(f"  ratio pipeline / plain         : {result['ratio']:.3f}  (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

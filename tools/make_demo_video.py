"""Writes a video of held-out images (one image per frame) and a ground-truth label file beside it.

The video stands in for a camera in the quick-start demo: ``edgecnn run`` classifies it frame by frame and
``tools/score_predictions.py`` compares its JSON lines with the ground truth.

Example:
    python tools/make_demo_video.py --data fashion_mnist --split test --count 300 --out demo/heldout.avi
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edgecnn.core.files import atomic_path
from edgecnn.core.labels import write_labels
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training.data import load_arrays


def write_video(frames: list[np.ndarray], out: Path, fps: float) -> str:
    """Writes BGR frames losslessly where the OpenCV build can (FFV1), else as high-quality MJPG."""
    height, width = frames[0].shape[:2]
    for fourcc in ("FFV1", "MJPG"):
        with atomic_path(out) as tmp:
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
            if not writer.isOpened():
                raise OSError(f"cannot open a {fourcc} video writer")  # removes tmp, tries the next codec
            if fourcc == "MJPG":
                writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
            for frame in frames:
                writer.write(frame)
            writer.release()
        return fourcc
    raise RuntimeError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion_mnist", help="dataset source, as for `edgecnn train --data`")
    parser.add_argument("--split", default="test")
    parser.add_argument("--count", type=int, default=300, help="number of frames (stratified over classes)")
    parser.add_argument("--frame-size", type=int, default=224, help="frame width and height in pixels")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("demo/heldout.avi"))
    args = parser.parse_args()

    native = Preprocessing(height=28, width=28, channels=1, color_order="GRAY")
    if args.data not in ("fashion_mnist", "mnist"):
        native = Preprocessing.for_model(args.frame_size, 3)
    images, labels, names = load_arrays(args.data, native, args.split, limit=args.count, seed=args.seed)
    order = np.random.default_rng(args.seed).permutation(len(images))
    frames = []
    for i in order:
        frame = cv2.resize(images[i], (args.frame_size, args.frame_size), interpolation=cv2.INTER_NEAREST)
        frames.append(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 or frame.shape[-1] == 1 else frame)
    codec = write_video(frames, args.out, args.fps)
    truth = write_labels(args.out.with_suffix(".labels.txt"), (names[labels[i]] for i in order))
    print(f"wrote {args.out} ({len(frames)} frames, {codec}) and {truth}")


if __name__ == "__main__":
    main()

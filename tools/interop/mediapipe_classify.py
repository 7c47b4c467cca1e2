"""Classifies images with MediaPipe Tasks' ImageClassifier: the phone-side client that edgecnn exports must work in.

Runs in an environment that has ``mediapipe`` (``bash tools/interop/setup_envs.sh``; it is kept apart from edgecnn's
because it brings opencv-contrib-python). Prints one JSON line per image on stdout::

    {"path": "a.png", "categories": [{"index": 3, "name": "Dress", "score": 0.91}, ...]}   # best first

Usage: ``python tools/interop/mediapipe_classify.py MODEL.tflite IMAGE_OR_DIR... [--bgr]``. Images are read with
OpenCV and handed to MediaPipe as RGB (``--bgr``: with the channels swapped, to show a model's colour sensitivity).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def image_paths(items: list[str]) -> list[Path]:
    """The image files named, folders expanded (sorted by name)."""
    paths: list[Path] = []
    for item in map(Path, items):
        paths += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if item.is_dir() else [item]
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--bgr", action="store_true", help="Swap the channels before classifying.")
    args = parser.parse_args(argv)

    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=args.model), max_results=-1)
    with vision.ImageClassifier.create_from_options(options) as classifier:
        for path in image_paths(args.images):
            pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if pixels is None:
                print(f"cannot read {path}", file=sys.stderr)
                return 2
            if not args.bgr:
                pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
            result = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=pixels))
            categories = [
                {"index": c.index, "name": c.category_name, "score": round(float(c.score), 6)}
                for c in result.classifications[0].categories
            ]
            print(json.dumps({"path": str(path), "categories": categories}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

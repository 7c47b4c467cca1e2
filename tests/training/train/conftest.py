"""A tiny learnable image folder for training tests: three classes told apart by their colour."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

COLOURS = {"blue": (200, 40, 40), "green": (40, 200, 40), "red": (40, 40, 200)}  # BGR


def make_colour_folder(root: Path, per_class: int = 16, seed: int = 0) -> Path:
    """``root/<colour>/<i>.png``: noisy images of various sizes tinted by their class colour."""
    rng = np.random.default_rng(seed)
    for name, bgr in COLOURS.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = (int(v) for v in rng.integers(24, 48, 2))
            noise = rng.normal(0, 40, (h, w, 3))
            image = np.clip(np.asarray(bgr, np.float64) + noise, 0, 255).astype(np.uint8)
            assert cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return root


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory) -> Path:
    """48 images in three colour classes."""
    return make_colour_folder(tmp_path_factory.mktemp("colours") / "data")

"""Fixtures for the sweep tests: a generated image dataset and one tiny sweep shared by the session."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

TINY_GRID = {
    "archs": ("mobilenet_v1", "squeezenet_1_1"),
    "alphas": (0.25,),
    "sizes": (32,),
    "schemes": ("float32", "int8"),
}
TINY_SETTINGS = {"epochs": 1, "batch_size": 16, "seed": 0, "bench_runs": 5, "bench_warmup": 1, "calib_samples": 16}


def _pattern(cls: int, rng: np.random.Generator) -> np.ndarray:
    """A 36x36 BGR image whose structure depends on the class: stripes across, stripes down, or a blob."""
    image = rng.integers(0, 60, size=(36, 36, 3), dtype=np.uint8)
    if cls == 0:
        image[::6] = 230
    elif cls == 1:
        image[:, ::6] = 230
    else:
        cv2.circle(image, (18, 18), 9, (40, 200, 240), -1)
    return image


@pytest.fixture(scope="session")
def sweep_data(tmp_path_factory) -> Path:
    """A three-class image folder with ``train/`` (24 per class) and ``test/`` (8 per class)."""
    root = tmp_path_factory.mktemp("sweep_data")
    rng = np.random.default_rng(0)
    for split, count in (("train", 24), ("test", 8)):
        for cls, name in enumerate(("across", "down", "blob")):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                cv2.imwrite(str(folder / f"{i:03d}.png"), _pattern(cls, rng))
    return root


@pytest.fixture(scope="session")
def tiny_sweep(sweep_data, tmp_path_factory):
    """One tiny sweep run through the CLI (2 configs x 2 schemes, 1 epoch), with --select.

    Returns a dict with ``out`` (the sweep folder; tests must copy it before changing it), ``result`` (the
    CLI result), ``selected`` (the --select-to path) and ``args``.
    """
    from typer.testing import CliRunner

    from edgecnn.cli import app

    base = tmp_path_factory.mktemp("tiny_sweep")
    out = base / "sweep"
    selected = base / "shipped" / "tiny_{arch}_{alpha}_{size}_{scheme}.tflite"
    args = [
        "sweep",
        "--data",
        str(sweep_data),
        "--arch",
        ",".join(TINY_GRID["archs"]),
        "--alpha",
        "0.25",
        "--size",
        "32",
        "--quantize",
        ",".join(TINY_GRID["schemes"]),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--bench-runs",
        "5",
        "--bench-warmup",
        "1",
        "--calib-samples",
        "16",
        "--out",
        str(out),
        "--no-progress",
        "--select",
        "--min-accuracy",
        "0",
        "--select-to",
        str(selected),
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    return {"out": out, "result": result, "selected": selected, "args": args}


@pytest.fixture
def sweep_copy(tiny_sweep, tmp_path) -> Path:
    """A copy of the tiny sweep's folder that a test may change."""
    return Path(shutil.copytree(tiny_sweep["out"], tmp_path / "sweep_copy"))


@pytest.fixture(scope="session")
def tiny_config(sweep_data):
    """``tiny_config(**changes)``: the tiny sweep's :class:`SweepConfig`, with changes."""
    from edgecnn.sweep.config import SweepConfig

    def make(**changes) -> SweepConfig:
        return SweepConfig(data=str(sweep_data), **{**TINY_GRID, **TINY_SETTINGS, **changes})

    return make

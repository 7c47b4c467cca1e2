"""Fixtures of the device tests: tiny real .tflite models (committed under fixtures/, made by
tools/make_test_fixtures.py with TF's converter; the tests need no TensorFlow), videos, image folders and a
restartable MJPEG server on 127.0.0.1.

The models classify a frame's dominant colour (red, green, blue, dark): every prediction is checkable, and a red
BGR frame must come out "red" (which also proves the BGR -> RGB conversion). See tools/make_test_fixtures.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `import device_helpers` (importlib import mode)

from device_helpers import LABELS, MjpegServer, solid, write_video  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Paths of: ``float`` and ``int8`` (uint8 I/O) models with edgecnn metadata; ``plain`` (float, no metadata,
    expects inputs in [-1, 1] so it needs ``--mean 127.5 --std 127.5``); ``features`` (4-D output, not a class
    vector); ``labels`` (a labels file for ``plain``). The models are the committed files: read them, never
    write them."""
    paths = {
        "float": FIXTURES / "colour_float.tflite",
        "int8": FIXTURES / "colour_int8.tflite",
        "plain": FIXTURES / "colour_plain.tflite",
        "features": FIXTURES / "features.tflite",
    }
    missing = [str(path) for path in paths.values() if not path.is_file()]
    assert not missing, f"fixtures missing (python tools/make_test_fixtures.py): {missing}"
    paths["labels"] = tmp_path_factory.mktemp("models") / "labels.txt"
    paths["labels"].write_text("\n".join(LABELS) + "\n")
    return paths


@pytest.fixture
def colour_video(tmp_path) -> Path:
    """30 frames: 8 red, 8 green, 8 blue, 6 dark (see :data:`COLOUR_SEQUENCE`)."""
    return write_video(tmp_path / "colours.avi")


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """PNG/JPEG images named so that name order is blue, dark, green, red, plus a non-image file."""
    import cv2

    folder = tmp_path / "images"
    folder.mkdir()
    for i, colour in enumerate(["blue", "dark", "green", "red"]):
        cv2.imwrite(str(folder / f"{i:02d}_{colour}.{'png' if i % 2 else 'jpg'}"), solid(colour))
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def mjpeg_server():
    server = MjpegServer().start()
    yield server
    server.stop()

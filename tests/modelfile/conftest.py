"""Fixtures of the model-file tests: real ``.tflite`` files, one per quantisation scheme, committed under
fixtures/ (made by tools/make_test_fixtures.py through edgecnn's own converter; the tests need no TensorFlow). The
shipped Fashion-MNIST model adds a file written by edgecnn 0.1.0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The committed files, ``<scheme>_<io>.tflite`` (see tools/make_test_fixtures.py).
NAMES = ("float32_float32", "float16_float32", "dynamic_float32", "int8_uint8", "int8_float32")


@pytest.fixture(scope="session")
def model_files() -> dict[str, Path]:
    """``{"<scheme>_<io>": path}`` of the committed files, plus ``"shipped"`` (the committed model). Read them,
    never write them."""
    files = {"shipped": SHIPPED, **{name: FIXTURES / f"{name}.tflite" for name in NAMES}}
    missing = [str(path) for path in files.values() if not path.is_file()]
    assert not missing, f"fixtures missing (python tools/make_test_fixtures.py): {missing}"
    return files

"""Fixtures shared by every test directory: the separate environments of the interop tests.

MediaPipe and tflite-support do not fit in edgecnn's environment (opencv-contrib-python, old protobuf), so
``bash tools/interop/setup_envs.sh`` makes a venv for each under ``EDGECNN_INTEROP_ENVS`` (default
``.venv-interop``). Tests that need one get its Python, or skip with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _interop_python(name: str, package: str) -> Path:
    root = Path(os.environ.get("EDGECNN_INTEROP_ENVS", REPO / ".venv-interop"))
    python = root / name / "bin" / "python"
    if not python.is_file():
        pytest.skip(f"{package} is not installed at {python.parent.parent} (bash tools/interop/setup_envs.sh)")
    return python


@pytest.fixture(scope="session")
def mediapipe_python() -> Path:
    """The Python of the MediaPipe Tasks environment (mediapipe 1.2.3)."""
    return _interop_python("mediapipe", "mediapipe")


@pytest.fixture(scope="session")
def tflite_support_python() -> Path:
    """The Python of the tflite-support environment (its metadata writer, 0.4.4)."""
    return _interop_python("tflite-support", "tflite-support")

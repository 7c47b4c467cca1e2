"""The training side's single TensorFlow import point."""

from __future__ import annotations

import subprocess
import sys


def test_importing_tensorflow_prints_nothing():
    """TensorFlow logs ``oneDNN custom operations are on`` while it loads, before TF_CPP_MIN_LOG_LEVEL is read."""
    code = "from edgecnn.training._tf import import_tf; tf, keras = import_tf(); print(tf.__name__, keras.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "tensorflow keras\n"
    assert done.stderr == "", done.stderr

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


def test_tensorflow_logs_errors_only_and_to_the_real_stderr():
    """Its logger is set up inside the quiet import; later records must reach stderr, not the closed log file."""
    code = (
        "from edgecnn.training._tf import import_tf; tf, _ = import_tf(); "
        "tf.get_logger().warning('a retracing warning'); tf.get_logger().error('an error')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "an error" in done.stderr
    assert "a retracing warning" not in done.stderr
    assert "Logging error" not in done.stderr

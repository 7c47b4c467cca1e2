"""The single place where the training side imports TensorFlow and Keras.

Importing through :func:`import_tf` silences TensorFlow's C++ start-up chatter and gives a one-line error
when the ``train`` extra is not installed. Device-side modules must never call it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from types import ModuleType

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.quiet import quiet


def import_tf() -> tuple[ModuleType, ModuleType]:
    """Returns ``(tensorflow, keras)``, importing them quietly on first use.

    Raises:
        EdgeCNNError: If TensorFlow is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules:
        # TensorFlow 2.16+ logs ``oneDNN custom operations are on`` (and, with a GPU wheel, CUDA probing) while it
        # loads, before absl reads TF_CPP_MIN_LOG_LEVEL: only an fd-level redirection keeps it out.
        # An ImportError is reported below, with its message.
        with quiet(prefix="edgecnn-tf-import-") as captured, contextlib.suppress(ImportError):
            import tensorflow  # noqa: F401
        captured.discard()
        # Python-level warnings such as "N out of the last M calls ... triggered tf.function retracing" (a sweep's
        # trials each build new models) are not for users: errors only.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import tensorflow as tf  # noqa: I001  (TensorFlow first: it configures Keras' backend)
        import keras
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EdgeCNNError(
            f"this command needs TensorFlow ({exc}); install the training side with: pip install 'edgecnn[train]'"
        ) from exc
    return tf, keras

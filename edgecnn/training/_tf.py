"""The single place where the training side imports TensorFlow and Keras.

Importing through :func:`import_tf` silences TensorFlow's C++ start-up chatter and gives a one-line error
when the ``train`` extra is not installed. Device-side modules must never call it.
"""

from __future__ import annotations

import os
from types import ModuleType

from edgecnn.core.errors import EdgeCNNError


def import_tf() -> tuple[ModuleType, ModuleType]:
    """Returns ``(tensorflow, keras)``, importing them quietly on first use.

    Raises:
        EdgeCNNError: If TensorFlow is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf  # noqa: I001  (TensorFlow first: it configures Keras' backend)
        import keras
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EdgeCNNError(
            f"this command needs TensorFlow ({exc}); install the training side with: pip install 'edgecnn[train]'"
        ) from exc
    return tf, keras

"""The self-description that edgecnn embeds in every exported ``.tflite`` file.

The metadata is a UTF-8 JSON document stored as a flatbuffer ``Metadata`` entry named ``edgecnn`` (a standard
field of the TFLite schema, ignored by interpreters, so the file stays a valid model for any LiteRT/TFLite
runtime). Export writes it (training side, see ``edgecnn.training.export``); the device side reads it back here with
the flatbuffer reader in :mod:`edgecnn.modelfile.tflite_file`, no TensorFlow needed.

Document layout (``format`` = ``edgecnn/1``)::

    {
      "format": "edgecnn/1",
      "edgecnn_version": "0.1.0",
      "arch": "mobilenet_v2", "alpha": 0.35, "separable": true,
      "labels": ["T-shirt/top", ...],
      "preprocessing": {...Preprocessing.to_dict()...},
      "output": "probabilities",
      "quantization": {"scheme": "int8", "input_dtype": "uint8", "output_dtype": "uint8",
                       "input_scale": 1.0, "input_zero_point": 0, "output_scale": 0.0039, "output_zero_point": 0},
      "metrics": {"keras_val_accuracy": 0.93, "tflite_accuracy": 0.93, ...},
      "created": "2026-11-22T15:00:00Z"
    }
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.modelfile.tflite_file import ModelFile

METADATA_NAME = "edgecnn"
FORMAT = "edgecnn/1"


@dataclass
class ModelMetadata:
    """What an edgecnn ``.tflite`` says about itself.

    Attributes:
        labels: Class names, in output order.
        preprocessing: How to turn a frame into the input tensor.
        arch: Architecture name (``mobilenet_v2``...), or None for foreign models.
        alpha: Width multiplier.
        separable: Whether depthwise-separable convolutions were used.
        output: "probabilities" (softmax in the model) or "logits".
        quantization: Scheme, I/O dtypes and quantisation parameters.
        metrics: Training and verification metrics.
        extra: Any other keys, kept for round trips.
    """

    labels: list[str]
    preprocessing: Preprocessing
    arch: str | None = None
    alpha: float | None = None
    separable: bool | None = None
    output: str = "probabilities"
    quantization: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document, ``format`` and ``edgecnn_version`` included."""
        from edgecnn import __version__

        doc = {"format": FORMAT, "edgecnn_version": __version__, **self.extra}
        doc.update(
            arch=self.arch,
            alpha=self.alpha,
            separable=self.separable,
            labels=list(self.labels),
            preprocessing=self.preprocessing.to_dict(),
            output=self.output,
            quantization=dict(self.quantization),
            metrics=dict(self.metrics),
        )
        return doc

    def to_json_bytes(self) -> bytes:
        """The document as the UTF-8 bytes that go into the flatbuffer."""
        return json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ModelMetadata:
        """Reads a document written by :meth:`to_dict`."""
        if not str(doc.get("format", "")).startswith("edgecnn/"):
            raise EdgeCNNError(f"unknown metadata format {doc.get('format')!r}")
        known = {"arch", "alpha", "separable", "labels", "preprocessing", "output", "quantization", "metrics"}
        return cls(
            labels=[str(label) for label in doc.get("labels", [])],
            preprocessing=Preprocessing.from_dict(doc["preprocessing"]),
            arch=doc.get("arch"),
            alpha=doc.get("alpha"),
            separable=doc.get("separable"),
            output=doc.get("output", "probabilities"),
            quantization=dict(doc.get("quantization") or {}),
            metrics=dict(doc.get("metrics") or {}),
            extra={k: v for k, v in doc.items() if k not in known},
        )


def read_metadata_from_bytes(model_bytes: bytes) -> ModelMetadata | None:
    """The embedded metadata of a ``.tflite`` model, or None when it has none of ours.

    Raises:
        EdgeCNNError: If the bytes are not a TFLite model or our entry is unreadable.
    """
    entry = ModelFile(model_bytes).metadata(METADATA_NAME)
    if entry is None:
        return None
    try:
        return ModelMetadata.from_dict(json.loads(entry.decode("utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise EdgeCNNError(f"the embedded edgecnn metadata is unreadable ({exc})") from exc


def read_metadata(path: str | os.PathLike) -> ModelMetadata | None:
    """The embedded metadata of the ``.tflite`` file at ``path``, or None when it has none of ours."""
    return read_metadata_from_bytes(read_model_bytes(path))


def read_model_bytes(path: str | os.PathLike) -> bytes:
    """Reads a model file with one-line errors for the usual mistakes (missing, a directory, empty)."""
    path = Path(path)
    if not path.exists():
        raise EdgeCNNError(f"model file not found: {path}")
    if path.is_dir():
        raise EdgeCNNError(f"expected a .tflite file, got a directory: {path}")
    data = path.read_bytes()
    if not data:
        raise EdgeCNNError(f"model file is empty: {path}")
    return data

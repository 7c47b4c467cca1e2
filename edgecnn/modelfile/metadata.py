"""The self-description that edgecnn embeds in every exported ``.tflite`` file.

The metadata is a UTF-8 JSON document stored as a flatbuffer ``Metadata`` entry named ``edgecnn`` (a standard
field of the TFLite schema, ignored by interpreters, so the file stays a valid model for any LiteRT/TFLite
runtime). Export writes it (training side, see ``edgecnn.training.export``); the device side reads it back here with
the flatbuffer reader in :mod:`edgecnn.modelfile.tflite_file`, no TensorFlow needed.

Document layout (``format`` = ``edgecnn/2``; the fields are documented as a schema in ``docs/export.md``)::

    {
      "format": "edgecnn/2",
      "edgecnn_version": "0.2.0",
      "arch": "mobilenet_v2", "alpha": 0.35, "separable": true,
      "labels": ["T-shirt/top", ...],
      "preprocessing": {"height": 32, "width": 32, "channels": 1, "color_order": "GRAY", "resize_mode": "stretch",
                        "interpolation": "auto", "normalization": "in-model",
                        "in_model_mean": [127.5], "in_model_std": [127.5]},
      "output": "probabilities",
      "quantization": {"scheme": "int8", "input_dtype": "uint8", "output_dtype": "uint8",
                       "input_scale": 1.0, "input_zero_point": 0, "output_scale": 0.0039, "output_zero_point": 0},
      "metrics": {"training": {...}, "verification": {...}},
      "created": "2026-11-22T15:00:00Z"
    }

``normalization`` says what the caller applies: ``in-model`` means nothing (raw 0..255 pixels go in; the model
normalises inside, with the ``in_model_mean``/``in_model_std`` it was built with, recorded for reference only);
``mean-std`` means the caller feeds ``(pixel - mean) / std`` with the ``mean`` and ``std`` given. Version 1 files
(edgecnn 0.1.0) wrote ``mean``/``std`` for both, which a reader could take as values to apply to an in-model
input; they are read as version 2 reads them.
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
FORMAT = "edgecnn/2"
#: Keys of an in-model preprocessing record that hold the normalisation done inside the model (not to apply).
IN_MODEL_KEYS = {"mean": "in_model_mean", "std": "in_model_std"}


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

        doc = {**self.extra, "format": FORMAT, "edgecnn_version": __version__}
        doc.update(
            arch=self.arch,
            alpha=self.alpha,
            separable=self.separable,
            labels=list(self.labels),
            preprocessing=preprocessing_record(self.preprocessing),
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
            preprocessing=read_preprocessing_record(doc["preprocessing"]),
            arch=doc.get("arch"),
            alpha=doc.get("alpha"),
            separable=doc.get("separable"),
            output=doc.get("output", "probabilities"),
            quantization=dict(doc.get("quantization") or {}),
            metrics=dict(doc.get("metrics") or {}),
            extra={k: v for k, v in doc.items() if k not in known},
        )


def preprocessing_record(spec: Preprocessing) -> dict[str, Any]:
    """The ``preprocessing`` record of the document: an in-model spec's mean/std under names that say so."""
    record = spec.to_dict()
    if spec.normalization == "in-model":
        for key, renamed in IN_MODEL_KEYS.items():
            record[renamed] = record.pop(key)
    return record


def read_preprocessing_record(record: dict[str, Any]) -> Preprocessing:
    """Reads a ``preprocessing`` record of either version (version 1 stored ``mean``/``std`` for in-model too)."""
    record = dict(record)
    for key, renamed in IN_MODEL_KEYS.items():
        if renamed in record:
            record[key] = record.pop(renamed)
    return Preprocessing.from_dict(record)


def read_metadata_from_bytes(model_bytes: bytes) -> ModelMetadata | None:
    """The embedded metadata of a ``.tflite`` model, or None when it has none of ours.

    Raises:
        EdgeCNNError: If the bytes are not a TFLite model or our entry is unreadable.
    """
    document = read_metadata_document(model_bytes)
    return None if document is None else ModelMetadata.from_dict(document)


def read_metadata_document(model_bytes: bytes) -> dict[str, Any] | None:
    """Our entry as the file stores it (any format version; checked to be readable), or None when there is none.

    Raises:
        EdgeCNNError: If the bytes are not a TFLite model or our entry is unreadable.
    """
    entry = ModelFile(model_bytes).metadata(METADATA_NAME)
    if entry is None:
        return None
    try:
        document = json.loads(entry.decode("utf-8"))
        ModelMetadata.from_dict(document)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EdgeCNNError(f"the embedded edgecnn metadata is unreadable ({exc})") from exc
    return document


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

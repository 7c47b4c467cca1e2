"""The LiteRT interpreter, loaded once and wrapped as an image classifier.

Interpreter preference: ``ai_edge_litert`` (LiteRT), then ``tflite_runtime`` (legacy; its 2.14 wheels fail to
load under numpy 2), then ``tensorflow.lite`` as a last resort. Device side: never imports TensorFlow unless
both lighter runtimes are missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing, normalize, prepare
from edgecnn.core.quiet import quiet
from edgecnn.modelfile.metadata import ModelMetadata, read_metadata_from_bytes, read_model_bytes
from edgecnn.modelfile.standard_metadata import StandardMetadata, read_standard_metadata

BACKENDS = ("ai_edge_litert", "tflite_runtime", "tensorflow")


def load_interpreter_class(prefer: str | None = None) -> tuple[type, str]:
    """Returns ``(Interpreter class, backend name)``, the first that imports in :data:`BACKENDS` order.

    Args:
        prefer: Try this backend only (one of :data:`BACKENDS`); default: the first that works.

    Raises:
        EdgeCNNError: If no interpreter can be imported.
    """
    order = (prefer,) if prefer else BACKENDS
    failures = []
    for backend in order:
        try:
            if backend == "ai_edge_litert":
                from ai_edge_litert.interpreter import Interpreter
            elif backend == "tflite_runtime":
                from tflite_runtime.interpreter import Interpreter
            elif backend == "tensorflow":  # `from tensorflow.lite import ...` finds an empty package in TF 2.21
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                import tensorflow as tf

                Interpreter = tf.lite.Interpreter
            else:
                raise EdgeCNNError(f"unknown interpreter backend {backend!r}; choose from {', '.join(BACKENDS)}")
        except (ImportError, AttributeError, ValueError) as exc:  # ValueError: numpy ABI mismatch on import
            failures.append(f"{backend}: {exc}")
            continue
        return Interpreter, backend
    raise EdgeCNNError(
        "no LiteRT interpreter found; install one with: pip install 'edgecnn[device]' (" + "; ".join(failures) + ")"
    )


def load_delegate(path: str, backend: str, options: dict[str, Any] | None = None):
    """Loads an external delegate library (such as the Edge TPU's ``libedgetpu.so.1``) for ``backend``."""
    if backend == "ai_edge_litert":
        from ai_edge_litert.interpreter import load_delegate as _load
    elif backend == "tflite_runtime":
        from tflite_runtime.interpreter import load_delegate as _load
    else:
        import tensorflow as tf

        _load = tf.lite.experimental.load_delegate
    try:
        return _load(path, options or {})
    except (ValueError, OSError, RuntimeError) as exc:
        raise EdgeCNNError(f"cannot load delegate {path}: {exc}") from exc


@dataclass(frozen=True)
class TensorSpec:
    """Dtype, shape and quantisation of one interpreter tensor."""

    index: int
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> TensorSpec:
        scale, zero_point = details.get("quantization", (0.0, 0))
        return cls(
            details["index"],
            np.dtype(details["dtype"]),
            tuple(int(d) for d in details["shape"]),
            float(scale),
            int(zero_point),
        )

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and self.dtype.kind in "iu"


class Classifier:
    """One persistent interpreter for one ``.tflite`` image classifier.

    Labels and preprocessing not passed come from the edgecnn entry, else from TFLite's standard metadata (files
    written by other tools: labels from the packed label file, colour space and normalisation).

    Args:
        model_path: The ``.tflite`` file.
        threads: Interpreter threads (None: the runtime's default).
        delegate: Path of an external delegate library, or None.
        labels: Class names; overrides the embedded ones (required length: the number of outputs).
        preprocessing: Overrides the embedded preprocessing (needed for float-input files without metadata; a uint8
            input without metadata gets the prepared pixels as they are, an int8 one pixel - 128).
        backend: Force one interpreter backend (see :func:`load_interpreter_class`).

    Raises:
        EdgeCNNError: For unreadable or unusable models (not TFLite, no class-vector output, label mismatch).
    """

    def __init__(
        self,
        model_path: str | os.PathLike,
        *,
        threads: int | None = None,
        delegate: str | None = None,
        labels: list[str] | None = None,
        preprocessing: Preprocessing | None = None,
        backend: str | None = None,
    ) -> None:
        self.path = Path(model_path)
        self._model_bytes = read_model_bytes(self.path)
        self.metadata: ModelMetadata | None = read_metadata_from_bytes(self._model_bytes)
        self.standard: StandardMetadata | None = (
            read_standard_metadata(self._model_bytes) if self.metadata is None else None
        )
        self._interpreter_class, self.backend = load_interpreter_class(backend)
        self.threads = threads
        self._delegates = [load_delegate(delegate, self.backend)] if delegate else []
        self.interpreter = self._make_interpreter()
        inputs = self.interpreter.get_input_details()
        outputs = self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise EdgeCNNError(f"expected one input and one output, got {len(inputs)} and {len(outputs)}: {self.path}")
        self.input = TensorSpec.from_details(inputs[0])
        self.output = TensorSpec.from_details(outputs[0])
        if len(self.input.shape) != 4 or self.input.shape[3] not in (1, 3):
            raise EdgeCNNError(f"input must be an NHWC image with 1 or 3 channels, got shape {self.input.shape}")
        if len(self.output.shape) != 2:
            raise EdgeCNNError(f"output must be a class vector (shape [1, classes]), got shape {self.output.shape}")
        self.num_classes = self.output.shape[1]

        if preprocessing is None and self.metadata is not None:
            preprocessing = self.metadata.preprocessing
        if preprocessing is None and self.standard is not None:
            preprocessing = self.standard.preprocessing(self.input.shape, self.input.dtype.name)
        # A foreign quantised classifier takes pixels: uint8 as they are, int8 minus 128 (the convention of
        # TensorFlow's hosted quantised models and examples), unless --mean/--std say otherwise.
        foreign_pixels = self.metadata is None and self.standard is None and self.input.dtype in (np.uint8, np.int8)
        if preprocessing is None and foreign_pixels:
            preprocessing = Preprocessing.for_model(self.input.shape[1:3], self.input.shape[3])
        if preprocessing is None:
            raise EdgeCNNError(
                f"{self.path.name} has no edgecnn metadata (nor standard TFLite metadata) and a "
                f"{self.input.dtype.name} input; pass its normalisation (--mean/--std, and --bgr if it takes BGR) "
                "to use it"
            )
        if (preprocessing.height, preprocessing.width, preprocessing.channels) != tuple(self.input.shape[1:]):
            raise EdgeCNNError(
                f"preprocessing {preprocessing.shape} does not match the input tensor {self.input.shape[1:]}"
            )
        self.preprocessing = preprocessing

        if labels is None:
            labels = self.metadata.labels if self.metadata and self.metadata.labels else None
        if labels is None and self.standard is not None and self.standard.labels:
            labels = self.standard.labels
        if labels is None:
            labels = [str(i) for i in range(self.num_classes)]
        if len(labels) != self.num_classes:
            raise EdgeCNNError(f"{len(labels)} labels do not match the model's {self.num_classes} outputs")
        self.labels = list(labels)
        self.outputs_logits = bool(self.metadata and self.metadata.output == "logits")
        foreign_pixels = foreign_pixels and self.preprocessing.normalization == "in-model"
        # Raw pixels into an integer input: uint8 as they are, int8 minus 128 (what MediaPipe feeds quantised models).
        self._raw_pixels = foreign_pixels or (
            self.preprocessing.normalization == "in-model"
            and self.input.quantized
            and self.input.dtype in (np.uint8, np.int8)
        )
        self.input_note: str | None = None  # how inputs are fed when no metadata says so (logged once by run)
        if foreign_pixels:
            fed = "the prepared pixels as they are" if self.input.dtype == np.uint8 else "the prepared pixels - 128"
            self.input_note = (
                f"{self.path.name} has no metadata: its {self.input.dtype.name} input gets {fed} (the convention of "
                "TensorFlow's quantized classifiers); pass --mean/--std if it expects another normalisation"
            )
        self._batch_interpreter = None
        self._batch_size = 0

    def _make_interpreter(self):
        kwargs: dict[str, Any] = {"model_content": self._model_bytes}
        if self.threads:
            kwargs["num_threads"] = int(self.threads)
        if self._delegates:
            kwargs["experimental_delegates"] = self._delegates
        # LiteRT announces its XNNPACK delegate on stderr when the first interpreter allocates its tensors.
        with quiet(prefix="edgecnn-litert-") as captured:
            try:
                interpreter = self._interpreter_class(**kwargs)
                interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                error = exc
            else:
                error = None
        captured.discard()
        if error is not None:
            raise EdgeCNNError(f"the interpreter cannot load {self.path}: {error}") from error
        return interpreter

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """A frame (as OpenCV delivers it) turned into ``uint8`` model pixels (``HxWxC``)."""
        return prepare(frame, self.preprocessing)

    def to_input(self, pixels: np.ndarray) -> np.ndarray:
        """Model pixels (``uint8``, ``[N,]HxWxC``) converted to the input tensor's dtype and quantisation.

        A model with in-model normalisation and an integer input takes the pixels as they are (``uint8``) or
        shifted by 128 (``int8``): no float round trip. edgecnn exports pin that input to scale 1.
        """
        if self._raw_pixels:
            if self.input.dtype == np.uint8:
                return pixels
            return (pixels.astype(np.int16) - 128).astype(np.int8)
        values = normalize(pixels, self.preprocessing)
        if not self.input.quantized:
            return values.astype(self.input.dtype, copy=False)
        info = np.iinfo(self.input.dtype)
        quantized = np.round(values / self.input.scale + self.input.zero_point)
        return np.clip(quantized, info.min, info.max).astype(self.input.dtype)

    def to_scores(self, raw: np.ndarray) -> np.ndarray:
        """Output tensor values dequantised to float32 class probabilities."""
        scores = raw.astype(np.float32)
        if self.output.quantized:
            scores = (scores - self.output.zero_point) * self.output.scale
        if self.outputs_logits:
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
        return scores

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        """Runs one prepared input (``HxWxC`` in the input dtype) and returns the raw output row."""
        self.interpreter.set_tensor(self.input.index, model_input[np.newaxis])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output.index)[0]

    def classify(self, frame: np.ndarray) -> np.ndarray:
        """Class probabilities (float32, one per label) for one frame."""
        return self.to_scores(self.invoke(self.to_input(self.prepare(frame))))

    def predict_pixels(self, pixels: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Class probabilities for a batch of model pixels (``uint8``, ``NxHxWxC``), as ``N x classes``.

        Used by export verification, ``edgecnn eval`` and the sweep. Runs a second interpreter resized to
        ``batch_size`` where the model allows it, else one image at a time.
        """
        pixels = np.asarray(pixels)
        if pixels.ndim != 4 or tuple(pixels.shape[1:]) != tuple(self.input.shape[1:]):
            raise EdgeCNNError(
                f"expected pixels of shape [N, {', '.join(map(str, self.input.shape[1:]))}], got {list(pixels.shape)}"
            )
        interpreter, batch = self._interpreter_for_batches(batch_size)
        out = np.empty((len(pixels), self.num_classes), dtype=np.float32)
        for start in range(0, len(pixels), batch):
            chunk = self.to_input(pixels[start : start + batch])
            n = len(chunk)
            if n < batch:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - n, axis=0)])
            interpreter.set_tensor(self.input.index, chunk)
            interpreter.invoke()
            out[start : start + n] = self.to_scores(interpreter.get_tensor(self.output.index)[:n])
        return out

    def _interpreter_for_batches(self, batch_size: int):
        if self._batch_interpreter is None:
            interpreter = self._make_interpreter()
            try:
                interpreter.resize_tensor_input(self.input.index, [batch_size, *self.input.shape[1:]])
                interpreter.allocate_tensors()
                self._batch_size = batch_size
            except (ValueError, RuntimeError):
                interpreter = self.interpreter
                self._batch_size = 1
            self._batch_interpreter = interpreter
        return self._batch_interpreter, self._batch_size


def override_preprocessing(
    model_path: str | os.PathLike,
    *,
    mean: list[float] | None = None,
    std: list[float] | None = None,
    bgr: bool = False,
    resize_mode: str | None = None,
) -> Preprocessing | None:
    """The preprocessing a :class:`Classifier` should use when the user overrides parts of it, else None.

    Starts from the embedded spec (the edgecnn entry, else the standard metadata), or for a plain ``.tflite`` from
    the input tensor's shape (RGB, stretch). ``mean``/``std`` (0..255 scale, 1 or 3 values) switch to mean-std
    normalisation (a missing one defaults to 0 or 1); ``bgr`` feeds BGR; ``resize_mode`` is ``stretch`` or ``crop``.
    """
    if mean is None and std is None and not bgr and resize_mode is None:
        return None
    from dataclasses import replace

    from edgecnn.modelfile.tflite_file import parse_tflite

    model_bytes = read_model_bytes(model_path)
    metadata = read_metadata_from_bytes(model_bytes)
    standard = read_standard_metadata(model_bytes) if metadata is None else None
    if metadata is not None:
        spec = metadata.preprocessing
    else:
        parsed = parse_tflite(model_bytes)
        tensor = parsed.tensors[parsed.inputs[0]] if len(parsed.inputs) == 1 else None
        shape = tensor.shape if tensor is not None else []
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise EdgeCNNError(f"input must be an NHWC image with 1 or 3 channels, got shape {tuple(shape)}")
        if standard is not None:
            spec = standard.preprocessing(shape, tensor.dtype)
        else:
            spec = Preprocessing.for_model((int(shape[1]), int(shape[2])), int(shape[3]))
    if std is not None and any(value <= 0 for value in std):
        raise EdgeCNNError(f"std must be > 0. Received std={list(std)}", param="std")
    changes: dict[str, Any] = {}
    if mean is not None or std is not None:
        changes.update(normalization="mean-std", mean=tuple(mean or (0.0,)), std=tuple(std or (1.0,)))
    if bgr:
        changes["color_order"] = "BGR"
    if resize_mode is not None:
        changes["resize_mode"] = resize_mode
    return replace(spec, **changes)

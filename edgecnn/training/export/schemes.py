"""The table of export schemes: one row per ``.tflite`` flavour, driving validation, conversion and the docs.

Follows the Ultralytics exporter's "formats as a table" idea: argument checks (:func:`resolve`), the
converter settings (:func:`edgecnn.training.export.converter.convert`), file names and the documentation all read
:data:`SCHEMES`; adding a scheme is one row. Post-training quantisation as described in Jacob et al., "Quantization
and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference" (CVPR 2018) and TensorFlow
Lite's post-training quantisation guide. Only builtin operator sets are ever used (never Flex/SELECT_TF_OPS).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.errors import EdgeCNNError

#: What a bare ``--quantize`` means: full integer int8 with uint8 input and output (the edge default).
DEFAULT_QUANTIZE = "int8"
#: The scheme of an export without ``--quantize``.
NO_QUANTIZE = "float32"
#: Every ``--io`` value any scheme accepts.
IO_DTYPES = ("uint8", "int8", "int16", "float32")


@dataclass(frozen=True)
class Scheme:
    """One export scheme.

    Attributes:
        name: The ``--quantize`` value and the file-name suffix (``model_<name>.tflite``).
        description: One line for ``--help`` and the docs.
        io: Allowed ``--io`` dtypes; the first is the default.
        optimize: Whether ``tf.lite.Optimize.DEFAULT`` is set.
        supported_types: ``target_spec.supported_types`` (names of tf dtypes).
        ops: ``target_spec.supported_ops`` (names of ``tf.lite.OpsSet`` members; builtin sets only).
        calibrate: Whether a representative dataset (real images) is needed.
        weights: Weight storage, for the metadata.
        activations: Activation arithmetic, for the metadata.
        fully_integer: Whether every operator must run in integer arithmetic (checked after conversion).
    """

    name: str
    description: str
    io: tuple[str, ...]
    optimize: bool
    supported_types: tuple[str, ...]
    ops: tuple[str, ...]
    calibrate: bool
    weights: str
    activations: str
    fully_integer: bool

    @property
    def default_io(self) -> str:
        return self.io[0]


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            "float32",
            "No quantisation: the float reference (largest file, exact Keras numerics).",
            io=("float32",),
            optimize=False,
            supported_types=(),
            ops=("TFLITE_BUILTINS",),
            calibrate=False,
            weights="float32",
            activations="float32",
            fully_integer=False,
        ),
        Scheme(
            "float16",
            "float16 weights, float32 arithmetic: half the size, GPU-delegate friendly.",
            io=("float32",),
            optimize=True,
            supported_types=("float16",),
            ops=("TFLITE_BUILTINS",),
            calibrate=False,
            weights="float16",
            activations="float32",
            fully_integer=False,
        ),
        Scheme(
            "dynamic",
            "Dynamic range: int8 weights, float activations; no calibration data needed.",
            io=("float32",),
            optimize=True,
            supported_types=(),
            ops=("TFLITE_BUILTINS",),
            calibrate=False,
            weights="int8",
            activations="float32",
            fully_integer=False,
        ),
        Scheme(
            "int8",
            "Full integer: int8 weights and activations, calibrated on real images (CPU, Edge TPU, NPU).",
            io=("uint8", "int8", "float32"),
            optimize=True,
            supported_types=(),
            ops=("TFLITE_BUILTINS_INT8",),
            calibrate=True,
            weights="int8",
            activations="int8",
            fully_integer=True,
        ),
        Scheme(
            "int16x8",
            "int16 activations, int8 weights: closer to float than int8, slower; builtin ops only.",
            io=("float32", "int16"),
            optimize=True,
            supported_types=(),
            ops=("EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8",),
            calibrate=True,
            weights="int8",
            activations="int16",
            fully_integer=True,
        ),
    )
}


def resolve(quantize: str | None, io: str | None) -> tuple[Scheme, str]:
    """The scheme and I/O dtype an export uses, validated against :data:`SCHEMES`.

    Args:
        quantize: A scheme name, or None for no quantisation (float32).
        io: An I/O dtype, or None for the scheme's default.

    Raises:
        EdgeCNNError: For an unknown scheme or an ``io`` the scheme does not allow.
    """
    name = NO_QUANTIZE if quantize is None else str(quantize).strip().lower()
    scheme = SCHEMES.get(name)
    if scheme is None:
        raise EdgeCNNError(f"unknown quantization scheme {quantize!r}; choose from {', '.join(SCHEMES)}")
    if io is None:
        return scheme, scheme.default_io
    io = str(io).strip().lower()
    if io not in scheme.io:
        raise EdgeCNNError(f"--io {io} is not available for {scheme.name}; it allows {', '.join(scheme.io)}")
    return scheme, io


def file_name(scheme: Scheme, io: str, stem: str = "model") -> str:
    """The output file name used when ``-o`` is a directory: ``model_int8.tflite``, ``model_int8_float32io.tflite``."""
    suffix = scheme.name if io == scheme.default_io else f"{scheme.name}_{io}io"
    return f"{stem}_{suffix}.tflite"


def markdown_table() -> str:
    """The scheme table as Markdown (for ``docs/export.md``)."""
    rows = [
        "| scheme | --io (default first) | weights / activations | converter settings | description |",
        "|---|---|---|---|---|",
    ]
    for s in SCHEMES.values():
        settings = ", ".join(
            (["Optimize.DEFAULT"] if s.optimize else [])
            + [f"supported_types={'/'.join(s.supported_types)}"] * bool(s.supported_types)
            + [f"ops={'+'.join(s.ops)}"]
            + (["representative_dataset"] if s.calibrate else [])
        )
        rows.append(
            f"| `{s.name}` | {', '.join(s.io)} | {s.weights} / {s.activations} | {settings} | {s.description} |"
        )
    return "\n".join(rows)

"""TFLite's standard model metadata: the ``TFLITE_METADATA`` entry that phone-side frameworks read.

MediaPipe Tasks, the TFLite Task Library and Android Studio's ML Model Binding describe a model with this entry
(a flatbuffer of tflite-support's ``metadata_schema.fbs``, file identifier ``M001``), not with ours. Every edgecnn
export writes it beside the ``edgecnn`` entry, and ``edgecnn inspect``/``run`` read it from files other tools
wrote. Encoded and decoded with the accessors ``flatc`` generated from the official schema
(:mod:`edgecnn.modelfile.metadata_schema_py_generated`, see ``tools/interop/gen_metadata_schema.sh``).

What an export writes (the fields tflite-support's image-classifier writer fills)::

    ModelMetadata        name, description, version, author, license, min_parser_version "1.0.0"
      SubGraphMetadata
        input  "image"        ImageProperties(color_space RGB | GRAYSCALE), NormalizationOptions(mean, std),
                              Stats (the tensor's value range)
        output "probability"  FeatureProperties, Stats, AssociatedFile labels.txt (TENSOR_AXIS_LABELS)

The label file is packed into the ``.tflite`` as those tools expect (:mod:`edgecnn.modelfile.packed_files`).

How consumers apply the input's normalisation, and how :meth:`StandardMetadata.preprocessing` reads it: a float
input gets ``(pixel - mean) / std`` with pixels on the 0..255 scale; a uint8 input gets the raw pixels and an int8
input ``pixel - 128`` (MediaPipe and the Task Library ignore the normalisation of quantised inputs). Our models
normalise inside, so the export writes mean 0 / std 1: apply nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.labels import LABELS_FILE, labels_text, parse_labels
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.modelfile.packed_files import read_packed_file
from edgecnn.modelfile.tflite_file import ModelFile

#: The model-file ``Metadata`` entry that holds the standard metadata.
STANDARD_NAME = "TFLITE_METADATA"
#: The metadata flatbuffer's file identifier.
FILE_IDENTIFIER = b"M001"
#: The schema version of :mod:`~edgecnn.modelfile.metadata_schema_py_generated`.
SCHEMA_VERSION = "1.5.0"
#: Every field we write exists since schema 1.0.0 (the version tflite-support's writer computes for them).
MIN_PARSER_VERSION = "1.0.0"

_COLOR_SPACES = ("UNKNOWN", "RGB", "GRAYSCALE")  # ColorSpaceType's values, in order
#: Raw value range of an integer input fed pixels as MediaPipe does (uint8: 0..255, int8: pixel - 128).
_INTEGER_RANGES = {"uint8": (0.0, 255.0), "int8": (-128.0, 127.0)}


@cache
def _schema() -> ModuleType:
    """The generated metadata schema module (it needs the ``flatbuffers`` package, a device dependency)."""
    try:
        from edgecnn.modelfile import metadata_schema_py_generated
    except ImportError as exc:
        raise EdgeCNNError(
            f"TFLite's standard metadata needs the flatbuffers package ({exc}); pip install 'edgecnn[device]'"
        ) from None
    return metadata_schema_py_generated


@dataclass(frozen=True)
class ModelCard:
    """The general fields of the standard entry (``edgecnn export --name/--description/--model-version/...``).

    Attributes:
        name: Model name.
        description: What the model does, in a sentence or two.
        version: Model version.
        author: Who made the model ("" when not set).
        license: Its licence ("" when not set).
    """

    name: str
    description: str = ""
    version: str = ""
    author: str = ""
    license: str = ""


@dataclass
class StandardMetadata:
    """What the standard entry says about an image classifier (the parts edgecnn writes and reads).

    Attributes:
        card: Name, description, version, author, licence.
        color_space: "RGB", "GRAYSCALE", or None when the entry does not say.
        mean: Per-channel normalisation mean on the 0..255 scale (None: no NormalizationOptions).
        std: Per-channel normalisation standard deviation.
        input_range: ``(min, max)`` per channel of the input tensor's values (Stats), or None.
        output_range: ``(min, max)`` of the output tensor's values, or None.
        labels: Class names from the packed TENSOR_AXIS_LABELS file, or None.
        labels_file: The name of that file in the entry, or None.
        input_name: Name of the input tensor in the entry.
        input_description: Its description.
        output_name: Name of the output tensor in the entry.
        output_description: Its description.
        min_parser_version: The oldest metadata parser that understands every field.
        problems: What could not be used (a label file named but not packed...), one line each.
    """

    card: ModelCard
    color_space: str | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    input_range: tuple[list[float], list[float]] | None = None
    output_range: tuple[list[float], list[float]] | None = None
    labels: list[str] | None = None
    labels_file: str | None = None
    input_name: str = "image"
    input_description: str = ""
    output_name: str = "probability"
    output_description: str = ""
    min_parser_version: str = MIN_PARSER_VERSION
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``edgecnn inspect --json``); the labels themselves are left out when there are many."""
        return {
            "entry": STANDARD_NAME,
            "name": self.card.name,
            "description": self.card.description,
            "version": self.card.version,
            "author": self.card.author,
            "license": self.card.license,
            "min_parser_version": self.min_parser_version,
            "input": {
                "name": self.input_name,
                "description": self.input_description,
                "color_space": self.color_space,
                "normalization": {"mean": self.mean, "std": self.std} if self.mean is not None else None,
                "range": _range_dict(self.input_range),
            },
            "output": {
                "name": self.output_name,
                "description": self.output_description,
                "range": _range_dict(self.output_range),
                "labels_file": self.labels_file,
                "labels": self.labels,
            },
            "problems": list(self.problems),
        }

    def packed_files(self) -> dict[str, bytes]:
        """The files the entry names, to pack into the model (the label file)."""
        if not self.labels or not self.labels_file:
            return {}
        return {self.labels_file: labels_text(self.labels, self.labels_file).encode("utf-8")}

    def preprocessing(self, shape: tuple[int, ...] | list[int], dtype: str) -> Preprocessing:
        """The preprocessing this entry asks for, for an input tensor of ``shape`` (NHWC) and ``dtype``.

        A float input with normalisation gets ``mean-std``; anything else takes raw pixels (``in-model``), which
        the runtime feeds to integer inputs as MediaPipe does (uint8 raw, int8 minus 128).

        Raises:
            EdgeCNNError: If the colour space or the normalisation does not fit the tensor.
        """
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise EdgeCNNError(f"input must be an NHWC image with 1 or 3 channels, got shape {tuple(shape)}")
        channels = int(shape[3])
        expected = {"GRAYSCALE": 1, "RGB": 3}.get(self.color_space or "", channels)
        if expected != channels:
            raise EdgeCNNError(
                f"the standard metadata says {self.color_space} but the input tensor has {channels} channel(s)"
            )
        spec = Preprocessing.for_model((int(shape[1]), int(shape[2])), channels)
        mean, std = self.mean or [0.0], self.std or [1.0]
        for name, values in (("mean", mean), ("std", std)):
            if len(values) not in (1, channels):
                raise EdgeCNNError(
                    f"the standard metadata's normalisation {name} has {len(values)} values for {channels} channel(s)"
                )
        if any(value == 0 for value in std):
            raise EdgeCNNError(f"the standard metadata's normalisation std contains 0: {std}")
        normalization = "mean-std" if self.mean is not None and dtype.startswith("float") else "in-model"
        return Preprocessing(
            height=spec.height,
            width=spec.width,
            channels=channels,
            color_order=spec.color_order,
            normalization=normalization,
            mean=tuple(float(v) for v in mean),
            std=tuple(float(v) for v in std),
        )


def _range_dict(value: tuple[list[float], list[float]] | None) -> dict[str, list[float]] | None:
    return {"min": list(value[0]), "max": list(value[1])} if value else None


def for_export(
    card: ModelCard,
    spec: Preprocessing,
    labels: list[str],
    *,
    input_dtype: str,
    output_dtype: str,
    output: str = "probabilities",
) -> StandardMetadata:
    """The standard entry of an edgecnn export.

    Args:
        card: The general fields.
        spec: The model's preprocessing (``in-model``: raw pixels in, so the normalisation written is mean 0,
            std 1; ``mean-std``: its mean and std).
        labels: Class names in output order (packed as ``labels.txt``).
        input_dtype: The input tensor's dtype (``uint8``, ``int8``, ``float32``...).
        output_dtype: The output tensor's dtype.
        output: "probabilities" (softmax in the model) or "logits".
    """
    channels = spec.channels
    if spec.normalization == "mean-std":
        mean = [float(v) for v in np.broadcast_to(spec.mean, (channels,))]
        std = [float(v) for v in np.broadcast_to(spec.std, (channels,))]
    else:
        mean, std = [0.0] * channels, [1.0] * channels
    if input_dtype in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[input_dtype]
        input_range = ([low] * channels, [high] * channels)
    elif input_dtype.startswith("float"):
        pairs = list(zip(mean, std, strict=True))
        input_range = ([(0.0 - m) / s for m, s in pairs], [(255.0 - m) / s for m, s in pairs])
    else:
        input_range = None
    if output == "probabilities":
        output_range = {"uint8": ([0.0], [255.0]), "float32": ([0.0], [1.0])}.get(output_dtype)
    else:
        output_range = None
    colour = "RGB" if channels == 3 else "grey"
    applied = "no normalisation (it is inside the model)" if spec.normalization == "in-model" else "(x - mean) / std"
    return StandardMetadata(
        card=card,
        color_space="RGB" if channels == 3 else "GRAYSCALE",
        mean=mean,
        std=std,
        input_range=input_range,
        output_range=output_range,
        labels=list(labels),
        labels_file=LABELS_FILE,
        input_description=(
            f"{colour} image, {spec.height}x{spec.width}, pixels 0..255 as {input_dtype}; {applied}"
            + ("; int8: pixel - 128" if input_dtype == "int8" else "")
        ),
        output_description=(
            f"{'Probabilities' if output == 'probabilities' else 'Logits'} of the {len(labels)} labels, in order"
        ),
    )


def _tensor_t(name: str, description: str, value_range, content_type: int, content):
    schema = _schema()
    tensor = schema.TensorMetadataT()
    tensor.name, tensor.description = name, description
    tensor.content = schema.ContentT()
    tensor.content.contentPropertiesType = content_type
    tensor.content.contentProperties = content
    if value_range is not None:
        tensor.stats = schema.StatsT()
        tensor.stats.min, tensor.stats.max = list(value_range[0]), list(value_range[1])
    return tensor


def encode(meta: StandardMetadata) -> bytes:
    """The entry as a metadata flatbuffer (identifier ``M001``), through the generated object API."""
    import flatbuffers

    schema = _schema()
    image = schema.ImagePropertiesT()
    image.colorSpace = getattr(schema.ColorSpaceType, meta.color_space or "UNKNOWN")
    inp = _tensor_t(
        meta.input_name, meta.input_description, meta.input_range, schema.ContentProperties.ImageProperties, image
    )
    if meta.mean is not None:
        unit = schema.ProcessUnitT()
        unit.optionsType = schema.ProcessUnitOptions.NormalizationOptions
        unit.options = schema.NormalizationOptionsT()
        unit.options.mean, unit.options.std = list(meta.mean), list(meta.std or [1.0] * len(meta.mean))
        inp.processUnits = [unit]
    out = _tensor_t(
        meta.output_name,
        meta.output_description,
        meta.output_range,
        schema.ContentProperties.FeatureProperties,
        schema.FeaturePropertiesT(),
    )
    if meta.labels_file:
        labels = schema.AssociatedFileT()
        labels.name = meta.labels_file
        labels.description = "Class names, one per line, in output order."
        labels.type = schema.AssociatedFileType.TENSOR_AXIS_LABELS
        out.associatedFiles = [labels]
    subgraph = schema.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [inp], [out]
    model = schema.ModelMetadataT()
    model.name, model.description, model.version = meta.card.name, meta.card.description, meta.card.version
    model.author, model.license = meta.card.author or None, meta.card.license or None
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = meta.min_parser_version
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _text(value) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else (value or "")


def _floats(values) -> list[float] | None:
    return None if values is None or len(values) == 0 else [float(v) for v in values]


def _stats(tensor) -> tuple[list[float], list[float]] | None:
    stats = tensor.stats
    if stats is None or _floats(stats.min) is None or _floats(stats.max) is None:
        return None
    return _floats(stats.min), _floats(stats.max)


def decode(entry: bytes, model_bytes: bytes = b"") -> StandardMetadata:
    """Reads a metadata flatbuffer; labels come from the files packed in ``model_bytes``.

    Raises:
        EdgeCNNError: If ``entry`` is not a metadata flatbuffer.
    """
    schema = _schema()
    if len(entry) < 8 or entry[4:8] != FILE_IDENTIFIER:
        raise EdgeCNNError(f"the {STANDARD_NAME} entry is not a metadata flatbuffer (no {FILE_IDENTIFIER.decode()})")
    try:
        model = schema.ModelMetadataT.InitFromObj(schema.ModelMetadata.GetRootAs(bytearray(entry), 0))
    except Exception as exc:  # a corrupt flatbuffer fails anywhere in the generated accessors
        raise EdgeCNNError(f"the {STANDARD_NAME} entry is corrupt ({type(exc).__name__}: {exc})") from None
    card = ModelCard(
        _text(model.name), _text(model.description), _text(model.version), _text(model.author), _text(model.license)
    )
    meta = StandardMetadata(card=card, min_parser_version=_text(model.minParserVersion), labels_file=None)
    subgraphs = model.subgraphMetadata or []
    if not subgraphs:
        return meta
    inputs = subgraphs[0].inputTensorMetadata or []
    outputs = subgraphs[0].outputTensorMetadata or []
    if inputs:
        tensor = inputs[0]
        meta.input_name, meta.input_description = _text(tensor.name), _text(tensor.description)
        content = tensor.content
        if content is not None and content.contentPropertiesType == schema.ContentProperties.ImageProperties:
            code = content.contentProperties.colorSpace
            meta.color_space = _COLOR_SPACES[code] if 0 < code < len(_COLOR_SPACES) else None
        for unit in tensor.processUnits or []:
            if unit.optionsType == schema.ProcessUnitOptions.NormalizationOptions:
                meta.mean, meta.std = _floats(unit.options.mean), _floats(unit.options.std)
        meta.input_range = _stats(tensor)
    if outputs:
        tensor = outputs[0]
        meta.output_name, meta.output_description = _text(tensor.name), _text(tensor.description)
        meta.output_range = _stats(tensor)
        for item in tensor.associatedFiles or []:
            if item.type == schema.AssociatedFileType.TENSOR_AXIS_LABELS:
                meta.labels_file = _text(item.name)
                break
    if meta.labels_file:
        try:
            data = read_packed_file(model_bytes, meta.labels_file)
        except EdgeCNNError as exc:
            data, meta.problems = None, [*meta.problems, str(exc)]
        if data is None:
            meta.problems.append(f"the label file {meta.labels_file} is named but not packed in the model")
        else:
            meta.labels = parse_labels(data.decode("utf-8", errors="replace"))
    return meta


def read_standard_metadata(model_bytes: bytes) -> StandardMetadata | None:
    """The standard entry of a ``.tflite`` model, or None when it has none.

    Raises:
        EdgeCNNError: If the bytes are not a TFLite model or the entry is unreadable.
    """
    entry = ModelFile(model_bytes).metadata(STANDARD_NAME)
    return None if entry is None else decode(entry, model_bytes)

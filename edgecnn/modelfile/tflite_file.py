"""Reads a ``.tflite`` model in place through LiteRT's generated flatbuffer schema (see :mod:`.schema`).

:class:`ModelFile` wraps the schema's read-only accessors: nothing is copied until asked for, so listing the
metadata entries of a large model reads a few dozen bytes. :func:`parse_tflite` collects what inspection needs
(operator codes, the primary subgraph's tensors with quantisation and its operators, the metadata entries) into
plain dataclasses. No interpreter, no TensorFlow.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.modelfile.schema import FILE_IDENTIFIER, load_schema, tensor_type_names

_Result = TypeVar("_Result")


@dataclass
class TensorInfo:
    """One tensor of a subgraph."""

    index: int
    name: str
    shape: list[int]
    dtype: str
    buffer: int
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)


@dataclass
class OperatorInfo:
    """One operator: its opcode index and tensor indices."""

    opcode_index: int
    inputs: list[int]
    outputs: list[int]


@dataclass
class OperatorCode:
    """One entry of the model's operator-code table."""

    builtin_code: int
    custom_code: str | None
    version: int


@dataclass
class TFLiteFile:
    """The parts of a ``.tflite`` model that inspection needs."""

    version: int
    description: str | None
    operator_codes: list[OperatorCode]
    tensors: list[TensorInfo]
    operators: list[OperatorInfo]
    inputs: list[int]
    outputs: list[int]
    metadata: dict[str, bytes]
    num_subgraphs: int


def _guarded(method: Callable[..., _Result]) -> Callable[..., _Result]:
    """Turns what the accessors raise on a truncated or corrupt file into one-line :class:`EdgeCNNError`\\ s."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> _Result:
        try:
            return method(*args, **kwargs)
        except (struct.error, IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError) as exc:
            raise EdgeCNNError(f"the TFLite file is truncated or corrupt ({exc})") from exc

    return wrapper


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def _list(array: np.ndarray | int) -> list:
    """A vector read with ``*AsNumpy()`` as a Python list (the accessors return 0 for an absent vector)."""
    return array.tolist() if isinstance(array, np.ndarray) else []


class ModelFile:
    """A read-only view of a ``.tflite`` flatbuffer.

    Args:
        data: The whole file.

    Raises:
        EdgeCNNError: If ``data`` is not a TFLite flatbuffer (no ``TFL3`` identifier) or its root is corrupt.
    """

    def __init__(self, data: bytes) -> None:
        self._schema = load_schema()
        if len(data) < 8 or not self._schema.Model.ModelBufferHasIdentifier(data, 0):
            raise EdgeCNNError(f"not a TFLite model (missing the {FILE_IDENTIFIER.decode()!r} file identifier)")
        self.data = data
        self._model = self._root()

    @_guarded
    def _root(self):
        model = self._schema.Model.GetRootAs(self.data, 0)
        model.Version()  # touches the root table and its vtable
        return model

    @property
    @_guarded
    def version(self) -> int:
        """The schema version the file was written with (3)."""
        return self._model.Version()

    @property
    @_guarded
    def description(self) -> str | None:
        """The converter's description string."""
        return _text(self._model.Description())

    @property
    @_guarded
    def num_subgraphs(self) -> int:
        return self._model.SubgraphsLength()

    @_guarded
    def metadata_entries(self) -> dict[str, int]:
        """Every ``Metadata`` entry: name -> buffer index, in file order (``min_runtime_version``, ``edgecnn``...)."""
        entries = {}
        for i in range(self._model.MetadataLength()):
            entry = self._model.Metadata(i)
            entries[_text(entry.Name()) or ""] = entry.Buffer()
        return entries

    def metadata(self, name: str) -> bytes | None:
        """The bytes of the buffer that the metadata entry ``name`` points at, or None without such an entry."""
        index = self.metadata_entries().get(name)
        return None if index is None else self.buffer(index)

    @_guarded
    def buffer(self, index: int) -> bytes:
        """The bytes of buffer ``index``: inline data, or the ``offset``/``size`` range of a large model's file.

        Out-of-range indices and empty buffers give ``b""``.
        """
        if not 0 <= index < self._model.BuffersLength():
            return b""
        buffer = self._model.Buffers(index)
        if buffer.DataLength():
            return buffer.DataAsNumpy().tobytes()
        offset, size = buffer.Offset(), buffer.Size()
        return self.data[offset : offset + size] if offset > 1 and size else b""

    @_guarded
    def operator_codes(self) -> list[OperatorCode]:
        """The operator-code table (``builtin_code`` resolves the schema's deprecated 8-bit field)."""
        codes = []
        for i in range(self._model.OperatorCodesLength()):
            code = self._model.OperatorCodes(i)
            builtin = max(code.DeprecatedBuiltinCode(), code.BuiltinCode())
            codes.append(OperatorCode(builtin, _text(code.CustomCode()), code.Version()))
        return codes

    @_guarded
    def tensors(self, subgraph: int = 0) -> list[TensorInfo]:
        """The tensors of one subgraph with their per-tensor or per-channel quantisation."""
        graph = self._subgraph(subgraph)
        names = tensor_type_names()
        tensors = []
        for i in range(graph.TensorsLength()):
            tensor = graph.Tensors(i)
            quant = tensor.Quantization()
            tensors.append(
                TensorInfo(
                    i,
                    _text(tensor.Name()) or "",
                    _list(tensor.ShapeAsNumpy()),
                    names.get(tensor.Type(), "unknown"),
                    tensor.Buffer(),
                    _list(quant.ScaleAsNumpy()) if quant is not None else [],
                    _list(quant.ZeroPointAsNumpy()) if quant is not None else [],
                )
            )
        return tensors

    @_guarded
    def operators(self, subgraph: int = 0) -> list[OperatorInfo]:
        """The operators of one subgraph, in execution order."""
        graph = self._subgraph(subgraph)
        operators = []
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            operators.append(OperatorInfo(op.OpcodeIndex(), _list(op.InputsAsNumpy()), _list(op.OutputsAsNumpy())))
        return operators

    @_guarded
    def io(self, subgraph: int = 0) -> tuple[list[int], list[int]]:
        """``(input tensor indices, output tensor indices)`` of one subgraph."""
        graph = self._subgraph(subgraph)
        return _list(graph.InputsAsNumpy()), _list(graph.OutputsAsNumpy())

    def _subgraph(self, index: int):
        count = self._model.SubgraphsLength()
        if not 0 <= index < count:
            raise EdgeCNNError(
                "the TFLite file has no subgraph" if not count else f"no subgraph {index} (the file has {count})"
            )
        return self._model.Subgraphs(index)


def parse_tflite(data: bytes) -> TFLiteFile:
    """Operator codes, the primary subgraph and the metadata entries of a ``.tflite`` model.

    Raises:
        EdgeCNNError: If ``data`` is not a TFLite flatbuffer (wrong identifier, truncated or corrupt).
    """
    model = ModelFile(data)
    inputs, outputs = model.io()
    return TFLiteFile(
        model.version,
        model.description,
        model.operator_codes(),
        model.tensors(),
        model.operators(),
        inputs,
        outputs,
        {name: model.buffer(index) for name, index in model.metadata_entries().items()},
        model.num_subgraphs,
    )

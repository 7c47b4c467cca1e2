"""A minimal, read-only parser of the ``.tflite`` flatbuffer (LiteRT's model schema), in pure Python.

Reads what inspection and metadata need (operator codes, tensors with quantisation, operators, metadata
entries and buffers) without TensorFlow, LiteRT or the ``flatbuffers`` package. Field numbers follow
``tensorflow/compiler/mlir/lite/schema/schema.fbs``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from edgecnn.core.errors import EdgeCNNError

FILE_IDENTIFIER = b"TFL3"

# TensorType enum of the schema.
TENSOR_TYPES = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    5: "string",
    6: "bool",
    7: "int16",
    8: "complex64",
    9: "int8",
    10: "float64",
    11: "complex128",
    12: "uint64",
    13: "resource",
    14: "variant",
    15: "uint32",
    16: "uint16",
    17: "int4",
    18: "bfloat16",
}


class _Table:
    """A flatbuffer table at ``pos`` in ``buf``."""

    __slots__ = ("buf", "pos", "_vtable", "_vtable_len")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        self._vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self._vtable_len = struct.unpack_from("<H", buf, self._vtable)[0]

    def _field(self, index: int) -> int:
        entry = 4 + 2 * index
        if entry >= self._vtable_len:
            return 0
        offset = struct.unpack_from("<H", self.buf, self._vtable + entry)[0]
        return self.pos + offset if offset else 0

    def scalar(self, index: int, fmt: str, default=0):
        at = self._field(index)
        return struct.unpack_from("<" + fmt, self.buf, at)[0] if at else default

    def _indirect(self, index: int) -> int:
        at = self._field(index)
        return at + struct.unpack_from("<I", self.buf, at)[0] if at else 0

    def string(self, index: int) -> str | None:
        at = self._indirect(index)
        if not at:
            return None
        length = struct.unpack_from("<I", self.buf, at)[0]
        return self.buf[at + 4 : at + 4 + length].decode("utf-8", errors="replace")

    def table(self, index: int) -> _Table | None:
        at = self._indirect(index)
        return _Table(self.buf, at) if at else None

    def vector_bytes(self, index: int) -> bytes:
        at = self._indirect(index)
        if not at:
            return b""
        length = struct.unpack_from("<I", self.buf, at)[0]
        return self.buf[at + 4 : at + 4 + length]

    def scalars(self, index: int, fmt: str) -> list:
        at = self._indirect(index)
        if not at:
            return []
        length = struct.unpack_from("<I", self.buf, at)[0]
        return list(struct.unpack_from(f"<{length}{fmt}", self.buf, at + 4))

    def tables(self, index: int) -> list[_Table]:
        at = self._indirect(index)
        if not at:
            return []
        length = struct.unpack_from("<I", self.buf, at)[0]
        out = []
        for i in range(length):
            slot = at + 4 + 4 * i
            out.append(_Table(self.buf, slot + struct.unpack_from("<I", self.buf, slot)[0]))
        return out


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


def parse_tflite(data: bytes) -> TFLiteFile:
    """Parses the primary subgraph, operator codes and metadata of a ``.tflite`` model.

    Raises:
        EdgeCNNError: If ``data`` is not a TFLite flatbuffer (wrong identifier, truncated or corrupt).
    """
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise EdgeCNNError("not a TFLite model (missing the 'TFL3' file identifier)")
    try:
        return _parse(data)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise EdgeCNNError(f"the TFLite file is truncated or corrupt ({exc})") from exc


def _parse(data: bytes) -> TFLiteFile:
    model = _Table(data, struct.unpack_from("<I", data, 0)[0])
    codes = []
    for code in model.tables(1):
        deprecated = code.scalar(0, "b", 0)
        builtin = code.scalar(3, "i", 0)
        codes.append(OperatorCode(max(deprecated, builtin), code.string(1), code.scalar(2, "i", 1)))
    subgraphs = model.tables(2)
    if not subgraphs:
        raise EdgeCNNError("the TFLite file has no subgraph")
    graph = subgraphs[0]
    tensors = []
    for i, tensor in enumerate(graph.tables(0)):
        quant = tensor.table(4)
        scales = quant.scalars(2, "f") if quant else []
        zero_points = quant.scalars(3, "q") if quant else []
        tensors.append(
            TensorInfo(
                i,
                tensor.string(3) or "",
                tensor.scalars(0, "i"),
                TENSOR_TYPES.get(tensor.scalar(1, "b", 0), "unknown"),
                tensor.scalar(2, "I", 0),
                scales,
                zero_points,
            )
        )
    operators = [OperatorInfo(op.scalar(0, "I", 0), op.scalars(1, "i"), op.scalars(2, "i")) for op in graph.tables(3)]
    buffers = model.tables(4)
    metadata = {}
    for entry in model.tables(6):
        name = entry.string(0) or ""
        index = entry.scalar(1, "I", 0)
        metadata[name] = _buffer_bytes(data, buffers[index]) if index < len(buffers) else b""
    return TFLiteFile(
        model.scalar(0, "I", 0),
        model.string(3),
        codes,
        tensors,
        operators,
        graph.scalars(1, "i"),
        graph.scalars(2, "i"),
        metadata,
        len(subgraphs),
    )


def _buffer_bytes(data: bytes, buffer: _Table) -> bytes:
    inline = buffer.vector_bytes(0)
    if inline:
        return inline
    offset, size = buffer.scalar(1, "Q", 0), buffer.scalar(2, "Q", 0)
    return data[offset : offset + size] if offset > 1 and size else b""

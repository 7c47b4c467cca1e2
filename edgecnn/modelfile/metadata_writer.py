"""Embeds :class:`~edgecnn.modelfile.metadata.ModelMetadata` into a ``.tflite`` flatbuffer (training side).

The document goes into a standard ``Metadata`` entry named ``edgecnn`` pointing at a new buffer, so the file
stays a valid model for every TFLite/LiteRT interpreter. An existing ``edgecnn`` entry is replaced.
"""

from __future__ import annotations

import numpy as np

from edgecnn.modelfile.metadata import METADATA_NAME, ModelMetadata
from edgecnn.modelfile.schema import FILE_IDENTIFIER, load_schema


def embed_metadata(model_bytes: bytes, metadata: ModelMetadata) -> bytes:
    """Returns a copy of ``model_bytes`` with ``metadata`` embedded as the ``edgecnn`` entry."""
    import flatbuffers

    schema = load_schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(model_bytes), 0))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata.to_json_bytes(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if _name(m) != METADATA_NAME] + [entry]
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _name(entry) -> str:
    name = entry.name
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)

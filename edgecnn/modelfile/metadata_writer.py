"""Embeds metadata into a ``.tflite`` flatbuffer (training side): our ``edgecnn`` entry and TFLite's standard one.

Each document goes into a standard ``Metadata`` entry pointing at a buffer, so the file stays a valid model for
every TFLite/LiteRT interpreter; an existing entry of the same name is replaced in place. The standard entry's
label file is packed after the rebuilt flatbuffer (:mod:`edgecnn.modelfile.packed_files`), beside the files the
model already packed.
"""

from __future__ import annotations

import numpy as np

from edgecnn.modelfile.metadata import METADATA_NAME, ModelMetadata
from edgecnn.modelfile.packed_files import append_files, packed_file_names, read_packed_file
from edgecnn.modelfile.schema import FILE_IDENTIFIER, load_schema
from edgecnn.modelfile.standard_metadata import STANDARD_NAME, StandardMetadata, encode


def embed_metadata(model_bytes: bytes, metadata: ModelMetadata, standard: StandardMetadata | None = None) -> bytes:
    """Returns a copy of ``model_bytes`` with ``metadata`` as the ``edgecnn`` entry and, when given, ``standard``
    as the ``TFLITE_METADATA`` entry with its files packed (other packed files are kept)."""
    entries = {METADATA_NAME: metadata.to_json_bytes()}
    if standard is None:
        return embed_entries(model_bytes, entries)
    entries[STANDARD_NAME] = encode(standard)
    return embed_entries(model_bytes, entries, standard.packed_files())


def embed_entries(model_bytes: bytes, entries: dict[str, bytes | None], files: dict[str, bytes] | None = None) -> bytes:
    """Returns a rebuilt copy of ``model_bytes`` whose ``Metadata`` entries are set to ``entries`` (name -> data;
    None removes the entry). Other entries are kept, and so are the packed files, with ``files`` added (a file of
    the same name is replaced)."""
    import flatbuffers

    schema = load_schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(model_bytes), 0))
    model.buffers = model.buffers or []
    existing = {_name(entry): entry for entry in model.metadata or []}
    for name, data in entries.items():
        if data is None:
            if name in existing:  # its buffer stays (indices must not move) but empty
                model.buffers[existing.pop(name).buffer] = schema.BufferT()
            continue
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(data, dtype=np.uint8)
        if name in existing:  # reuse its buffer: no orphan left behind
            model.buffers[existing[name].buffer] = buffer
            continue
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = len(model.buffers) - 1
        existing[name] = entry
    model.metadata = list(existing.values())
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    packed = {name: read_packed_file(model_bytes, name) for name in packed_file_names(model_bytes)}
    return append_files(bytes(builder.Output()), {**packed, **(files or {})})


def _name(entry) -> str:
    name = entry.name
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)

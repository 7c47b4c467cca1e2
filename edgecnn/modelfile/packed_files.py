"""Files packed into a ``.tflite`` the way TFLite's metadata tools do it: a zip archive appended to the flatbuffer.

The standard metadata names "associated files" (a label file, for example) that travel inside the model. The
tflite-support populator, MediaPipe Tasks and the TFLite Task Library store them as an uncompressed zip archive
written after the flatbuffer (``zipfile`` in append mode, so the offsets in the zip's directory are offsets in the
whole file). Interpreters read only the flatbuffer and ignore the trailing bytes, so the file stays one artifact.
"""

from __future__ import annotations

import io
import zipfile

from edgecnn.core.errors import EdgeCNNError


def append_files(model_bytes: bytes, files: dict[str, bytes]) -> bytes:
    """Returns ``model_bytes`` followed by a zip archive (stored, not compressed) holding ``files``.

    Args:
        model_bytes: A ``.tflite`` flatbuffer without packed files (a rebuilt flatbuffer never has any).
        files: Archive name -> content.
    """
    if not files:
        return model_bytes
    buffer = io.BytesIO(model_bytes)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _archive(model_bytes: bytes) -> zipfile.ZipFile | None:
    buffer = io.BytesIO(model_bytes)
    if not zipfile.is_zipfile(buffer):
        return None
    try:
        return zipfile.ZipFile(buffer)
    except (zipfile.BadZipFile, OSError):  # weights that happen to contain a zip end-of-directory signature
        return None


def packed_file_names(model_bytes: bytes) -> list[str]:
    """Names of the files packed after the flatbuffer (empty when there is no archive)."""
    archive = _archive(model_bytes)
    if archive is None:
        return []
    with archive:
        return archive.namelist()


def read_packed_file(model_bytes: bytes, name: str) -> bytes | None:
    """The content of one packed file, or None when the model packs no file of that name.

    Raises:
        EdgeCNNError: If the archive is there but corrupt.
    """
    archive = _archive(model_bytes)
    if archive is None:
        return None
    try:
        with archive:
            return archive.read(name) if name in archive.namelist() else None
    except (zipfile.BadZipFile, OSError) as exc:
        raise EdgeCNNError(f"the files packed in the model are unreadable ({exc})") from exc

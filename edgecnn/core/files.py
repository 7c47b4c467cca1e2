"""Atomic file writes: a failed or interrupted write never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside ``destination``; renames it into place only if the block succeeds.

    The temporary file keeps the destination's suffix so that writers that dispatch on it (``model.save``,
    ``cv2.imwrite``, ``savefig``) still work. On any exception, KeyboardInterrupt included, it is removed.

    Args:
        destination: The final path. Its parent directory is created if missing.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{destination.stem}.", suffix=f".tmp{destination.suffix}", dir=destination.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield tmp
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(destination: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``destination`` atomically."""
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(destination: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``destination`` atomically."""
    write_bytes_atomic(destination, text.encode("utf-8"))


def write_json_atomic(destination: str | os.PathLike, obj: object) -> None:
    """Writes ``obj`` as indented JSON to ``destination`` atomically."""
    write_text_atomic(destination, json.dumps(obj, indent=2, sort_keys=False) + "\n")

"""IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/).

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, one uint32 per
dimension) followed by the array. Gzipped files are read transparently. Parsed with numpy alone.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError

# IDX type codes and the numpy dtypes they hold (all big-endian on disk).
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# File-name patterns of the usual distributions: (split, kind) per name. "t10k" is the test set.
_IDX_NAME = re.compile(r"^(?P<split>train|t10k|test)[-_.](?P<kind>images|labels)[-_.]idx(?P<ndim>\d)[-_.]ubyte(\.gz)?$")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file (``.gz`` or raw) into a numpy array of its declared type and shape.

    Raises:
        EdgeCNNError: If the file is missing, not IDX (bad magic), or shorter or longer than its header says.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise EdgeCNNError(f"IDX file not found: {path}") from None
    except (OSError, EOFError) as exc:
        raise EdgeCNNError(f"cannot read IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise EdgeCNNError(f"{path} is not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    dtype = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    if ndim < 1:
        raise EdgeCNNError(f"{path}: IDX header declares {ndim} dimensions")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise EdgeCNNError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header_end != expected:
        raise EdgeCNNError(
            f"{path}: IDX header declares shape {dims} ({expected} bytes of data) "
            f"but the file holds {len(raw) - header_end}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def find_idx_files(directory: Path) -> dict[str, tuple[Path, Path]]:
    """The ``{split: (images, labels)}`` pairs of an IDX directory (``train``; ``test`` from ``t10k``/``test``).

    Raises:
        EdgeCNNError: If images come without labels or the other way round.
    """
    found: dict[tuple[str, str], Path] = {}
    for entry in sorted(directory.iterdir()):
        match = _IDX_NAME.match(entry.name)
        if match and entry.is_file():
            split = "train" if match["split"] == "train" else "test"
            key = (split, match["kind"])
            # Prefer the uncompressed file when both exist.
            if key not in found or found[key].suffix == ".gz":
                found[key] = entry
    pairs: dict[str, tuple[Path, Path]] = {}
    for split in ("train", "test"):
        images, labels = found.get((split, "images")), found.get((split, "labels"))
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            present = images or labels
            raise EdgeCNNError(
                f"{present} has no matching {'labels' if labels is None else 'images'} file in {directory}"
            )
        pairs[split] = (images, labels)
    return pairs


def load_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Reads an images file (``N x H x W`` or ``N x H x W x C`` uint8) and its labels (``N``) as int64.

    Raises:
        EdgeCNNError: If shapes, types or counts do not fit an image classification set.
    """
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)):
        raise EdgeCNNError(
            f"{images_path}: expected uint8 images of shape N x H x W (x 1 or 3), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise EdgeCNNError(f"{labels_path}: expected integer labels of shape N, got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise EdgeCNNError(
            f"{images_path.name} holds {len(images)} images but {labels_path.name} holds {len(labels)} labels"
        )
    if len(labels) and labels.min() < 0:
        raise EdgeCNNError(f"{labels_path}: negative label {int(labels.min())}")
    return images, labels.astype(np.int64)

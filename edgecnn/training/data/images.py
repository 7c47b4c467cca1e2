"""Image files: listing, decoding with OpenCV (BGR, like a camera frame) and preparing them for a model.

Every image the training side sees goes through :func:`decode_image` and then
:func:`edgecnn.core.preprocessing.prepare`, the function the device runs on camera frames, so training pixels and
device pixels match bit for bit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing, prepare

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

log = logging.getLogger(__name__)


def list_images(directory: Path) -> list[Path]:
    """Image files under ``directory`` (recursively, hidden entries skipped), sorted by path."""
    found = []
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(root) / name for name in files if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)
        )
    return sorted(found)


def decode_image(path: str | os.PathLike) -> np.ndarray | None:
    """Decodes one image file as OpenCV does for a camera frame: ``HxWx3`` BGR or ``HxW`` grey, ``uint8``.

    Alpha is dropped, 16-bit images are scaled to 8 bits and EXIF orientation is applied.

    Returns:
        The image, or None if the file cannot be read or decoded.
    """
    import cv2

    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if raw.size == 0:
        return None
    image = cv2.imdecode(raw, cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
    if image is None or image.size == 0:
        return None
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def load_prepared(path: str | os.PathLike, spec: Preprocessing) -> np.ndarray | None:
    """``prepare(decode_image(path), spec)``, or None for an unreadable file."""
    image = decode_image(path)
    return None if image is None else prepare(image, spec)


def is_grey_dataset(files: Sequence[Path], samples: int = 16) -> bool:
    """True if every one of up to ``samples`` evenly spread files decodes as a single-channel image."""
    if not files:
        return False
    picks = sorted({int(i) for i in np.linspace(0, len(files) - 1, num=min(samples, len(files)))})
    decoded = [decode_image(files[i]) for i in picks]
    decoded = [image for image in decoded if image is not None]
    return bool(decoded) and all(image.ndim == 2 for image in decoded)


def prepare_files(
    files: Sequence[Path], spec: Preprocessing, *, progress: bool = False, desc: str = "decoding"
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """Decodes and prepares image files in parallel threads (OpenCV releases the GIL).

    Returns:
        ``(pixels, kept, skipped)``: ``uint8`` ``N x H x W x C`` pixels of the readable files, the indices (into
        ``files``) they came from, and the unreadable files.
    """
    from tqdm.auto import tqdm

    out = np.empty((len(files), *spec.shape), dtype=np.uint8)
    ok = np.zeros(len(files), dtype=bool)

    def work(i: int) -> None:
        pixels = load_prepared(files[i], spec)
        if pixels is not None:
            out[i] = pixels
            ok[i] = True

    workers = min(8, (os.cpu_count() or 1) + 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in tqdm(
            pool.map(work, range(len(files))),
            total=len(files),
            desc=desc,
            unit="img",
            disable=not progress or len(files) < 500,
            leave=False,
        ):
            pass
    kept = np.flatnonzero(ok)
    skipped = [files[i] for i in np.flatnonzero(~ok)]
    return (out if len(kept) == len(files) else out[kept]), kept, skipped


def prepare_arrays(
    images: np.ndarray, spec: Preprocessing, *, progress: bool = False, desc: str = "preparing"
) -> np.ndarray:
    """Prepares in-memory OpenCV images (``N x H x W`` grey or ``N x H x W x 3`` BGR) into model pixels."""
    from tqdm.auto import tqdm

    grey_at_size = (
        images.dtype == np.uint8
        and spec.channels == 1
        and images.shape[1:3] == spec.shape[:2]
        and (images.ndim == 3 or images.shape[3] == 1)
    )
    if grey_at_size:
        # prepare() is the identity here apart from the channel axis; skip the per-image call.
        return np.ascontiguousarray(images.reshape(len(images), *spec.shape))
    out = np.empty((len(images), *spec.shape), dtype=np.uint8)
    for i in tqdm(range(len(images)), desc=desc, unit="img", disable=not progress or len(images) < 5000, leave=False):
        out[i] = prepare(images[i], spec)
    return out


def warn_skipped(skipped: Sequence[Path], where: str) -> None:
    """Logs ONE warning for all unreadable image files of a load."""
    if skipped:
        examples = ", ".join(str(p) for p in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        log.warning("skipped %d unreadable image file(s) in %s: %s%s", len(skipped), where, examples, more)


def require_images(count: int, where: str) -> None:
    """Raises a one-line error when a load produced no image at all."""
    if count == 0:
        raise EdgeCNNError(f"no readable images in {where}")

"""Image preprocessing shared bit for bit by training, export calibration and the device runtime.

Both sides call :func:`prepare` on an image as OpenCV delivers it (BGR, BGRA or grey, any size) and get the
model's input as ``uint8`` pixels: resized, colour-converted, in the model's channel order. Normalisation is
part of our models ("in-model": a Rescaling layer maps 0..255 to the range the network was trained on), so the
exact same ``uint8`` array feeds Keras during training, the converter during calibration and the LiteRT
interpreter on the device. For foreign ``.tflite`` files the spec can carry an external mean/std instead.

This module is device side: numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError

RESIZE_MODES = ("stretch", "crop")
COLOR_ORDERS = ("RGB", "BGR", "GRAY")
NORMALIZATIONS = ("in-model", "mean-std")
# The resize algorithm's version, recorded in every spec (and so in run dirs and .tflite metadata):
#   1  edgecnn 0.1.0 (specs without a "version" key): bilinear stage with OpenCV's INTER_LINEAR, whose SIMD
#      paths round differently on x86 and aarch64 (up to one grey level; int8 scores then differ by up to 0.125).
#   2  bilinear stage with INTER_LINEAR_EXACT (fixed point, bit-identical on x86 and aarch64).
# The integer-factor area stage and the colour conversions are bit-identical on both in either version.
PREPROCESSING_VERSION = 2
PREPROCESSING_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Preprocessing:
    """What turns a camera frame into a model input.

    Attributes:
        height: Model input height in pixels.
        width: Model input width in pixels.
        channels: 1 (grey) or 3 (colour).
        color_order: "RGB" or "BGR" for 3 channels, "GRAY" for 1.
        resize_mode: "stretch" resizes to the input size ignoring aspect; "crop" cuts the largest centred
            region of the input's aspect ratio, then resizes (keep-aspect + centre crop).
        interpolation: "auto": when shrinking, bilinear to an integer multiple of the target size, then an
            integer-factor area average (antialiased); bilinear when enlarging.
        normalization: "in-model" (the model takes raw 0..255 pixels) or "mean-std" (the caller feeds
            ``(pixel - mean) / std`` as float).
        mean: Per-channel mean on the 0..255 scale (informational when in-model).
        std: Per-channel standard deviation on the 0..255 scale (informational when in-model).
        version: The resize algorithm (see :data:`PREPROCESSING_VERSION`): new specs get the current one, specs
            read from files without the key (edgecnn 0.1.0) get 1, so they keep being prepared as they were
            trained and verified.
    """

    height: int
    width: int
    channels: int = 3
    color_order: str = "RGB"
    resize_mode: str = "stretch"
    interpolation: str = "auto"
    normalization: str = "in-model"
    mean: tuple[float, ...] = field(default=(127.5,))
    std: tuple[float, ...] = field(default=(127.5,))
    version: int = PREPROCESSING_VERSION

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise EdgeCNNError(f"channels must be 1 or 3. Received channels={self.channels}")
        if self.height < 1 or self.width < 1:
            raise EdgeCNNError(f"input size must be positive. Received {self.height}x{self.width}")
        if self.resize_mode not in RESIZE_MODES:
            raise EdgeCNNError(f"resize mode must be one of {', '.join(RESIZE_MODES)}. Received {self.resize_mode!r}")
        expected_orders = ("GRAY",) if self.channels == 1 else ("RGB", "BGR")
        if self.color_order not in expected_orders:
            raise EdgeCNNError(
                f"colour order {self.color_order!r} does not fit {self.channels} channel(s); use {expected_orders[0]}"
            )
        if self.normalization not in NORMALIZATIONS:
            raise EdgeCNNError(
                f"normalization must be one of {', '.join(NORMALIZATIONS)}. Received {self.normalization!r}"
            )
        if self.interpolation != "auto":
            raise EdgeCNNError(f"interpolation must be 'auto'. Received {self.interpolation!r}")
        if self.version not in PREPROCESSING_VERSIONS:
            raise EdgeCNNError(
                f"preprocessing version must be one of {PREPROCESSING_VERSIONS} (a newer edgecnn wrote it?). "
                f"Received version={self.version!r}"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """The prepared image's shape, ``(height, width, channels)``."""
        return (self.height, self.width, self.channels)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        data = asdict(self)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Builds a spec from :meth:`to_dict` output, ignoring unknown keys; no ``version`` means 1 (0.1.0)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.setdefault("version", 1)
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])
        return cls(**known)

    @classmethod
    def for_model(cls, size: int | tuple[int, int], channels: int, resize_mode: str = "stretch") -> Preprocessing:
        """The spec of an edgecnn model: raw pixels in, normalisation in the model."""
        height, width = (size, size) if isinstance(size, int) else size
        return cls(
            height=height,
            width=width,
            channels=channels,
            color_order="RGB" if channels == 3 else "GRAY",
            resize_mode=resize_mode,
        )


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EdgeCNNError("OpenCV is missing; install it with: pip install opencv-python-headless") from exc
    return cv2


def _centre_crop_to_aspect(image: np.ndarray, height: int, width: int) -> np.ndarray:
    src_h, src_w = image.shape[:2]
    # Compare src_w/src_h with width/height without floating point error.
    if src_w * height > width * src_h:  # source too wide: cut the sides
        new_w = max(1, round(src_h * width / height))
        x0 = (src_w - new_w) // 2
        return image[:, x0 : x0 + new_w]
    if src_w * height < width * src_h:  # source too tall: cut top and bottom
        new_h = max(1, round(src_w * height / width))
        y0 = (src_h - new_h) // 2
        return image[y0 : y0 + new_h]
    return image


def _resize(cv2, image: np.ndarray, height: int, width: int, version: int) -> np.ndarray:
    """Antialiased resize: bilinear to the nearest integer multiple of the target per axis, then OpenCV's
    integer-factor area average (its fast path, integer arithmetic). As sharp as a direct INTER_AREA (mean
    difference ~0.15 grey levels) and about 3x faster for a 640x480 frame; plain bilinear when enlarging.

    Version 2's bilinear stage is INTER_LINEAR_EXACT: INTER_LINEAR's SIMD paths round differently on x86 and
    aarch64, so the same frame gave different pixels on a Raspberry Pi. A direct non-integer INTER_AREA or
    INTER_CUBIC differ across CPUs too; ``tools/bench_prepare.py`` measures the cost (about 1.5x on the bilinear
    stage) and ``tools/check_aarch64.sh`` checks the bytes under emulated Pi CPUs."""
    src_h, src_w = image.shape[:2]
    if (src_h, src_w) == (height, width):
        return image
    bilinear = cv2.INTER_LINEAR if version == 1 else cv2.INTER_LINEAR_EXACT
    factor_y, factor_x = max(1, src_h // height), max(1, src_w // width)
    if factor_y == 1 and factor_x == 1:
        return cv2.resize(image, (width, height), interpolation=bilinear)
    if (src_h, src_w) != (factor_y * height, factor_x * width):
        image = cv2.resize(image, (factor_x * width, factor_y * height), interpolation=bilinear)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def prepare(image: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """Turns an OpenCV image into the model's ``uint8`` input pixels.

    Args:
        image: ``HxW`` grey, ``HxWx1``, ``HxWx3`` BGR or ``HxWx4`` BGRA, ``uint8`` (other integer or float
            images are clipped to 0..255).
        spec: The model's preprocessing.

    Returns:
        A contiguous ``uint8`` array of shape ``spec.shape``.
    """
    cv2 = _cv2()
    if image is None or image.size == 0:
        raise EdgeCNNError("cannot prepare an empty image")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise EdgeCNNError(f"unsupported image shape {image.shape}; expected HxW, HxWx3 or HxWx4")

    if spec.resize_mode == "crop":
        image = _centre_crop_to_aspect(image, spec.height, spec.width)
    image = _resize(cv2, image, spec.height, spec.width, spec.version)

    if spec.channels == 1:
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        image = image[:, :, np.newaxis]
    elif image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR if spec.color_order == "BGR" else cv2.COLOR_GRAY2RGB)
    elif spec.color_order == "RGB":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(image)


def normalize(pixels: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """Float input for a model whose spec says "mean-std"; raw float pixels for an in-model spec."""
    pixels = pixels.astype(np.float32)
    if spec.normalization == "in-model":
        return pixels
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)
    return (pixels - mean) / std

"""tf.data input pipelines over prepared pixels: in memory, or streamed from image files for big folders.

The model sees ``float32`` raw pixel values 0..255 (it rescales inside). Augmentation runs on whole batches
(one vectorised op per transform instead of one per image), on train only, and clips back to 0..255 so that
the in-model ``Rescaling`` still sees the pixel range it will see on the device. Importing this module loads
TensorFlow (training side only).
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training._tf import import_tf

tf, _ = import_tf()


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation, all applied per image with random strengths.

    Attributes:
        flip: Random horizontal flips (off for digits and text, where a mirror changes the class).
        translate: Largest shift as a fraction of the width/height.
        zoom: Largest zoom in or out as a fraction (0.1: scale between 0.9 and 1.1).
        brightness: Largest brightness shift as a fraction of 255.
        contrast: Largest contrast change as a fraction (0.2: factor between 0.8 and 1.2).
        crop_pad: Random crop with zero padding: every side padded by this many pixels, then a crop of the input
            size at a random offset (the CIFAR recipe of He et al. 2016, arXiv:1512.03385); 0 is off.
        erase: Probability of random erasing: a rectangle of 2-40% of the image, aspect ratio 0.3-3.3, filled
            with random pixels (Zhong et al. 2017, Random Erasing Data Augmentation, arXiv:1708.04896); 0 is off.
    """

    flip: bool = True
    translate: float = 0.1
    zoom: float = 0.1
    brightness: float = 0.1
    contrast: float = 0.1
    crop_pad: int = 0
    erase: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.crop_pad, bool) or not isinstance(self.crop_pad, int) or self.crop_pad < 0:
            raise EdgeCNNError(f"crop_pad must be an integer >= 0. Received crop_pad={self.crop_pad!r}")
        for name in ("translate", "zoom", "brightness", "contrast"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise EdgeCNNError(f"{name} must be in [0, 1). Received {name}={value!r}")
        if not 0.0 <= self.erase <= 1.0:
            raise EdgeCNNError(f"erase must be a probability in [0, 1]. Received erase={self.erase!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_source(cls, kind: str, *, flip: bool) -> Augment:
        """The default for a data source kind.

        Image folders (photos, camera frames: varied framing and light) get every transform. Curated, centred
        sets (IDX files, named datasets) get flips only (where they keep the label); random crops and erasing stay
        off everywhere. The ablation at 20 epochs (``tools/fmnist_ablation.py``, docs/training.md) kept these: on
        a small Fashion-MNIST network that underfits, crops cost 0.89 pt and erasing 0.44 pt of test accuracy;
        they are options (``--crop-pad``, ``--erase``) for networks that overfit instead.
        """
        if kind == "folder":
            return cls(flip=flip)
        return cls(flip=flip, translate=0.0, zoom=0.0, brightness=0.0, contrast=0.0)

    @classmethod
    def from_dict(cls, data: dict) -> Augment:
        """Reads :meth:`to_dict`; fields a run recorded before they existed take today's defaults."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def with_options(self, **options) -> Augment:
        """A copy with the options that are not None replaced (the command-line overrides)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def augment_batch(images, seed, augment: Augment):
    """Randomly transforms a ``float32`` batch ``B x H x W x C`` of 0..255 pixels; the result stays in 0..255.

    Args:
        images: The batch.
        seed: A stateless-random seed, shape ``[2]`` int.
        augment: What to apply.
    """
    seed = tf.cast(seed, tf.int64)
    seeds = tf.random.experimental.stateless_split(seed, num=5)
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    if augment.flip:
        flip = tf.random.stateless_uniform([batch], seed=seeds[0]) < 0.5
        images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if augment.translate > 0 or augment.zoom > 0:
        zoom = tf.random.stateless_uniform([batch], seed=seeds[1], minval=1.0 - augment.zoom, maxval=1.0 + augment.zoom)
        shift = tf.random.stateless_uniform(
            [batch, 2], seed=seeds[2], minval=-augment.translate, maxval=augment.translate
        ) * tf.constant([width, height], tf.float32)
        inv = 1.0 / zoom
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        zeros = tf.zeros_like(inv)
        # Output (x, y) samples the input at ((x - cx) / zoom + cx - dx, (y - cy) / zoom + cy - dy).
        transforms = tf.stack(
            [inv, zeros, cx * (1.0 - inv) - shift[:, 0], zeros, inv, cy * (1.0 - inv) - shift[:, 1], zeros, zeros],
            axis=1,
        )
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=transforms,
            output_shape=[height, width],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="NEAREST",
        )
    if augment.contrast > 0:
        factor = tf.random.stateless_uniform(
            [batch, 1, 1, 1], seed=seeds[3], minval=1.0 - augment.contrast, maxval=1.0 + augment.contrast
        )
        mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
        images = (images - mean) * factor + mean
    if augment.brightness > 0:
        images = images + 255.0 * tf.random.stateless_uniform(
            [batch, 1, 1, 1], seed=seeds[4], minval=-augment.brightness, maxval=augment.brightness
        )
    if augment.crop_pad > 0:
        images = _random_crop(images, tf.random.experimental.stateless_fold_in(seed, 5), augment.crop_pad)
    if augment.erase > 0:
        images = _random_erase(images, tf.random.experimental.stateless_fold_in(seed, 6), augment.erase)
    return tf.clip_by_value(images, 0.0, 255.0)


def _random_crop(images, seed, pad: int):
    """Pads with zeros by ``pad`` pixels and crops the input size back at a random offset, image by image.

    One integer shift per image, through a nearest-neighbour projective transform with a zero fill: the same
    pixels as padding then cropping, in one vectorised op for the whole batch.
    """
    batch = tf.shape(images)[0]
    shift = tf.cast(
        tf.random.stateless_uniform([batch, 2], seed=seed, minval=-pad, maxval=pad + 1, dtype=tf.int32), tf.float32
    )
    ones, zeros = tf.ones([batch]), tf.zeros([batch])
    transforms = tf.stack([ones, zeros, -shift[:, 0], zeros, ones, -shift[:, 1], zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="NEAREST",
        fill_mode="CONSTANT",
    )


def _random_erase(images, seed, probability: float, area=(0.02, 0.4), aspect=(0.3, 1 / 0.3)):
    """Random erasing (Zhong et al. 2017): with ``probability``, one rectangle per image gets random pixels.

    The rectangle covers ``area`` (a fraction range) of the image with a log-uniform aspect ratio in ``aspect``;
    where it would not fit, its sides are clipped to the image (the paper draws again instead).
    """
    seeds = tf.random.experimental.stateless_split(seed, num=6)
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    apply = tf.random.stateless_uniform([batch], seed=seeds[0]) < probability
    target = tf.random.stateless_uniform([batch], seed=seeds[1], minval=area[0], maxval=area[1]) * (height * width)
    ratio = tf.exp(
        tf.random.stateless_uniform([batch], seed=seeds[2], minval=math.log(aspect[0]), maxval=math.log(aspect[1]))
    )
    h = tf.clip_by_value(tf.round(tf.sqrt(target * ratio)), 1.0, float(height))
    w = tf.clip_by_value(tf.round(tf.sqrt(target / ratio)), 1.0, float(width))
    top = tf.floor(tf.random.stateless_uniform([batch], seed=seeds[3]) * (height - h + 1.0))
    left = tf.floor(tf.random.stateless_uniform([batch], seed=seeds[4]) * (width - w + 1.0))
    rows = tf.range(height, dtype=tf.float32)[None, :, None]
    cols = tf.range(width, dtype=tf.float32)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + w)[:, None, None])
        & apply[:, None, None]
    )
    noise = tf.random.stateless_uniform(tf.shape(images), seed=seeds[5], minval=0.0, maxval=255.0)
    return tf.where(inside[..., None], noise, images)


def _finish(ds, count: int, *, num_classes: int, batch_size: int, training: bool, augment: Augment | None, seed: int):
    """Batches, converts to float32, augments (train), one-hot encodes and prefetches ``count`` items.

    Training batches drop the last incomplete batch when there is more than one.
    """
    ds = ds.batch(batch_size, drop_remainder=training and count > batch_size)

    def to_float(x, y):
        return tf.cast(x, tf.float32), tf.one_hot(y, num_classes)

    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda xy, s: (augment_batch(xy[0], s, augment), xy[1]), num_parallel_calls=tf.data.AUTOTUNE
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def memory_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_classes: int,
    batch_size: int,
    training: bool,
    augment: Augment | None = None,
    seed: int = 0,
):
    """A ``tf.data.Dataset`` of ``(float32 pixels, one-hot labels)`` batches over prepared in-memory pixels.

    Training batches are reshuffled every epoch (seeded), drop the last incomplete batch when there is more
    than one, and are augmented.
    """
    ds = _shuffled(tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32))), len(x), training, seed)
    return _finish(
        ds, len(x), num_classes=num_classes, batch_size=batch_size, training=training, augment=augment, seed=seed
    )


def _shuffled(ds, count: int, training: bool, seed: int):
    """Training data reshuffled every epoch (seeded); evaluation data as it is."""
    return ds.shuffle(count, seed=seed, reshuffle_each_iteration=True) if training else ds


class FileLoader:
    """Decodes and prepares image files inside tf.data (through ``tf.numpy_function``), counting unreadable ones.

    The decode runs :func:`edgecnn.training.data.images.load_prepared`, the same code as the in-memory path.
    """

    def __init__(self, spec: Preprocessing) -> None:
        self.spec = spec
        self.skipped: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, path: bytes) -> tuple[np.ndarray, bool]:
        from edgecnn.training.data.images import load_prepared

        name = path.decode("utf-8") if isinstance(path, bytes) else str(path)
        pixels = load_prepared(name, self.spec)
        if pixels is None:
            with self._lock:
                self.skipped.add(name)
            return np.zeros(self.spec.shape, np.uint8), False
        return pixels, True


def stream_dataset(
    files: list[Path],
    y: np.ndarray,
    spec: Preprocessing,
    *,
    num_classes: int,
    batch_size: int,
    training: bool,
    augment: Augment | None = None,
    seed: int = 0,
    loader: FileLoader | None = None,
):
    """Like :func:`memory_dataset`, decoding image files on the fly in parallel (for folders too big for memory).

    Unreadable files are dropped; ``loader.skipped`` collects their paths.
    """
    loader = loader or FileLoader(spec)
    ds = _shuffled(
        tf.data.Dataset.from_tensor_slices(([str(p) for p in files], y.astype(np.int32))), len(files), training, seed
    )

    def load(path, label):
        pixels, ok = tf.numpy_function(loader, [path], [tf.uint8, tf.bool], stateful=False)
        pixels.set_shape(spec.shape)
        return pixels, label, ok

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda pixels, label, ok: ok).map(lambda pixels, label, ok: (pixels, label))
    return _finish(
        ds, len(files), num_classes=num_classes, batch_size=batch_size, training=training, augment=augment, seed=seed
    )

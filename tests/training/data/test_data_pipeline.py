"""tf.data pipelines: exact pixels in, augmentation bounds, streaming from files."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.core.preprocessing import Preprocessing, prepare
from edgecnn.training.data import load_arrays, open_source
from edgecnn.training.data.images import decode_image

pipeline = pytest.importorskip("edgecnn.training.data.pipeline")
tf = pipeline.tf


def _collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_eval_dataset_feeds_exact_pixels():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    y = np.arange(10) % 3
    xb, yb = _collect(pipeline.memory_dataset(x, y, num_classes=3, batch_size=4, training=False))
    assert xb.dtype == np.float32 and xb.shape == (10, 8, 8, 3)
    np.testing.assert_array_equal(xb, x.astype(np.float32))
    np.testing.assert_array_equal(yb.argmax(1), y)


def test_training_dataset_shuffles_whole_batches_without_augmentation():
    x = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1) * np.ones((1, 2, 2, 1), np.uint8)
    y = np.arange(20) % 2
    ds = pipeline.memory_dataset(x, y, num_classes=2, batch_size=8, training=True, augment=None, seed=1)
    xb, yb = _collect(ds)
    assert len(xb) == 16  # the incomplete last batch is dropped
    ids = xb[:, 0, 0, 0].astype(int)
    assert len(set(ids)) == 16 and ids.tolist() != sorted(ids.tolist())
    np.testing.assert_array_equal(yb.argmax(1), ids % 2)  # labels stay with their images


def test_augment_stays_in_pixel_range_and_is_seeded():
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 256, (6, 16, 16, 3)).astype(np.float32))
    augment = pipeline.Augment(flip=True, translate=0.2, zoom=0.2, brightness=0.3, contrast=0.3)
    a = pipeline.augment_batch(images, tf.constant([1, 2], tf.int64), augment).numpy()
    b = pipeline.augment_batch(images, tf.constant([1, 2], tf.int64), augment).numpy()
    c = pipeline.augment_batch(images, tf.constant([3, 4], tf.int64), augment).numpy()
    assert a.shape == images.shape and a.min() >= 0.0 and a.max() <= 255.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_flip_only_mirrors_or_keeps_each_image():
    images = tf.constant(np.random.default_rng(1).integers(0, 256, (16, 5, 7, 1)).astype(np.float32))
    out = pipeline.augment_batch(
        images,
        tf.constant([5, 6], tf.int64),
        pipeline.Augment(flip=True, translate=0, zoom=0, brightness=0, contrast=0),
    ).numpy()
    src = images.numpy()
    flipped = [np.array_equal(o, s[:, ::-1]) for o, s in zip(out, src, strict=True)]
    kept = [np.array_equal(o, s) for o, s in zip(out, src, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True)) and any(flipped) and any(kept)
    none = pipeline.Augment(flip=False, translate=0, zoom=0, brightness=0, contrast=0)
    np.testing.assert_array_equal(pipeline.augment_batch(images, tf.constant([5, 6], tf.int64), none).numpy(), src)


def test_stream_dataset_equals_prepare_and_skips_corrupt(image_folder):
    spec = Preprocessing.for_model((20, 28), 3, resize_mode="crop")
    train = open_source(str(image_folder)).splits["train"]
    loader = pipeline.FileLoader(spec)
    ds = pipeline.stream_dataset(
        train.files, train.labels, spec, num_classes=3, batch_size=5, training=False, loader=loader
    )
    xb, yb = _collect(ds)
    readable = [(f, label) for f, label in zip(train.files, train.labels, strict=True) if f.name != "broken.jpg"]
    assert len(xb) == len(readable)
    for pixels, (path, label), onehot in zip(xb, readable, yb, strict=True):
        np.testing.assert_array_equal(pixels, prepare(decode_image(path), spec).astype(np.float32))
        assert onehot.argmax() == label
    assert [p.endswith("broken.jpg") for p in loader.skipped] == [True]
    x_mem, _, _ = load_arrays({"source": str(image_folder), "val_split": 0.0}, spec)
    np.testing.assert_array_equal(xb, x_mem.astype(np.float32))  # streaming == in-memory, bit for bit

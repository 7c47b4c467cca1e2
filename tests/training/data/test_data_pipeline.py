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


def test_random_crop_is_a_zero_padded_shift_of_each_image():
    images = np.random.default_rng(2).integers(1, 256, (12, 9, 11, 1)).astype(np.float32)
    augment = pipeline.Augment(flip=False, translate=0, zoom=0, brightness=0, contrast=0, crop_pad=2)
    out = pipeline.augment_batch(tf.constant(images), tf.constant([7, 8], tf.int64), augment).numpy()
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    shifts = []
    for o, p in zip(out, padded, strict=True):
        found = [(dy, dx) for dy in range(5) for dx in range(5) if np.array_equal(p[dy : dy + 9, dx : dx + 11], o)]
        assert found, "not a crop of the padded image"
        shifts.append(found[0])
    assert len(set(shifts)) > 3  # offsets differ from image to image


def test_random_erasing_replaces_one_rectangle_with_the_given_probability():
    images = np.full((400, 16, 16, 1), 100.0, np.float32)
    augment = pipeline.Augment(flip=False, translate=0, zoom=0, brightness=0, contrast=0, erase=0.5)
    out = pipeline.augment_batch(tf.constant(images), tf.constant([1, 2], tf.int64), augment).numpy()
    changed = out != images
    erased = changed.any(axis=(1, 2, 3))
    assert 0.4 < erased.mean() < 0.6
    for mask in changed[erased][..., 0]:
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        assert box.mean() > 0.95  # one rectangle (a random pixel may equal the old value)
        assert 0.02 * 256 * 0.5 <= box.size <= 0.4 * 256 * 1.5


def test_augment_options_are_checked_and_old_records_load_with_todays_defaults():
    old = {"flip": True, "translate": 0.0, "zoom": 0.0, "brightness": 0.0, "contrast": 0.0}
    augment = pipeline.Augment.from_dict(old)
    assert augment.crop_pad == 0 and augment.erase == 0.0
    assert augment.with_options(crop_pad=3, erase=None).crop_pad == 3
    for bad, message in ((dict(crop_pad=-1), "crop_pad must be"), (dict(erase=1.5), "erase must be")):
        with pytest.raises(pipeline.EdgeCNNError, match=message):
            pipeline.Augment(**bad)

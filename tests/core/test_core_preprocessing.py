"""prepare(): the resize algorithm per spec version, colour handling, and the version's round trip through dicts."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import PREPROCESSING_VERSION, Preprocessing, prepare


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth BGR image with fine detail, where bilinear variants round differently."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (3, 3), 0.8)


def _spec(size, channels=3, version=PREPROCESSING_VERSION, **kwargs) -> Preprocessing:
    return Preprocessing.from_dict({**Preprocessing.for_model(size, channels).to_dict(), "version": version, **kwargs})


def test_new_specs_get_the_current_version_and_keep_it_through_json():
    spec = Preprocessing.for_model(32, 1)
    assert spec.version == PREPROCESSING_VERSION == 2
    doc = json.loads(json.dumps(spec.to_dict()))
    assert doc["version"] == 2 and Preprocessing.from_dict(doc) == spec


def test_specs_without_a_version_are_from_0_1_0_and_keep_its_resize():
    doc = Preprocessing.for_model(32, 1).to_dict()
    del doc["version"]
    assert Preprocessing.from_dict(doc).version == 1


def test_an_unknown_version_is_a_one_line_error():
    with pytest.raises(EdgeCNNError, match="preprocessing version must be one of"):
        _spec(32, version=3)


@pytest.mark.parametrize(
    ("source", "target", "first_stage"),
    [
        ((28, 28), (32, 32), None),  # enlarging: one bilinear resize
        ((240, 320), (224, 224), None),  # shrinking by less than 2x: one bilinear resize
        ((480, 640), (224, 224), (448, 448)),  # bilinear to 2x the target, then 2x2 area average
        ((500, 700), (32, 32), (480, 672)),
    ],
)
def test_each_version_uses_its_bilinear_stage(source, target, first_stage):
    image = _photo(*source)
    outputs = {}
    for version, bilinear in ((1, cv2.INTER_LINEAR), (2, cv2.INTER_LINEAR_EXACT)):
        size = (target[1], target[0])
        if first_stage is None:
            expected = cv2.resize(image, size, interpolation=bilinear)
        else:
            stage = cv2.resize(image, (first_stage[1], first_stage[0]), interpolation=bilinear)
            expected = cv2.resize(stage, size, interpolation=cv2.INTER_AREA)
        outputs[version] = prepare(image, _spec(target, 3, version, color_order="BGR"))
        np.testing.assert_array_equal(outputs[version], expected)
    # The two versions differ by rounding only: at most one grey level.
    diff = np.abs(outputs[1].astype(int) - outputs[2].astype(int))
    assert diff.max() <= 1


def test_integer_factors_skip_the_bilinear_stage_so_both_versions_agree():
    image = _photo(96, 128)
    v1, v2 = (prepare(image, _spec((32, 32), 1, version)) for version in (1, 2))
    np.testing.assert_array_equal(v1, v2)
    grey = cv2.cvtColor(cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(v2[:, :, 0], grey)


def test_colour_orders_channels_and_crop():
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :20] = (255, 0, 0)  # blue left quarter: cut away by the centre crop to a square
    image[:, 20:] = (0, 0, 255)  # red elsewhere
    rgb = prepare(image, _spec(8, 3, resize_mode="crop"))
    assert rgb.shape == (8, 8, 3) and rgb.flags["C_CONTIGUOUS"]
    assert (rgb[..., 0] == 255).all() and (rgb[..., 2] == 0).all()  # red comes first in RGB
    stretched = prepare(image, _spec(8, 3, color_order="BGR"))
    assert (stretched[:, 0, 0] == 255).all()  # the blue quarter survives a stretch
    grey = prepare(image[..., :1], _spec(8, 3))
    assert grey.shape == (8, 8, 3) and (grey[..., 0] == grey[..., 1]).all()
    bgra = np.dstack([image, np.full((40, 80), 7, np.uint8)])
    np.testing.assert_array_equal(prepare(bgra, _spec(8, 3)), prepare(image, _spec(8, 3)))

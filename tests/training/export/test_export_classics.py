"""The classic baselines train, export to int8 and run through the device runtime like the MobileNets.

``cifar10_cnn`` (no BatchNorm, a flattening dense head, dropout after the pools) and ``resnext50_32x4d`` (BatchNorm,
residual additions, 32-group convolutions) at a quarter width cover every block kind the classic families add.
The ResNeXt case (about 170 layers: a minute to train, convert and verify on 2 cores, more when shared) is slow.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.device.runtime import Classifier
from edgecnn.training.export import export
from edgecnn.training.train import train


@pytest.mark.parametrize("arch", ["cifar10_cnn", pytest.param("resnext50_32x4d", marks=pytest.mark.slow)])
def test_classic_trains_exports_int8_and_runs(arch, image_folder, tmp_path, helpers):
    out = tmp_path / arch
    metrics = train(arch, str(image_folder), out, alpha=0.25, size=32, epochs=1, batch_size=16, progress=False)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0
    result = export(out, quantize="int8", calib_samples=24, verify_samples=12, log=lambda _: None)
    assert result.output.is_file() and result.quantization["fully_integer"] is True
    assert result.metadata["arch"] == arch and result.metadata["alpha"] == 0.25
    assert result.verification["samples"] == 12

    classifier = Classifier(result.output)
    assert classifier.input.dtype == np.uint8 and classifier.labels == list(helpers.classes)
    dark = np.full((20, 20, 3), 40, dtype=np.uint8)  # a frame as OpenCV delivers it (BGR)
    scores = classifier.classify(dark)
    assert scores.shape == (len(helpers.classes),) and scores.dtype == np.float32
    assert scores.sum() == pytest.approx(1.0, abs=0.02) and (scores >= 0).all()

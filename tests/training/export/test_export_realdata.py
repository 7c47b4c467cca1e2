"""Fashion-MNIST end to end: train briefly, export full int8, and check the device-runtime accuracy (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

FMNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.skipif(not (FMNIST / "train-images-idx3-ubyte.gz").is_file(), reason="Fashion-MNIST IDX files missing")
def test_fashion_mnist_int8_keeps_accuracy(tmp_path):
    from edgecnn.training.export import export
    from edgecnn.training.train import train

    run = tmp_path / "run"
    train(
        "mobilenet_v2", str(FMNIST), run, alpha=0.35, size=32, epochs=6, batch_size=64, max_samples=6000, progress=False
    )
    result = export(
        run,
        tmp_path / "m.tflite",
        quantize="int8",
        calib_samples=300,
        verify_samples=3000,
        strict=True,
        log=lambda _: None,
    )
    verification = result.verification
    assert verification["keras_accuracy"] > 0.6, "the model did not learn; the comparison would mean nothing"
    assert verification["accuracy_drop"] <= 0.01, verification
    assert verification["agreement"] >= 0.9, verification
    assert result.quantization["input_scale"] == 1.0 and result.quantization["fully_integer"]

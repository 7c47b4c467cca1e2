"""Export from a real training run directory: defaults come from the run (data, labels, preprocessing, metrics)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.modelfile.metadata import read_metadata
from edgecnn.training.runs import load_run

runner = CliRunner()


def test_export_run_dir_with_bare_quantize(tiny_run, helpers):
    run = load_run(tiny_run)
    result = runner.invoke(
        app, ["export", str(tiny_run), "--quantize", "--calib-samples", "30", "--verify-samples", "12", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    out = tiny_run / "model_int8.tflite"  # no -o: the run directory, file named by the scheme
    assert doc["output"] == str(out) and out.is_file()
    assert (tiny_run / "labels.txt").read_text().split() == list(helpers.classes)

    meta = read_metadata(out)
    assert (meta.arch, meta.alpha, meta.separable) == ("mobilenet_v1", 0.25, True)
    assert meta.labels == run.labels and meta.preprocessing == run.preprocessing
    assert meta.quantization["input_scale"] == 1.0 and meta.quantization["input_zero_point"] == 0
    assert meta.quantization["fully_integer"] is True
    assert meta.metrics["training"]["val_accuracy"] == run.metrics["val_accuracy"]
    calibration = meta.extra["export"]["calibration"]
    assert calibration["source"] == run.data["source"] and calibration["samples"] == 30
    verification = meta.metrics["verification"]
    assert verification["split"] == "val" and verification["samples"] == 12
    # A 1-epoch MobileNet on noise images is ill-conditioned (its own outputs move by ~0.4 under +-1 pixel noise),
    # so closeness is asserted on the trained tiny model in test_export_schemes.py, not here.
    assert 0.0 <= verification["agreement"] <= 1.0 and 0.0 <= verification["max_abs_diff"] <= 1.0
    drop = verification["keras_accuracy"] - verification["tflite_accuracy"]
    assert verification["accuracy_drop"] == pytest.approx(drop)


def test_export_keras_inside_run_uses_the_run(tiny_run, tmp_path):
    result = runner.invoke(
        app,
        [
            "export",
            str(tiny_run / "best.keras"),
            "--quantize",
            "float16",
            "--no-verify",
            "-o",
            str(tmp_path / "fp16.tflite"),
        ],
    )
    assert result.exit_code == 0, result.output
    meta = read_metadata(tmp_path / "fp16.tflite")
    assert meta.arch == "mobilenet_v1" and meta.quantization["scheme"] == "float16"
    assert meta.quantization["weights"] == "float16"

"""``export --micro`` and ``eval --micro``: the int8 file checked in TFLite Micro, its C++ sources, the record in its
metadata, and the clear errors (an operator TFLM lacks, a scheme TFLM export does not take)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.modelfile.metadata import read_metadata

pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'edgecnn[micro]')")

runner = CliRunner()


@pytest.fixture(scope="module")
def micro_export(tiny_keras, image_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("micro_export")
    args = ["export", str(tiny_keras), "--quantize", "--micro", "--calib-data", str(image_folder)]
    result = runner.invoke(app, [*args, "--calib-samples", "30", "--verify-samples", "30", "-o", f"{out}/", "--json"])
    return out, result


def test_export_micro_writes_the_int8_file_and_its_sources(micro_export):
    out, result = micro_export
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    model = out / "model_int8_int8io.tflite"
    assert doc["output"] == str(model) and doc["io"] == "int8"
    assert doc["micro_sources"] == {
        "source": str(out / "model_int8_int8io_data.cc"),
        "header": str(out / "model_int8_int8io_data.h"),
        "resolver": str(out / "model_int8_int8io_ops.h"),
    }
    source = (out / "model_int8_int8io_data.cc").read_text()
    array = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", source))
    assert array == model.read_bytes()
    metadata = read_metadata(model)
    assert metadata.quantization["input_dtype"] == metadata.quantization["output_dtype"] == "int8"
    micro = metadata.extra["micro"]
    assert micro["arena_bytes"] == doc["micro"]["arena_bytes"] >= micro["arena_recorded_total"] > 0
    assert doc["micro"]["flash_bytes"] == model.stat().st_size
    verification = micro["verification"]
    samples = doc["verification"]["samples"]  # the same validation images as the Keras comparison
    assert verification["samples"] == samples > 0 and verification["passed"] and verification["agreement"] >= 0.995
    assert sum(verification["steps"]["histogram"].values()) == samples * 3
    assert "operators" not in micro and "operators" in doc["micro"]  # the trace stays out of the file
    assert [s["step"] for s in doc["steps"]][-2:] == ["micro", "write"]


def test_eval_micro_scores_in_tflm_and_compares_with_litert(micro_export, image_folder):
    out, _ = micro_export
    model = out / "model_int8_int8io.tflite"
    result = runner.invoke(app, ["eval", str(model), "--data", str(image_folder), "--micro", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["runtime"] == "tflite-micro"
    verification = doc["micro"]["verification"]
    assert verification["passed"] and verification["micro_accuracy"] == pytest.approx(doc["top1"])
    assert doc["micro"]["arena_bytes"] == read_metadata(model).extra["micro"]["arena_bytes"]
    text = runner.invoke(app, ["eval", str(model), "--data", str(image_folder), "--micro"])
    assert text.exit_code == 0 and "top-1 agreement with TFLM" in text.output and "arena:" in text.output


def test_export_micro_refuses_an_operator_tflm_lacks(tmp_path, image_folder, helpers):
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    model = helpers.build_tiny_model(keras, activation="gelu")
    path = tmp_path / "gelu.keras"
    model.save(path)
    out = tmp_path / "out"
    args = ["export", str(path), "--quantize", "--micro", "--calib-data", str(image_folder), "-o", f"{out}/"]
    result = runner.invoke(app, [*args, "--calib-samples", "10", "--verify-samples", "9"])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: TFLite Micro") and "GELU" in last and "no kernel" in last
    assert not out.exists() or not any(out.iterdir())


def test_export_micro_needs_int8(tiny_keras, image_folder, tmp_path):
    result = runner.invoke(
        app, ["export", str(tiny_keras), "--quantize", "float16", "--micro", "-o", str(tmp_path / "m.tflite")]
    )
    assert result.exit_code == 2
    assert "--micro needs a full-integer model: use --quantize int8" in result.output
    assert not (tmp_path / "m.tflite").exists()

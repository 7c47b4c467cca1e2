"""``edgecnn inspect`` on our files and on plain converter output, plus the converter's post-conversion checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError

runner = CliRunner()


@pytest.fixture(scope="module")
def keras_model(tiny_keras):
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    return keras.models.load_model(tiny_keras, compile=False)


@pytest.fixture(scope="module")
def calibration(helpers):
    return np.random.default_rng(0).integers(20, 230, (16, helpers.size, helpers.size, 1)).astype(np.uint8)


@pytest.fixture(scope="module")
def plain_tflite(keras_model, tmp_path_factory):
    """A float32 file straight from tf.lite, as another tool would make it: no edgecnn metadata."""
    from edgecnn.training._tf import import_tf

    tf, _ = import_tf()
    path = tmp_path_factory.mktemp("plain") / "plain.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras_model).convert())
    return path


@pytest.fixture(scope="module")
def ours_int8(tiny_keras, image_folder, tmp_path_factory):
    from edgecnn.training.export import export

    path = tmp_path_factory.mktemp("ours") / "m.tflite"
    export(tiny_keras, path, quantize="int8", calib_data=str(image_folder), verify_samples=9, log=lambda _: None)
    return path


def test_inspect_our_file_text_and_json(ours_int8, helpers):
    text = runner.invoke(app, ["inspect", str(ours_int8)])
    assert text.exit_code == 0, text.output
    assert "metadata: edgecnn/2" in text.stdout
    assert f"labels       3: {', '.join(helpers.classes)}" in text.stdout
    assert "quantisation int8" in text.stdout and "verified     on 9 val images" in text.stdout
    assert "scale 1, zero point 0" in text.stdout
    assert text.stdout.strip().splitlines()[-1] == "fully integer: yes"
    assert "float operators: none" in text.stdout

    result = runner.invoke(app, ["inspect", str(ours_int8), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["size_bytes"] == ours_int8.stat().st_size
    assert doc["metadata"]["labels"] == list(helpers.classes)
    assert doc["metadata"]["metrics"]["verification"]["samples"] == 9
    assert doc["inputs"][0] == {
        "name": doc["inputs"][0]["name"],
        "dtype": "uint8",
        "shape": [1, helpers.size, helpers.size, 1],
        "scale": 1.0,
        "zero_point": 0,
    }
    assert doc["outputs"][0]["dtype"] == "uint8"
    assert doc["operators"]["CONV_2D"] == 1 and doc["operators"]["DEPTHWISE_CONV_2D"] == 1
    assert doc["fully_integer"] is True and doc["float_operators"] == {} and doc["custom_operators"] == []


def test_inspect_plain_file_without_metadata(plain_tflite):
    text = runner.invoke(app, ["inspect", str(plain_tflite)])
    assert text.exit_code == 0, text.output
    assert "metadata: none" in text.stdout
    assert text.stdout.strip().splitlines()[-1] == "fully integer: no"
    doc = json.loads(runner.invoke(app, ["inspect", str(plain_tflite), "--json"]).stdout)
    assert doc["metadata"] is None
    assert doc["inputs"][0]["dtype"] == "float32" and doc["inputs"][0]["scale"] is None
    assert doc["fully_integer"] is False
    assert doc["float_operators"]["CONV_2D"] == 1 and doc["float_operators"]["SOFTMAX"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "model file not found"),
        (b"", "model file is empty"),
        (b"\x00" * 64, "not a TFLite model"),
    ],
)
def test_inspect_bad_files_exit_2(tmp_path, content, message):
    path = tmp_path / "bad.tflite"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_check_rejects_flex_ops(keras_model, calibration):
    """Rename an operator code to a Flex custom op in real converter output: the check must refuse it."""
    import flatbuffers

    from edgecnn.modelfile.schema import load_schema
    from edgecnn.training.export.converter import check, convert

    conversion = convert(keras_model, "int8", None, calibration)
    schema = load_schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(conversion.model_bytes), 0))
    model.operatorCodes[0].builtinCode = schema.BuiltinOperator.CUSTOM
    model.operatorCodes[0].deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    model.operatorCodes[0].customCode = "FlexConv2D"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(EdgeCNNError, match="non-builtin operators .*CUSTOM:FlexConv2D"):
        check(bytes(builder.Output()), "int8", "uint8")


def test_check_detects_an_unpinned_input(keras_model, calibration):
    from edgecnn.training.export.converter import check, convert

    unpinned = convert(keras_model, "int8", None, calibration, pin_input=False)  # calibration spans 20..229 only
    assert unpinned.quantization["input_scale"] != 1.0
    with pytest.raises(EdgeCNNError, match="calibration range was not pinned"):
        check(unpinned.model_bytes, "int8", "uint8", pinned=True)
    pinned = convert(keras_model, "int8", "int8", calibration)
    assert (pinned.quantization["input_scale"], pinned.quantization["input_zero_point"]) == (1.0, -128)


def test_check_rejects_float_ops_in_full_integer_scheme(keras_model):
    from edgecnn.training.export.converter import check, convert

    dynamic = convert(keras_model, "dynamic")
    with pytest.raises(EdgeCNNError, match="still runs operators in float"):
        check(dynamic.model_bytes, "int8", "float32", pinned=False)


def test_int16x8_with_hard_swish_fails_plainly_and_names_working_schemes(helpers, image_folder, tmp_path):
    """TF 2.21 cannot quantise HARD_SWISH (MobileNetV3's activation) to 16x8 with builtin ops."""
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    path = tmp_path / "hs.keras"
    helpers.build_tiny_model(keras, activation="hard_swish").save(path)
    result = runner.invoke(
        app,
        [
            "export",
            str(path),
            "--quantize",
            "int16x8",
            "--calib-data",
            str(image_folder),
            "--calib-samples",
            "10",
            "-o",
            str(tmp_path / "hs.tflite"),
        ],
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()  # progress of load and calibrate, then one error line
    assert [line[:5] for line in lines[:-1]] == ["[1/6]", "[2/6]"]
    error = lines[-1]
    assert error.startswith("error: conversion to int16x8 failed") and "HARD_SWISH" in error
    assert error.endswith("schemes that convert this model: float32, float16, dynamic, int8")
    assert not (tmp_path / "hs.tflite").exists()
    log = Path(re.search(r"converter log: (\S+)\)", error).group(1))  # the full converter output, kept for the user
    assert "HARD_SWISH" in log.read_text()
    log.unlink()


def test_int16x8_model_the_interpreter_rejects_fails_the_export(calibration, helpers):
    """A depthwise + ReLU6 branch that is dead on every calibration image gets a near-zero int16 output scale; the
    converter accepts it but the interpreter cannot prepare it (int32 overflow). That must fail at convert time,
    even with --no-verify, and leave no file."""
    from edgecnn.training._tf import import_tf
    from edgecnn.training.export.converter import ConversionError, convert

    _, keras = import_tf()
    inputs = keras.Input((helpers.size, helpers.size, 1))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same")(x)
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same")
    dead = keras.layers.ReLU(6.0)(depthwise(x))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Concatenate()([x, dead]))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    kernel, bias = depthwise.get_weights()
    depthwise.set_weights([np.zeros_like(kernel), np.full_like(bias, -1.0)])

    with pytest.raises(ConversionError, match="interpreter cannot load: .*DEPTHWISE_CONV_2D"):
        convert(model, "int16x8", None, calibration)
    assert convert(model, "int8", None, calibration).quantization["fully_integer"]

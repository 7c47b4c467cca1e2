"""Every scheme and I/O dtype through the real export pipeline, checked on the produced file without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from edgecnn.modelfile.inspect import inspect_model
from edgecnn.modelfile.metadata import read_metadata
from edgecnn.training.export import SCHEMES, export
from edgecnn.training.export.schemes import file_name, resolve

COMBOS = [(name, io) for name, scheme in SCHEMES.items() for io in scheme.io]


def test_scheme_table_is_consistent():
    assert set(SCHEMES) == {"float32", "float16", "dynamic", "int8", "int16x8"}
    assert resolve(None, None)[0].name == "float32"
    assert resolve("int8", None) == (SCHEMES["int8"], "uint8")
    assert resolve("INT8", "int8")[1] == "int8"
    for scheme in SCHEMES.values():
        assert all("SELECT_TF_OPS" not in ops for ops in scheme.ops)
    assert file_name(SCHEMES["int8"], "uint8") == "model_int8.tflite"
    assert file_name(SCHEMES["int8"], "float32") == "model_int8_float32io.tflite"


@pytest.mark.parametrize(("scheme", "io"), COMBOS, ids=[f"{s}-{io}" for s, io in COMBOS])
def test_export_every_scheme(tiny_keras, image_folder, tmp_path, helpers, scheme, io):
    lines = []
    result = export(
        tiny_keras,
        tmp_path / "out.tflite",
        quantize=scheme,
        io=io,
        calib_data=str(image_folder),
        calib_samples=40,
        verify_samples=10,
        log=lines.append,
    )
    assert [line.split("]")[0] for line in lines] == [f"[{i}/6" for i in range(1, 7)]
    path = tmp_path / "out.tflite"
    assert result.output == path and path.stat().st_size == result.size_bytes
    assert (tmp_path / "labels.txt").read_text().split() == list(helpers.classes)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"

    report = inspect_model(path)
    tensor_in, tensor_out = report["inputs"][0], report["outputs"][0]
    assert tensor_in["dtype"] == io and tensor_out["dtype"] == io
    assert tensor_in["shape"] == [1, helpers.size, helpers.size, 1] and tensor_out["shape"] == [1, len(helpers.classes)]
    assert report["custom_operators"] == []
    assert report["fully_integer"] is SCHEMES[scheme].fully_integer
    if io == "uint8":
        assert (tensor_in["scale"], tensor_in["zero_point"]) == (1.0, 0)
    if io == "int8":
        assert (tensor_in["scale"], tensor_in["zero_point"]) == (1.0, -128)
    if scheme == "float16":
        assert "DEQUANTIZE" in report["operators"]

    meta = read_metadata(path)
    assert meta.labels == list(helpers.classes)
    assert meta.preprocessing.shape == (helpers.size, helpers.size, 1)
    assert meta.preprocessing.normalization == "in-model"
    assert meta.preprocessing.mean == (127.5,) and meta.preprocessing.std == (127.5,)
    assert meta.quantization["scheme"] == scheme
    assert meta.quantization["input_dtype"] == io and meta.quantization["output_dtype"] == io
    assert meta.quantization["input_scale"] == tensor_in["scale"]
    verification = meta.metrics["verification"]
    assert verification == result.verification
    assert verification["samples"] == 10 and verification["split"] == "val"
    assert 0.0 <= verification["tflite_accuracy"] <= 1.0
    # The trained model separates the classes, and every scheme keeps it within 2 points here.
    assert verification["keras_accuracy"] > 0.8
    assert verification["accuracy_drop"] <= 0.02
    assert verification["agreement"] >= 0.9
    assert meta.extra["export"]["calibration"] == (
        {"source": str(image_folder), "split": "train", "samples": 40} if SCHEMES[scheme].calibrate else None
    )


def test_metadata_reads_back_without_tensorflow(tiny_keras, image_folder, tmp_path, helpers):
    path = tmp_path / "m.tflite"
    export(
        tiny_keras,
        path,
        quantize="int8",
        calib_data=str(image_folder),
        calib_samples=20,
        verify_samples=15,
        log=lambda _: None,
    )
    code = (
        "import json, sys\n"
        "from edgecnn.modelfile.metadata import read_metadata\n"
        "from edgecnn.modelfile.inspect import inspect_model\n"
        "from edgecnn.device.runtime import Classifier\n"
        f"meta = read_metadata({str(path)!r}); report = inspect_model({str(path)!r})\n"
        f"clf = Classifier({str(path)!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(json.dumps({'labels': meta.labels, 'scheme': meta.quantization['scheme'], 'heavy': heavy,\n"
        "                  'fully_integer': report['fully_integer'], 'input': clf.input.dtype.name}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {
        "labels": list(helpers.classes),
        "scheme": "int8",
        "heavy": [],
        "fully_integer": True,
        "input": "uint8",
    }


def test_int8_tflite_matches_keras_on_the_device_runtime(tiny_keras, image_folder, tmp_path):
    """The exported int8 model classifies like the Keras model when fed raw pixels by the device runtime."""
    from edgecnn.device.runtime import Classifier
    from edgecnn.training._tf import import_tf
    from edgecnn.training.data import load_arrays

    _, keras = import_tf()
    path = tmp_path / "m.tflite"
    export(tiny_keras, path, quantize="int8", calib_data=str(image_folder), verify=False, log=lambda _: None)
    clf = Classifier(path)
    x, y, _ = load_arrays(str(image_folder), clf.preprocessing, "val")
    assert np.array_equal(clf.to_input(x), x), "uint8 input must take raw pixels unchanged"
    model = keras.models.load_model(tiny_keras, compile=False)
    keras_top = np.argmax(model.predict(x.astype("float32"), verbose=0), axis=1)
    tflite_top = np.argmax(clf.predict_pixels(x), axis=1)
    assert np.mean(keras_top == tflite_top) >= 0.9
    assert np.mean(tflite_top == y) > 0.8


def test_per_tensor_int8_has_one_scale_per_weight_tensor(tiny_keras, image_folder, tmp_path):
    from edgecnn.modelfile.tflite_file import parse_tflite

    files = {}
    for per_tensor in (False, True):
        path = tmp_path / f"per_tensor_{per_tensor}.tflite"
        export(
            tiny_keras,
            path,
            quantize="int8",
            calib_data=str(image_folder),
            calib_samples=40,
            verify_samples=10,
            per_tensor=per_tensor,
            log=lambda _line: None,
        )
        files[per_tensor] = path
        meta = read_metadata(path)
        assert meta.quantization["weight_scales"] == ("per-tensor" if per_tensor else "per-channel")
        assert meta.metrics["verification"]["accuracy_drop"] <= 0.02
    # The 3x3 kernels of the 8-filter conv and of the depthwise conv (no activation here is 3x3): 8 scales each
    # per channel, 1 per tensor.
    weight_scales = {
        per_tensor: [
            len(t.scales)
            for t in parse_tflite(path.read_bytes()).tensors
            if t.dtype == "int8" and len(t.shape) == 4 and t.shape[1:3] == [3, 3]
        ]
        for per_tensor, path in files.items()
    }
    assert weight_scales == {False: [8, 8], True: [1, 1]}
    assert files[True].stat().st_size < files[False].stat().st_size


def test_per_tensor_only_for_int8(tiny_keras, image_folder, tmp_path):
    from edgecnn.core.errors import EdgeCNNError

    with pytest.raises(EdgeCNNError, match="--per-tensor applies to int8 only"):
        export(tiny_keras, tmp_path / "x.tflite", quantize="float16", per_tensor=True, log=lambda _line: None)
    assert not (tmp_path / "x.tflite").exists()

"""``edgecnn export`` through the real CLI: the bare ``--quantize`` flag, output naming, JSON, errors, atomicity."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.cli.export_cmd import expand_bare_quantize
from edgecnn.modelfile.metadata import read_metadata

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["export", *map(str, args)])


def _scheme(path) -> str:
    return read_metadata(path).quantization["scheme"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--quantize"], ["run", "--quantize=int8"]),
        (["run", "--quantize", "-o", "x.tflite"], ["run", "--quantize=int8", "-o", "x.tflite"]),
        (["--quantize", "run/"], ["--quantize=int8", "run/"]),
        (["--quantize", "model.keras"], ["--quantize=int8", "model.keras"]),
        (["run", "--quantize", "float16"], ["run", "--quantize", "float16"]),
        (["run", "--quantize", "INT16X8"], ["run", "--quantize", "INT16X8"]),
        (["run", "--quantize=dynamic"], ["run", "--quantize=dynamic"]),
        (["run", "--quantize", "flaot16"], ["run", "--quantize", "flaot16"]),  # a typo stays a value: "unknown scheme"
        (["run", "--", "--quantize"], ["run", "--", "--quantize"]),
    ],
)
def test_expand_bare_quantize(args, expected):
    assert expand_bare_quantize(args) == expected


def test_bare_quantize_existing_path_is_not_a_value(tmp_path, monkeypatch):
    (tmp_path / "myrun").mkdir()
    monkeypatch.chdir(tmp_path)
    assert expand_bare_quantize(["--quantize", "myrun"]) == ["--quantize=int8", "myrun"]


def test_cli_quantize_forms(tiny_keras, image_folder, tmp_path, helpers):
    calib = ["--calib-data", image_folder, "--calib-samples", "20", "--verify-samples", "9"]
    out = tmp_path / "out"
    bare = _run(tiny_keras, "--quantize", *calib, "-o", f"{out}/")
    assert bare.exit_code == 0, bare.output
    assert _scheme(out / "model_int8.tflite") == "int8"
    assert read_metadata(out / "model_int8.tflite").quantization["input_dtype"] == "uint8"
    assert (out / "labels.txt").read_text().split() == list(helpers.classes)

    bare_first = _run("--quantize", tiny_keras, *calib, "-o", tmp_path / "first.tflite")
    assert bare_first.exit_code == 0, bare_first.output
    assert _scheme(tmp_path / "first.tflite") == "int8"

    spaced = _run(tiny_keras, "--quantize", "float16", *calib, "-o", f"{out}/")
    assert spaced.exit_code == 0, spaced.output
    assert _scheme(out / "model_float16.tflite") == "float16"

    equals = _run(tiny_keras, "--quantize=dynamic", *calib, "-o", out)
    assert equals.exit_code == 0, equals.output
    assert _scheme(out / "model_dynamic.tflite") == "dynamic"

    plain = _run(tiny_keras, *calib, "-o", out)
    assert plain.exit_code == 0, plain.output
    assert _scheme(out / "model_float32.tflite") == "float32"

    io = _run(tiny_keras, "--quantize", "--io", "int8", *calib, "-o", out)
    assert io.exit_code == 0, io.output
    assert read_metadata(out / "model_int8_int8io.tflite").quantization["input_zero_point"] == -128


def test_cli_json_and_progress(tiny_keras, image_folder, tmp_path):
    result = runner.invoke(
        app,
        [
            "export",
            str(tiny_keras),
            "--quantize",
            "--calib-data",
            str(image_folder),
            "--verify-samples",
            "12",
            "--json",
            "-o",
            str(tmp_path / "m.tflite"),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scheme"] == "int8" and doc["io"] == "uint8"
    assert doc["quantization"]["input_scale"] == 1.0 and doc["quantization"]["input_zero_point"] == 0
    assert set(doc["verification"]) >= {
        "keras_accuracy",
        "tflite_accuracy",
        "agreement",
        "max_abs_diff",
        "mean_abs_diff",
        "samples",
    }
    assert [s["step"] for s in doc["steps"]] == ["load", "calibrate", "convert", "embed metadata", "verify", "write"]
    assert doc["metadata"]["metrics"]["verification"] == doc["verification"]
    # Progress is on stderr, one line per step; the converter's own chatter is hidden.
    progress = result.stderr.strip().splitlines()
    assert len(progress) == 6 and progress[2].startswith("[3/6] convert")
    assert "Saved artifact" not in result.output and "TensorSpec" not in result.output


def test_converter_chatter_hidden_at_fd_level(tiny_keras, image_folder, tmp_path, capfd):
    from edgecnn.training.export import export

    export(tiny_keras, tmp_path / "m.tflite", quantize="int8", calib_data=str(image_folder), verify_samples=9)
    out, err = capfd.readouterr()
    assert "Saved artifact" not in out + err and "TensorSpec" not in out + err
    assert len(err.strip().splitlines()) == 6, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{model}", "--quantize", "int4"], "unknown quantization scheme 'int4'"),
        (["{model}", "--quantize", "flaot16"], "unknown quantization scheme 'flaot16'"),
        (["{model}", "--quantize", "float16", "--io", "uint8"], "--io uint8 is not available for float16"),
        (["{model}", "--io", "int8"], "--io int8 is not available for float32"),
        (["{missing}", "--quantize"], "no such run directory or model file"),
        (["{model}", "--quantize", "-o", "{tmp}/x.onnx"], "must be a .tflite file or a directory"),
        (["{model}", "--quantize"], "needs calibration images"),
        (["{data}"], "is not a training run"),
        (["{model}", "--quantize", "--calib-data", "{data}", "--calib-samples", "0"], "--calib-samples must be >= 1"),
        (["{model}", "--quantize", "dynamic", "--per-tensor"], "--per-tensor applies to int8 only"),
    ],
)
def test_cli_bad_inputs_exit_2_with_one_line(tiny_keras, image_folder, tmp_path, args, message):
    values = {"model": tiny_keras, "missing": tmp_path / "nope", "tmp": tmp_path, "data": image_folder}
    args = [a.format(**values) for a in args]
    result = _run(*args, *([] if "-o" in args else ["-o", tmp_path / "never.tflite"]))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "never.tflite").exists()


def test_not_a_keras_file(tmp_path):
    bogus = tmp_path / "broken.keras"
    bogus.write_bytes(b"not a zip")
    result = _run(bogus, "-o", tmp_path / "x.tflite")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot load Keras model") and result.stderr.count("\n") == 1


def test_failure_mid_export_leaves_no_file(tiny_keras, image_folder, tmp_path, monkeypatch):
    import edgecnn.training.export.verify as verify_module

    def explode(*args, **kwargs):
        raise RuntimeError("simulated crash during verification")

    monkeypatch.setattr(verify_module, "verify", explode)
    out = tmp_path / "out"
    out.mkdir()
    result = _run(tiny_keras, "--quantize", "--calib-data", image_folder, "-o", out / "m.tflite")
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert list(out.iterdir()) == [], "a failed export must leave neither the model, a temp file nor labels.txt"


def test_interrupt_mid_export_leaves_no_file(tiny_keras, image_folder, tmp_path, monkeypatch):
    import edgecnn.modelfile.metadata_writer as writer
    from edgecnn.training.export import exporter

    calls = []

    def interrupt_on_second(model_bytes, metadata, standard=None):
        calls.append(1)
        if len(calls) == 2:  # the final embed, after verification: the temp file is complete by now
            raise KeyboardInterrupt
        return writer.embed_metadata(model_bytes, metadata, standard)

    monkeypatch.setattr(exporter, "embed_metadata", interrupt_on_second)
    result = _run(
        tiny_keras, "--quantize", "--calib-data", image_folder, "--verify-samples", "6", "-o", tmp_path / "m.tflite"
    )
    assert result.exit_code == 130
    assert [p.name for p in tmp_path.iterdir()] == []


def test_strict_accuracy_drop_exits_1_and_writes_nothing(tiny_keras, image_folder, tmp_path, monkeypatch):
    from edgecnn.training.export import exporter

    # Any result counts as a drop above a negative threshold: exercises the --strict path deterministically.
    monkeypatch.setattr(exporter, "MAX_ACCURACY_DROP", -1.0)
    args = [
        tiny_keras,
        "--quantize",
        "--calib-data",
        image_folder,
        "--verify-samples",
        "6",
        "-o",
        tmp_path / "m.tflite",
    ]
    loose = _run(*args)
    assert loose.exit_code == 0 and "WARNING: int8 lost" in loose.stderr
    (tmp_path / "m.tflite").unlink()
    strict = _run(*args, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip().splitlines()[-1].startswith("error: --strict: int8 accuracy dropped")
    assert not (tmp_path / "m.tflite").exists()


def test_no_verify(tiny_keras, image_folder, tmp_path):
    result = _run(
        tiny_keras, "--quantize", "--calib-data", image_folder, "--no-verify", "--json", "-o", tmp_path / "m.tflite"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verification"] is None
    assert "verification" not in read_metadata(tmp_path / "m.tflite").metrics

"""The flatbuffer reader and ``edgecnn inspect`` against what the LiteRT interpreter itself reports about a file."""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.modelfile import schema as schema_module
from edgecnn.modelfile.inspect import FLOAT_TYPES, analyse, inspect_model
from edgecnn.modelfile.metadata import ModelMetadata, read_metadata, read_metadata_from_bytes
from edgecnn.modelfile.metadata_writer import embed_metadata
from edgecnn.modelfile.tflite_file import ModelFile, parse_tflite

NAMES = ("shipped", "float32_float32", "float16_float32", "dynamic_float32", "int8_uint8", "int8_float32")
runner = CliRunner()


def _interpreter(path):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path))


def _dtype(value) -> str:
    return np.dtype(value).name


def _edit(data: bytes, change) -> bytes:
    """``data`` rewritten through the schema's object API after ``change(model)``."""
    import flatbuffers

    schema = schema_module.load_schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))
    change(schema, model)
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("name", NAMES)
def test_tensors_operators_and_io_match_the_interpreter(model_files, name):
    parsed = parse_tflite(model_files[name].read_bytes())
    interpreter = _interpreter(model_files[name])
    details = interpreter.get_tensor_details()
    assert len(parsed.tensors) == len(details) > 5
    for tensor, want in zip(parsed.tensors, details, strict=True):
        assert tensor.index == want["index"]
        assert tensor.name == want["name"]
        assert tensor.shape == want["shape"].tolist()
        assert tensor.dtype == _dtype(want["dtype"])
        assert tensor.scales == want["quantization_parameters"]["scales"].tolist()
        assert tensor.zero_points == want["quantization_parameters"]["zero_points"].tolist()
    assert parsed.inputs == [d["index"] for d in interpreter.get_input_details()]
    assert parsed.outputs == [d["index"] for d in interpreter.get_output_details()]
    names = analyse(parsed)  # operator names through the schema's enum
    ops = interpreter._get_ops_details()  # noqa: SLF001 (the interpreter's only view of the operator list)
    assert sum(names["operators"].values()) == len(parsed.operators) == len(ops)
    for op, want in zip(parsed.operators, ops, strict=True):
        assert op.inputs == want["inputs"].tolist() and op.outputs == want["outputs"].tolist()
    assert Counter(op["op_name"] for op in ops) == Counter(names["operators"])
    assert parsed.num_subgraphs == interpreter._interpreter.NumSubgraphs()  # noqa: SLF001
    assert parsed.version == 3


@pytest.mark.parametrize("name", NAMES)
def test_inspect_report_matches_the_interpreter(model_files, name):
    """Every field ``edgecnn inspect --json`` shows, recomputed from the interpreter's own view of the file."""
    path = model_files[name]
    report = inspect_model(path)
    interpreter = _interpreter(path)
    assert report["path"] == str(path) and report["size_bytes"] == path.stat().st_size
    for role, details in (("inputs", interpreter.get_input_details()), ("outputs", interpreter.get_output_details())):
        expected = []
        for d in details:
            scale, zero_point = d["quantization"]
            expected.append(
                {
                    "name": d["name"],
                    "dtype": _dtype(d["dtype"]),
                    "shape": d["shape"].tolist(),
                    "scale": float(scale) if scale else None,
                    "zero_point": int(zero_point) if scale else None,
                }
            )
        assert report[role] == expected
    ops = interpreter._get_ops_details()  # noqa: SLF001
    graph_inputs = {d["index"] for d in interpreter.get_input_details()}
    graph_outputs = {d["index"] for d in interpreter.get_output_details()}
    floats = Counter()
    for op in ops:
        types = {_dtype(t) for t in (*op["operand_types"], *op["result_types"])}
        at_edge = (op["op_name"] == "QUANTIZE" and set(op["inputs"].tolist()) <= graph_inputs) or (
            op["op_name"] == "DEQUANTIZE" and set(op["outputs"].tolist()) <= graph_outputs
        )
        if types & set(FLOAT_TYPES) and not at_edge:
            floats[op["op_name"]] += 1
    assert report["operators"] == dict(Counter(op["op_name"] for op in ops).most_common())
    assert report["num_operators"] == len(ops)
    assert report["float_operators"] == dict(floats.most_common())
    assert report["fully_integer"] is (not floats)
    assert report["fully_integer"] is name.startswith(("int8", "shipped"))
    assert report["custom_operators"] == []
    assert report["subgraphs"] == interpreter._interpreter.NumSubgraphs()  # noqa: SLF001
    if name == "float16_float32":
        assert report["operators"]["DEQUANTIZE"] >= 3  # float16 weights -> float32 at load
    if name == "int8_float32":
        assert report["float_operators"] == {}  # QUANTIZE in, DEQUANTIZE out: the edges only


def test_inspect_json_and_text_on_a_file_written_by_0_1_0(model_files):
    result = runner.invoke(app, ["inspect", str(model_files["shipped"]), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == [
        "path",
        "size_bytes",
        "metadata",
        "standard_metadata",
        "inputs",
        "outputs",
        "operators",
        "num_operators",
        "float_operators",
        "custom_operators",
        "fully_integer",
        "subgraphs",
    ]
    assert doc["metadata"]["edgecnn_version"] == "0.1.0" and len(doc["metadata"]["labels"]) == 10
    assert doc["standard_metadata"] is None  # 0.1.0 wrote only the edgecnn entry
    text = runner.invoke(app, ["inspect", str(model_files["shipped"])]).stdout.splitlines()
    assert text[1].startswith("metadata: edgecnn/1 written by edgecnn 0.1.0")
    assert "  input  uint8    [1, 32, 32, 1]     scale 1, zero point 0  (serving_default_image:0)" in text
    assert text[-3].startswith("operators: 70 (CONV_2D x35, DEPTHWISE_CONV_2D x17, ADD x12")
    assert text[-1] == "fully integer: yes"


def test_metadata_entries_by_name(model_files):
    model = ModelFile(model_files["shipped"].read_bytes())
    entries = model.metadata_entries()
    assert list(entries) == ["min_runtime_version", "CONVERSION_METADATA", "edgecnn"]
    assert model.metadata("min_runtime_version").rstrip(b"\0").decode() == "1.14.0"
    doc = json.loads(model.metadata("edgecnn"))
    assert doc["format"] == "edgecnn/1" and doc["arch"] == "mobilenet_v2"
    assert model.metadata("edgecnn") == model.buffer(entries["edgecnn"])
    assert model.metadata("TFLITE_METADATA") is None
    assert model.buffer(10**6) == b"" and model.buffer(-1) == b""
    assert read_metadata(model_files["shipped"]).labels[0] == "T-shirt/top"
    assert read_metadata(model_files["float32_float32"]) is None


def test_embedded_metadata_round_trips_and_is_replaced(model_files):
    plain = model_files["int8_uint8"].read_bytes()
    first = ModelMetadata(labels=["a", "b", "c", "d"], preprocessing=Preprocessing.for_model(_input_hw(plain), 3))
    once = embed_metadata(plain, first)
    model = ModelFile(once)
    assert model.metadata("edgecnn") == first.to_json_bytes()
    assert read_metadata_from_bytes(once).labels == ["a", "b", "c", "d"]
    second = ModelMetadata(labels=["w", "x", "y", "z"], preprocessing=first.preprocessing, arch="tiny_colour")
    twice = ModelFile(embed_metadata(once, second))
    assert list(twice.metadata_entries()).count("edgecnn") == 1
    assert json.loads(twice.metadata("edgecnn"))["labels"] == ["w", "x", "y", "z"]
    # The model itself is untouched: same tensors and operators.
    assert parse_tflite(twice.data).tensors == parse_tflite(plain).tensors


def _input_hw(data: bytes) -> tuple[int, int]:
    model = parse_tflite(data)
    shape = model.tensors[model.inputs[0]].shape
    return shape[1], shape[2]


def test_buffer_stored_after_the_flatbuffer(model_files):
    """Models over 2 GB keep buffers outside the flatbuffer (``offset``/``size`` from the file's start)."""
    payload = b"associated file bytes\n" * 3

    def add_entry(schema, model):
        buffer = schema.BufferT()
        buffer.offset, buffer.size = 1, len(payload)  # patched below, once the flatbuffer's length is known
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name, entry.buffer = "outside", len(model.buffers) - 1
        model.metadata = [*(model.metadata or []), entry]

    edited = _edit(model_files["float32_float32"].read_bytes(), add_entry)
    assert ModelFile(edited).metadata("outside") == b""  # offset 1 is the schema's "no data" marker
    offset = len(edited)

    def point_at_end(schema, model):
        model.buffers[-1].offset = offset + 8  # the rebuilt flatbuffer keeps its length: same fields, same sizes

    moved = _edit(edited, point_at_end)
    assert len(moved) == offset
    data = moved + b"\0" * 8 + payload
    assert ModelFile(data).metadata("outside") == payload
    assert parse_tflite(data).metadata["outside"] == payload


def test_custom_and_unknown_operator_codes(model_files):
    def rename(schema, model):
        model.operatorCodes[0].builtinCode = schema.BuiltinOperator.CUSTOM
        model.operatorCodes[0].deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        model.operatorCodes[0].customCode = "MyOp"
        model.operatorCodes[1].builtinCode = 4000
        model.operatorCodes[1].deprecatedBuiltinCode = 127

    report = analyse(parse_tflite(_edit(model_files["float32_float32"].read_bytes(), rename)))
    assert report["custom_operators"] == ["CUSTOM:MyOp"]
    assert "CUSTOM:MyOp" in report["operators"] and "BUILTIN_4000" in report["operators"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a model\n" * 10, "not a TFLite model (missing the 'TFL3' file identifier)"),
        (b"\x00" * 64, "not a TFLite model (missing the 'TFL3' file identifier)"),
        (b"TFL3", "not a TFLite model (missing the 'TFL3' file identifier)"),
        (b"\xff\xff\xff\x7fTFL3" + b"\x00" * 40, "the TFLite file is truncated or corrupt"),
    ],
)
def test_not_a_flatbuffer_model_is_one_line(tmp_path, content, message):
    with pytest.raises(EdgeCNNError) as caught:
        parse_tflite(content)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: {caught.value}\n"


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.7, 0.98])
def test_truncated_file_is_one_line(model_files, keep):
    data = model_files["shipped"].read_bytes()
    cut = data[: int(len(data) * keep)]
    with pytest.raises(EdgeCNNError, match="truncated or corrupt") as caught:
        parse_tflite(cut)
    assert "\n" not in str(caught.value)
    try:  # reading metadata touches only the tables on the way to its buffer: they may have survived the cut
        metadata = read_metadata_from_bytes(cut)
    except EdgeCNNError as exc:
        assert "\n" not in str(exc)
    else:
        assert metadata == read_metadata_from_bytes(data)


def test_schema_falls_back_to_tensorflow_then_fails_plainly(model_files, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed (a device-only install): no tf.lite schema to fall back to")
    data = model_files["shipped"].read_bytes()
    expected = parse_tflite(data)
    caches = (schema_module.load_schema, schema_module.tensor_type_names, schema_module.builtin_operator_names)
    try:
        monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
        for cached in caches:
            cached.cache_clear()
        assert schema_module.load_schema().__name__ == "tensorflow.lite.python.schema_py_generated"
        assert parse_tflite(data) == expected

        for name in ("tensorflow", "tensorflow.lite", "tensorflow.lite.python"):
            monkeypatch.setitem(sys.modules, name, None)
        for cached in caches:
            cached.cache_clear()
        with pytest.raises(EdgeCNNError, match=r"needs the flatbuffer schema of ai-edge-litert .*edgecnn\[device\]"):
            parse_tflite(data)
    finally:
        monkeypatch.undo()
        for cached in caches:
            cached.cache_clear()
    assert schema_module.load_schema().__name__ == "ai_edge_litert.schema_py_generated"

"""TFLite's standard metadata (write, read, pack the label file) and our entry's format 2, on the shipped model.

No TensorFlow: the shipped 0.1.0 file in models/ is the base, rewritten with the model-file layer's own writer.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.modelfile.inspect import format_report, inspect_model
from edgecnn.modelfile.metadata import ModelMetadata, read_metadata, read_metadata_document
from edgecnn.modelfile.metadata_writer import embed_entries, embed_metadata
from edgecnn.modelfile.packed_files import append_files, packed_file_names, read_packed_file
from edgecnn.modelfile.standard_metadata import (
    STANDARD_NAME,
    ModelCard,
    StandardMetadata,
    decode,
    encode,
    for_export,
    read_standard_metadata,
)
from edgecnn.modelfile.tflite_file import parse_tflite

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
CARD = ModelCard("fmnist_test", "A test model.", "7", "Test Author", "MIT")


@pytest.fixture(scope="module")
def shipped():
    return SHIPPED.read_bytes(), read_metadata(SHIPPED)


@pytest.fixture(scope="module")
def both_entries(shipped, tmp_path_factory) -> Path:
    data, meta = shipped
    standard = for_export(CARD, meta.preprocessing, meta.labels, input_dtype="uint8", output_dtype="uint8")
    path = tmp_path_factory.mktemp("standard") / "both.tflite"
    path.write_bytes(embed_metadata(data, meta, standard))
    return path


def _invoke(model_bytes: bytes, pixels: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_standard_entry_round_trip_with_packed_labels(shipped, both_entries):
    data, meta = shipped
    written = both_entries.read_bytes()
    entries = parse_tflite(written).metadata
    assert set(entries) >= {"edgecnn", STANDARD_NAME}
    assert entries[STANDARD_NAME][4:8] == b"M001"
    assert packed_file_names(written) == ["labels.txt"]
    assert read_packed_file(written, "labels.txt") == ("\n".join(meta.labels) + "\n").encode()

    standard = read_standard_metadata(written)
    assert standard.card == CARD
    assert standard.color_space == "GRAYSCALE"
    assert (standard.mean, standard.std) == ([0.0], [1.0])
    assert standard.input_range == ([0.0], [255.0]) and standard.output_range == ([0.0], [255.0])
    assert standard.labels == meta.labels and standard.labels_file == "labels.txt"
    assert standard.min_parser_version == "1.0.0" and standard.problems == []
    assert read_metadata(both_entries).labels == meta.labels

    pixels = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 1), dtype=np.uint8)
    np.testing.assert_array_equal(_invoke(written, pixels), _invoke(data, pixels))  # the zip tail changes nothing


def test_for_export_says_exactly_what_a_consumer_applies():
    grey = Preprocessing.for_model(32, 1)
    rgb = Preprocessing.for_model((24, 40), 3)
    labels = ["a", "b"]
    uint8 = for_export(CARD, grey, labels, input_dtype="uint8", output_dtype="uint8")
    assert (uint8.color_space, uint8.mean, uint8.std) == ("GRAYSCALE", [0.0], [1.0])
    assert "no normalisation" in uint8.input_description
    floats = for_export(CARD, rgb, labels, input_dtype="float32", output_dtype="float32")
    assert (floats.color_space, floats.mean, floats.std) == ("RGB", [0.0] * 3, [1.0] * 3)
    assert floats.input_range == ([0.0] * 3, [255.0] * 3) and floats.output_range == ([0.0], [1.0])
    int8 = for_export(CARD, rgb, labels, input_dtype="int8", output_dtype="int8")
    assert int8.input_range == ([-128.0] * 3, [127.0] * 3) and int8.output_range is None
    external = dataclasses.replace(rgb, normalization="mean-std", mean=(127.5,), std=(127.5,))
    applied = for_export(CARD, external, labels, input_dtype="float32", output_dtype="float32", output="logits")
    assert applied.mean == [127.5] * 3 and applied.input_range == ([-1.0] * 3, [1.0] * 3)
    assert applied.output_range is None and applied.output_description.startswith("Logits")


def test_preprocessing_from_a_standard_entry():
    entry = StandardMetadata(card=CARD, color_space="RGB", mean=[127.5], std=[127.5])
    floats = entry.preprocessing([1, 24, 40, 3], "float32")
    assert (floats.height, floats.width, floats.channels, floats.color_order) == (24, 40, 3, "RGB")
    assert (floats.normalization, floats.mean, floats.std) == ("mean-std", (127.5,), (127.5,))
    assert entry.preprocessing([1, 24, 40, 3], "uint8").normalization == "in-model"  # raw pixels, as MediaPipe
    unknown = StandardMetadata(card=CARD).preprocessing([1, 8, 8, 1], "float32")
    assert (unknown.color_order, unknown.normalization) == ("GRAY", "in-model")
    with pytest.raises(EdgeCNNError, match="says GRAYSCALE but the input tensor has 3"):
        StandardMetadata(card=CARD, color_space="GRAYSCALE").preprocessing([1, 8, 8, 3], "uint8")
    with pytest.raises(EdgeCNNError, match="mean has 2 values for 3"):
        StandardMetadata(card=CARD, mean=[1.0, 2.0], std=[1.0]).preprocessing([1, 8, 8, 3], "float32")


def test_embed_entries_replaces_in_place_and_removes(shipped):
    data, _ = shipped
    buffers = len(parse_tflite(embed_entries(data, {})).metadata)
    once = embed_entries(data, {"extra": b"one"})
    twice = embed_entries(once, {"extra": b"two"})
    assert parse_tflite(twice).metadata["extra"] == b"two"
    assert len(twice) == len(once)  # the buffer was reused, nothing orphaned
    removed = embed_entries(twice, {"extra": None})
    assert "extra" not in parse_tflite(removed).metadata and len(parse_tflite(removed).metadata) == buffers
    assert packed_file_names(removed) == [] and read_packed_file(removed, "a.txt") is None
    packed = append_files(removed, {"a.txt": b"x", "b.txt": b"y"})
    rebuilt = embed_entries(packed, {"extra": b"three"}, {"b.txt": b"z"})  # packed files survive a rebuild
    assert packed_file_names(rebuilt) == ["a.txt", "b.txt"]
    assert (read_packed_file(rebuilt, "a.txt"), read_packed_file(rebuilt, "b.txt")) == (b"x", b"z")


def test_a_label_file_that_is_not_packed_is_reported(shipped, tmp_path):
    data, meta = shipped
    standard = for_export(CARD, meta.preprocessing, meta.labels, input_dtype="uint8", output_dtype="uint8")
    path = tmp_path / "unpacked.tflite"
    path.write_bytes(embed_entries(data, {STANDARD_NAME: encode(standard)}))  # entry written, zip not appended
    read = read_standard_metadata(path.read_bytes())
    assert read.labels is None and read.labels_file == "labels.txt"
    assert read.problems == ["the label file labels.txt is named but not packed in the model"]
    text = format_report(inspect_model(path))
    assert "labels labels.txt (not packed)" in text and "problem      the label file" in text


def test_an_unreadable_standard_entry_is_one_line(shipped, tmp_path):
    data, _ = shipped
    with pytest.raises(EdgeCNNError, match="not a metadata flatbuffer"):
        decode(b"\x00" * 16)
    path = tmp_path / "bad.tflite"
    path.write_bytes(embed_entries(data, {STANDARD_NAME: b"not flatbuffers at all"}))
    report = inspect_model(path)
    assert report["standard_metadata"] is None and "M001" in report["standard_metadata_error"]
    assert "standard metadata: unreadable" in format_report(report)


def test_our_entry_format_2_does_not_store_in_model_values_as_mean_and_std(shipped):
    data, meta = shipped
    old = read_metadata_document(data)  # the 0.1.0 file: format 1, mean/std beside "in-model"
    assert old["format"] == "edgecnn/1" and old["preprocessing"]["mean"] == [127.5]
    assert meta.preprocessing.normalization == "in-model" and meta.preprocessing.mean == (127.5,)

    doc = meta.to_dict()
    assert doc["format"] == "edgecnn/2"
    pre = doc["preprocessing"]
    assert "mean" not in pre and "std" not in pre
    assert pre["in_model_mean"] == [127.5] and pre["in_model_std"] == [127.5] and pre["normalization"] == "in-model"
    assert ModelMetadata.from_dict(json.loads(meta.to_json_bytes())).preprocessing == meta.preprocessing

    external = dataclasses.replace(meta.preprocessing, normalization="mean-std", mean=(10.0,), std=(2.0,))
    applied = dataclasses.replace(meta, preprocessing=external).to_dict()["preprocessing"]
    assert (applied["mean"], applied["std"]) == ([10.0], [2.0]) and "in_model_mean" not in applied


def test_inspect_shows_both_entries(both_entries):
    report = inspect_model(both_entries)
    assert report["metadata"]["format"] == "edgecnn/2"
    standard = report["standard_metadata"]
    assert standard["name"] == "fmnist_test" and standard["author"] == "Test Author" and standard["license"] == "MIT"
    assert standard["input"]["color_space"] == "GRAYSCALE" and standard["output"]["labels"][0] == "T-shirt/top"
    text = format_report(report)
    assert "normalisation in the model (raw pixels in; inside: mean [127.5], std [127.5])" in text
    assert "standard metadata: TFLITE_METADATA (min parser version 1.0.0)" in text
    assert "  name         fmnist_test, version 7" in text
    assert "  author       Test Author; licence MIT" in text
    assert "  input        image: GRAYSCALE, normalisation mean [0], std [1], range [0]..[255]" in text
    assert "  output       probability: labels labels.txt (TENSOR_AXIS_LABELS, 10 packed)" in text
    assert "standard metadata: none" in format_report(inspect_model(SHIPPED))


def test_the_generated_schema_module_is_the_recorded_version():
    from edgecnn.modelfile import metadata_schema_py_generated as generated
    from edgecnn.modelfile.standard_metadata import SCHEMA_VERSION

    header = Path(generated.__file__).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(f'# TFLite model metadata schema {SCHEMA_VERSION} (file identifier "M001")')
    assert generated.AssociatedFileType.TENSOR_AXIS_LABELS == 2 and generated.ColorSpaceType.GRAYSCALE == 2

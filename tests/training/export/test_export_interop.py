"""Exports carry TFLite's standard metadata beside ours, ``--input-rgb`` folds RGB-to-grey into a grey model, and
other clients read the file: MediaPipe Tasks' ImageClassifier and tflite-support's metadata reader (each in an
environment of its own, ``bash tools/interop/setup_envs.sh``; skipped with the reason where missing).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing, prepare
from edgecnn.device.runtime import Classifier
from edgecnn.modelfile.metadata import read_metadata, read_metadata_document
from edgecnn.modelfile.packed_files import packed_file_names
from edgecnn.modelfile.standard_metadata import read_standard_metadata

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _export(*args) -> dict:
    result = runner.invoke(app, ["export", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rgb_export(tiny_keras, image_folder, tmp_path_factory) -> tuple[Path, dict]:
    """The tiny grey model exported int8 with --input-rgb and every card option."""
    path = tmp_path_factory.mktemp("interop") / "rgb.tflite"
    card = ["--name", "tiny grey", "--description", "Three grey levels.", "--model-version", "2.1"]
    card += ["--author", "Test Author", "--license", "Apache-2.0"]
    result = _export(tiny_keras, "--quantize", "--calib-data", image_folder, "--input-rgb", *card, "-o", path)
    return path, result


@pytest.fixture(scope="module")
def rgb_images(image_folder, helpers, tmp_path_factory) -> tuple[Path, list[int]]:
    """RGB PNGs at the model's input size (so no client resizes), one in three of the folder, and their classes."""
    import cv2

    out = tmp_path_factory.mktemp("rgb_images")
    spec = Preprocessing.for_model(helpers.size, 3)
    classes = []
    for i, path in enumerate(sorted(image_folder.glob("*/*.png"))[::3]):
        rgb = prepare(cv2.imread(str(path)), spec)
        rng = np.random.default_rng(i)  # a little colour, so that a channel mix-up would show
        rgb = np.clip(rgb.astype(np.int16) + rng.integers(-25, 26, (1, 1, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(out / f"{i:03d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        classes.append(helpers.classes.index(path.parent.name))
    return out, classes


def test_every_export_has_standard_metadata_with_defaults(tiny_keras, image_folder, helpers, tmp_path):
    path = tmp_path / "grey.tflite"
    result = _export(tiny_keras, "--quantize", "--calib-data", image_folder, "--verify-samples", "9", "-o", path)
    standard = read_standard_metadata(path.read_bytes())
    assert result["standard_metadata"]["name"] == standard.card.name == "tiny_16_int8"
    assert standard.card.version == "1" and standard.card.author == "" and standard.card.license == ""
    assert standard.card.description.startswith("Image classifier, 3 classes (bright, dark, mid). tiny, 16x16 grey")
    assert (standard.color_space, standard.mean, standard.std) == ("GRAYSCALE", [0.0], [1.0])
    assert standard.labels == list(helpers.classes) and packed_file_names(path.read_bytes()) == ["labels.txt"]
    document = read_metadata_document(path.read_bytes())
    assert document["format"] == "edgecnn/2" and "mean" not in document["preprocessing"]
    assert "input_conversion" not in document


def test_input_rgb_export_takes_rgb_and_matches_the_folded_keras_model(rgb_export, tiny_keras, rgb_images):
    from edgecnn.training.export.input_rgb import RGB_TO_GRAY, fold_rgb_to_gray
    from edgecnn.training.export.source import load_keras_model
    from edgecnn.training.export.verify import keras_probabilities

    path, result = rgb_export
    meta = read_metadata(path)
    assert (meta.preprocessing.channels, meta.preprocessing.color_order) == (3, "RGB")
    assert meta.extra["input_conversion"]["weights"] == list(RGB_TO_GRAY)
    assert result["verification"]["agreement"] >= 0.9  # export verified the file against the folded Keras model
    standard = read_standard_metadata(path.read_bytes())
    assert standard.card.name == "tiny grey" and standard.card.version == "2.1"
    assert (standard.card.author, standard.card.license) == ("Test Author", "Apache-2.0")
    assert (standard.color_space, standard.mean) == ("RGB", [0.0, 0.0, 0.0])

    import cv2

    folder, _ = rgb_images
    pixels = np.stack([cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(folder.glob("*.png"))])
    classifier = Classifier(path)
    assert classifier.prepare(cv2.cvtColor(pixels[0], cv2.COLOR_RGB2BGR)).tolist() == pixels[0].tolist()  # fed RGB
    folded = fold_rgb_to_gray(load_keras_model(tiny_keras))
    tflite_top = classifier.predict_pixels(pixels).argmax(axis=1)
    keras_top = keras_probabilities(folded, pixels).argmax(axis=1)
    assert np.mean(tflite_top == keras_top) >= 0.95
    grey = np.round(pixels.astype(np.float32) @ np.asarray(RGB_TO_GRAY, np.float32))[..., None]
    original = keras_probabilities(load_keras_model(tiny_keras), grey.astype(np.uint8)).argmax(axis=1)
    assert np.mean(keras_top == original) >= 0.95  # the fold is the grey conversion, up to rounding


def test_input_rgb_refuses_a_model_that_already_takes_rgb(tiny_keras, image_folder, tmp_path):
    from edgecnn.training._tf import import_tf
    from edgecnn.training.export.input_rgb import fold_rgb_to_gray

    _, keras = import_tf()
    inputs = keras.Input((8, 8, 3))
    rgb_model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))
    with pytest.raises(EdgeCNNError, match=r"--input-rgb folds RGB-to-grey into a grey model; .* \(8, 8, 3\)"):
        fold_rgb_to_gray(rgb_model)


def test_mediapipe_names_our_labels_and_agrees_with_edgecnn(mediapipe_python, rgb_export, rgb_images, helpers):
    path, _ = rgb_export
    folder, _ = rgb_images
    done = subprocess.run(
        [str(mediapipe_python), str(REPO / "tools" / "interop" / "mediapipe_classify.py"), str(path), str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    names = sorted(folder.glob("*.png"))
    assert [Path(r["path"]).name for r in records] == [p.name for p in names]
    for record in records:
        assert {(c["index"], c["name"]) for c in record["categories"]} == set(enumerate(helpers.classes))

    import cv2

    classifier = Classifier(path)
    ours = [int(np.argmax(classifier.classify(cv2.imread(str(p))))) for p in names]
    theirs = [record["categories"][0]["index"] for record in records]
    assert np.mean(np.equal(ours, theirs)) >= 0.95, (ours, theirs)


def test_tflite_support_reads_our_standard_entry(tflite_support_python, rgb_export):
    path, _ = rgb_export
    script = (
        "import json, sys\n"
        "from tflite_support import metadata\n"
        "d = metadata.MetadataDisplayer.with_model_file(sys.argv[1])\n"
        "print(json.dumps({'metadata': json.loads(d.get_metadata_json()),"
        " 'packed': d.get_packed_associated_file_list(),"
        " 'labels': d.get_associated_file_buffer('labels.txt').decode()}))\n"
    )
    done = subprocess.run(
        [str(tflite_support_python), "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    meta = seen["metadata"]
    assert meta["name"] == "tiny grey" and meta["author"] == "Test Author" and meta["min_parser_version"] == "1.0.0"
    subgraph = meta["subgraph_metadata"][0]
    image, output = subgraph["input_tensor_metadata"][0], subgraph["output_tensor_metadata"][0]
    assert image["content"]["content_properties"]["color_space"] == "RGB"
    assert image["process_units"][0]["options"] == {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    assert output["associated_files"][0] == {
        "name": "labels.txt",
        "description": "Class names, one per line, in output order.",
        "type": "TENSOR_AXIS_LABELS",
    }
    assert seen["packed"] == ["labels.txt"] and seen["labels"].split() == ["bright", "dark", "mid"]

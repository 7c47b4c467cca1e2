"""Files whose only metadata is TFLite's standard entry run with no flags: labels, colour space, normalisation.

The standard entry is written by tflite-support 0.4.4's own writer (another tool, in an environment of its own:
``bash tools/interop/setup_envs.sh``; skipped with the reason where it is missing) and by ours. Precedence:
flags, then the edgecnn entry, then the standard entry.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
from device_helpers import COLOURS, LABELS, REPO, solid
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.preprocessing import PREPROCESSING_VERSION
from edgecnn.device.runtime import Classifier, override_preprocessing
from edgecnn.modelfile.metadata import read_metadata
from edgecnn.modelfile.metadata_writer import embed_entries, embed_metadata
from edgecnn.modelfile.packed_files import packed_file_names
from edgecnn.modelfile.standard_metadata import ModelCard, for_export, read_standard_metadata

SHIPPED = REPO / "models" / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
WRITER = REPO / "tools" / "interop" / "tflite_support_write.py"
runner = CliRunner()


def _frames(n: int = 12) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (40 + i, 36, 3), dtype=np.uint8) for i in range(n)]


def _stripped_shipped(tmp_path: Path) -> Path:
    """The shipped model with its edgecnn entry removed: a plain uint8 grey classifier."""
    path = tmp_path / "plain_grey.tflite"
    path.write_bytes(embed_entries(SHIPPED.read_bytes(), {"edgecnn": None}))
    assert read_metadata(path) is None
    return path


def _tflite_support_write(python: Path, model: Path, out: Path, labels: list[str], *args: str) -> Path:
    labels_file = out.parent / "labels.txt"
    labels_file.write_text("\n".join(labels) + "\n")
    done = subprocess.run(
        [str(python), str(WRITER), str(model), str(out), "--labels", str(labels_file), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_our_standard_entry_alone_runs_like_the_edgecnn_entry(tmp_path):
    shipped = read_metadata(SHIPPED)
    plain = _stripped_shipped(tmp_path)
    standard = for_export(
        ModelCard("m"), shipped.preprocessing, shipped.labels, input_dtype="uint8", output_dtype="uint8"
    )
    only_standard = tmp_path / "standard_only.tflite"
    only_standard.write_bytes(embed_entries(embed_metadata(plain.read_bytes(), shipped, standard), {"edgecnn": None}))
    assert packed_file_names(only_standard.read_bytes()) == ["labels.txt"]  # kept through the rebuild
    assert read_metadata(only_standard) is None and read_standard_metadata(only_standard.read_bytes()) is not None

    # The standard entry has no field for edgecnn's resize algorithm, so a file with only it gets the current one
    # (the shipped file's own entry says version 1, edgecnn 0.1.0's).
    ours = Classifier(SHIPPED, preprocessing=replace(shipped.preprocessing, version=PREPROCESSING_VERSION))
    theirs = Classifier(only_standard)
    assert theirs.labels == shipped.labels
    assert (theirs.preprocessing.channels, theirs.preprocessing.normalization) == (1, "in-model")
    assert theirs.preprocessing.version == PREPROCESSING_VERSION
    for frame in _frames():
        np.testing.assert_array_equal(theirs.classify(frame), ours.classify(frame))


def test_edgecnn_entry_wins_over_the_standard_one_and_flags_win_over_both(tmp_path):
    shipped = read_metadata(SHIPPED)
    other = [f"other{i}" for i in range(10)]
    standard = for_export(ModelCard("m"), shipped.preprocessing, other, input_dtype="uint8", output_dtype="uint8")
    both = tmp_path / "both.tflite"
    both.write_bytes(embed_metadata(SHIPPED.read_bytes(), shipped, standard))
    assert Classifier(both).labels == shipped.labels
    flagged = [f"flag{i}" for i in range(10)]
    assert Classifier(both, labels=flagged).labels == flagged


def test_tflite_support_written_float_model_runs_without_flags(tflite_support_python, models, image_dir, tmp_path):
    # `plain` expects (pixel - 127.5) / 127.5 and has no metadata; the other tool says so in the standard entry.
    path = _tflite_support_write(tflite_support_python, models["plain"], tmp_path / "foreign.tflite", LABELS)
    standard = read_standard_metadata(path.read_bytes())
    assert standard.card.name == "ImageClassifier" and standard.labels == LABELS
    assert (standard.mean, standard.std, standard.color_space) == ([127.5], [127.5], "RGB")

    classifier = Classifier(path)
    assert classifier.metadata is None and classifier.labels == LABELS
    assert (classifier.preprocessing.normalization, classifier.preprocessing.mean) == ("mean-std", (127.5,))
    for colour in COLOURS:
        assert classifier.labels[int(np.argmax(classifier.classify(solid(colour))))] == colour

    result = runner.invoke(app, ["run", str(path), "--source", str(image_dir), "--jsonl", "-", "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [r["top_k"][0]["label"] for r in records] == ["blue", "dark", "green", "red"]

    inspected = runner.invoke(app, ["inspect", str(path)])
    assert "standard metadata: TFLITE_METADATA" in inspected.stdout
    assert "image: RGB, normalisation mean [127.5], std [127.5]" in inspected.stdout
    assert "labels labels.txt (TENSOR_AXIS_LABELS, 4 packed)" in inspected.stdout

    # Flags first: --mean/--std replace the entry's normalisation (and then the colours come out wrong).
    raw = override_preprocessing(path, mean=[0.0], std=[1.0])
    assert (raw.normalization, raw.mean, raw.color_order) == ("mean-std", (0.0,), "RGB")


def test_tflite_support_written_quantised_grey_model_runs_without_flags(tflite_support_python, tmp_path):
    # mean/std 127.5 on a uint8 input whose quantisation is raw pixels: MediaPipe and the Task Library ignore the
    # normalisation of quantised inputs and feed raw pixels; edgecnn does the same.
    shipped = read_metadata(SHIPPED)
    labels = [label.upper() for label in shipped.labels]
    path = _tflite_support_write(
        tflite_support_python, _stripped_shipped(tmp_path), tmp_path / "grey.tflite", labels, "--grayscale"
    )
    # Without our entry the file is prepared with the current resize algorithm (the shipped entry says version 1).
    ours = Classifier(SHIPPED, preprocessing=replace(shipped.preprocessing, version=PREPROCESSING_VERSION))
    theirs = Classifier(path)
    assert theirs.labels == labels and theirs.preprocessing.color_order == "GRAY"
    assert theirs.preprocessing.version == PREPROCESSING_VERSION
    for frame in _frames():
        np.testing.assert_array_equal(theirs.classify(frame), ours.classify(frame))

"""Foreign quantised classifiers (no edgecnn metadata) run with ``--labels`` alone: uint8 input gets the prepared
pixels as they are, int8 input pixel - 128, as TensorFlow's hosted quantised models expect; said once in the log.

The models (committed under fixtures/, made by tools/make_test_fixtures.py with TF's converter the way such files
are made elsewhere) are a float network trained on inputs in [-1, 1], quantised with uint8 or int8 input (so their
input scale is ~1/127.5 and zero point ~128 or ~0). They classify a frame's mean colour: red, green, blue or dark.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from device_helpers import COLOUR_SEQUENCE, LABELS
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.device.runtime import Classifier

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SIZE = 16  # the input size of the foreign fixtures


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> dict:
    """``uint8`` and ``int8``: quantised classifiers without metadata (committed fixtures, made by
    tools/make_test_fixtures.py); ``labels``: their labels file."""
    paths = {input_type: FIXTURES / f"colour_{input_type}_input.tflite" for input_type in ("uint8", "int8")}
    paths["labels"] = tmp_path_factory.mktemp("foreign") / "labels.txt"
    paths["labels"].write_text("\n".join(LABELS) + "\n")
    return paths


@pytest.mark.parametrize("input_type", ["uint8", "int8"])
def test_foreign_quantised_model_runs_with_labels_alone(foreign, colour_video, input_type):
    result = CliRunner().invoke(
        app,
        ["run", str(foreign[input_type]), "--labels", str(foreign["labels"]), "--source", str(colour_video)]
        + ["--jsonl", "-", "--top-k", "4"],
    )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["top_k"][0]["label"] for r in records] == COLOUR_SEQUENCE
    fed = "as they are" if input_type == "uint8" else "- 128"
    notes = [line for line in result.stderr.splitlines() if "has no metadata" in line]
    assert len(notes) == 1 and f"{input_type} input gets the prepared pixels {fed}" in notes[0], result.stderr

    # The convention is the model's own quantisation of [-1, 1] inputs: the same scores as an explicit
    # --mean 127.5 --std 127.5 (which normalises, then quantises with the input tensor's scale and zero point).
    explicit = CliRunner().invoke(
        app,
        ["run", str(foreign[input_type]), "--labels", str(foreign["labels"]), "--source", str(colour_video)]
        + ["--jsonl", "-", "--top-k", "4", "--mean", "127.5", "--std", "127.5"],
    )
    assert explicit.exit_code == 0, explicit.stderr
    assert "has no metadata" not in explicit.stderr
    for ours, theirs in zip(records, map(json.loads, explicit.stdout.splitlines()), strict=True):
        scores = {t["label"]: t["score"] for t in theirs["top_k"]}
        assert all(abs(t["score"] - scores[t["label"]]) <= 0.02 for t in ours["top_k"]), (ours, theirs)


def test_foreign_inputs_are_the_pixels_or_the_pixels_minus_128(foreign):
    pixels = np.arange(SIZE * SIZE * 3, dtype=np.int64).reshape(SIZE, SIZE, 3).astype(np.uint8)
    uint8_model, int8_model = Classifier(foreign["uint8"]), Classifier(foreign["int8"])
    assert uint8_model.input.zero_point != 0 and uint8_model.input.scale != 1.0  # not edgecnn's raw-pixel layout
    assert uint8_model.to_input(pixels) is pixels
    shifted = int8_model.to_input(pixels)
    assert shifted.dtype == np.int8
    np.testing.assert_array_equal(shifted.astype(np.int16), pixels.astype(np.int16) - 128)
    assert uint8_model.preprocessing.color_order == "RGB" and uint8_model.preprocessing.shape == (SIZE, SIZE, 3)

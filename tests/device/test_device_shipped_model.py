"""The model shipped in models/ is what its card says, runs on the device side, and scores its card's accuracy."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from edgecnn.core.labels import read_labels
from edgecnn.modelfile.inspect import inspect_model
from edgecnn.modelfile.metadata import read_metadata

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = MODELS / "fmnist_mobilenet_v2_0.25_32_int8.tflite"
CARD = SHIPPED.with_suffix(".md")
FMNIST = Path("/usr/share/datasets/fashion-mnist")


def _card_value(name: str) -> str:
    match = re.search(rf"^\| {re.escape(name)} \| (.+?) \|$", CARD.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{name!r} row missing from {CARD.name}"
    return match.group(1)


def test_card_describes_the_file():
    data = SHIPPED.read_bytes()
    assert _card_value("sha256") == f"`{hashlib.sha256(data).hexdigest()}`"
    assert _card_value("file size").startswith(f"{len(data):,} bytes")
    meta = read_metadata(SHIPPED)
    assert meta.arch == "mobilenet_v2" and meta.alpha == 0.25
    assert meta.labels == read_labels(SHIPPED.with_suffix(".labels.txt"))
    assert meta.quantization["scheme"] == "int8"
    assert meta.extra["edgecnn_version"] == "0.1.0" and meta.preprocessing.version == 1  # prepared as verified
    report = inspect_model(SHIPPED)
    assert report["fully_integer"] is True and report["custom_operators"] == []
    assert report["inputs"][0]["dtype"] == "uint8" and report["inputs"][0]["shape"] == [1, 32, 32, 1]


@pytest.mark.realdata
@pytest.mark.skipif(not (FMNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="Fashion-MNIST IDX files missing")
def test_shipped_model_scores_its_card_accuracy_on_the_test_set():
    from edgecnn.training.evaluate import evaluate

    top1 = evaluate(SHIPPED, str(FMNIST), "test")["top1"]
    card_top1 = float(re.match(r"([\d.]+)%", _card_value("test top-1 (this .tflite, LiteRT)")).group(1)) / 100
    assert top1 >= 0.90
    assert abs(top1 - card_top1) < 5e-4, (top1, card_top1)

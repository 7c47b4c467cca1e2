"""The models shipped in models/ are what their cards say, run on the device side, and score their cards' accuracy.

Every ``.tflite`` under ``models/`` has a card (``NAME.md`` beside it) giving its sha256 and its test top-1 through
LiteRT; the realdata test re-scores each file on the 10,000 Fashion-MNIST test images against its card.
"""

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


SHIPPED_FILES = sorted(MODELS.rglob("*.tflite"))
TOP1_ROW = "test top-1 (this .tflite, LiteRT)"


def _card_value(name: str, card: Path = CARD) -> str:
    match = re.search(rf"^\| {re.escape(name)} \| (.+?) \|$", card.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{name!r} row missing from {card.name}"
    return match.group(1)


def _card_top1(model: Path) -> float:
    return float(re.match(r"\**([\d.]+)%", _card_value(TOP1_ROW, model.with_suffix(".md"))).group(1)) / 100


def test_every_shipped_model_has_a_card_that_describes_it():
    assert SHIPPED in SHIPPED_FILES and len(SHIPPED_FILES) >= 2
    for model in SHIPPED_FILES:
        card = model.with_suffix(".md")
        assert card.is_file(), f"{model.relative_to(MODELS)} has no card"
        assert _card_value("sha256", card) == f"`{hashlib.sha256(model.read_bytes()).hexdigest()}`", model.name
        meta = read_metadata(model)
        assert meta.labels == read_labels(model.with_name(f"{model.stem}.labels.txt")), model.name
        assert 0.0 < _card_top1(model) <= 1.0
        assert inspect_model(model)["fully_integer"] is True, model.name


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
@pytest.mark.parametrize("model", SHIPPED_FILES, ids=lambda p: str(p.relative_to(MODELS)))
def test_shipped_model_scores_its_card_accuracy_on_the_test_set(model):
    from edgecnn.training.evaluate import evaluate

    result = evaluate(model, str(FMNIST), "test")
    assert result["n"] == 10_000
    assert abs(result["top1"] - _card_top1(model)) < 5e-4, (model.name, result["top1"], _card_top1(model))

"""A tiny real sweep on Fashion-MNIST: the per-tensor int8 scheme, the published reference points, the claims.

Slow (two trainings, four exports; about a minute on an idle 2-core machine): run with ``-m slow``. The default
suite covers the same code without training in test_sweep_references.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.sweep.references import SOURCE

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_tiny_fashion_sweep_with_per_tensor_references_and_claims(tmp_path):
    from edgecnn.modelfile.tflite_file import parse_tflite

    out = tmp_path / "sweep"
    args = ["sweep", "--data", "fashion_mnist", "--arch", "mobilenet_v1,squeezenet_1_1", "--alpha", "0.25"]
    args += ["--size", "32", "--quantize", "int8,int8_per_tensor", "--epochs", "1", "--batch-size", "16"]
    args += ["--max-samples", "80", "--eval-samples", "50", "--calib-samples", "8", "--bench-runs", "3"]
    args += ["--bench-warmup", "1", "--out", str(out), "--no-progress", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {(r["arch"], r["scheme"]): r for r in json.loads(result.stdout)["rows"]}
    assert set(rows) == {(a, s) for a in ("mobilenet_v1", "squeezenet_1_1") for s in ("int8", "int8_per_tensor")}
    for arch in ("mobilenet_v1", "squeezenet_1_1"):
        channel, tensor = rows[(arch, "int8")], rows[(arch, "int8_per_tensor")]
        assert not channel["error"] and not tensor["error"], (channel["error"], tensor["error"])
        assert tensor["model"].endswith("model_int8_per_tensor.tflite")
        assert tensor["params"] == channel["params"] and tensor["keras_top1"] == channel["keras_top1"]
        assert tensor["file_bytes"] < channel["file_bytes"]  # one weight scale per tensor instead of per channel

        def conv_scales(row):
            tensors = parse_tflite((out / row["model"]).read_bytes()).tensors
            return [len(t.scales) for t in tensors if t.dtype == "int8" and len(t.shape) == 4 and t.scales]

        assert set(conv_scales(tensor)) == {1} and max(conv_scales(channel)) > 1
    report = (out / "report.md").read_text()
    assert "## Published reference points" in report and SOURCE in report
    assert "| 2 Conv Layers net <100K parameters | 92.50% | < 100,000 | < 98 |" in report
    claims = report.split("## Claims of the CNN histories, measured here")[1]
    assert "Not measured: this sweep has no alexnet* network." in claims
    assert "mobilenet_v1 (width 0.25, 32 px, 1 epoch(s), at most 80 images a split)" in claims
    assert "**holds**" in claims or "**does not hold**" in claims
    assert (out / "accuracy_vs_size.png").is_file() and (out / "accuracy_vs_latency.png").is_file()

"""Published reference points and the measured CNN-history claims in a sweep's report and plots.

Rows are written by hand here; test_sweep_run.py covers them in a real (tiny) sweep.
"""

from __future__ import annotations

import shlex

import cv2
import numpy as np
import pytest

from edgecnn.sweep.claims import CLAIMS, measure, trained_networks
from edgecnn.sweep.config import SweepConfig, export_arguments
from edgecnn.sweep.outputs import write_outputs
from edgecnn.sweep.pareto import mark_pareto
from edgecnn.sweep.references import FASHION_MNIST, SOURCE, applies_to
from edgecnn.sweep.report import render_report
from edgecnn.sweep.results import empty_row


def _row(arch, params, keras_top1, file_bytes, tflite_top1, alpha=1.0, size=32, scheme="int8"):
    row = empty_row(arch, alpha, size, scheme)
    row.update(
        params=params,
        keras_top1=keras_top1,
        file_bytes=file_bytes,
        tflite_top1=tflite_top1,
        latency_ms=1.0,
        latency_p90_ms=1.2,
        threads=1,
    )
    return row


@pytest.fixture
def rows():
    return [
        _row("squeezenet_1_1", 700_000, 0.880, 760_000, 0.878),
        _row("squeezenet_1_1", 700_000, 0.880, 2_900_000, 0.880, scheme="float32"),
        _row("alexnet", 35_000_000, 0.870, 35_500_000, 0.869),
        _row("mobilenet_v1", 200_000, 0.910, 90_000, 0.926),
    ]


def _meta(data="fashion_mnist", **settings):
    return {"config": SweepConfig(data=data, epochs=30, max_samples=20_000, **settings).to_dict()}


def test_the_five_required_reference_rows_are_stored_with_their_source():
    by_name = {ref.name: ref for ref in FASHION_MNIST}
    assert by_name["2 Conv Layers net <100K parameters"][1:4] == (0.925, 100_000, True)
    assert by_name["ResNet18"].accuracy == 0.949 and by_name["MobileNet"].accuracy == 0.950
    assert by_name["VGG16 26M parameters"][1:3] == (0.935, 26_000_000)
    assert by_name["SqueezeNet with cyclical learning rate 200 epochs"].accuracy == 0.900
    assert "zalandoresearch/fashion-mnist" in SOURCE
    for data in ("fashion_mnist", "/usr/share/datasets/fashion-mnist", "data/FashionMNIST"):
        assert applies_to(data), data
    for data in ("mnist", "cifar10", "/data/photos", None):
        assert not applies_to(data), data


def test_report_lists_the_reference_points_for_fashion_mnist_only(rows):
    mark_pareto(rows)
    text = render_report(rows, _meta())
    assert "## Published reference points" in text and SOURCE in text
    # <100K parameters: 92.5%, the int8 weight floor 100,000 / 1024 = 98 KB; here mobilenet_v1's 87.9 KB reaches it.
    assert (
        "| 2 Conv Layers net <100K parameters | 92.50% | < 100,000 | < 98 | None | "
        "mobilenet_v1 1 32 int8: 92.60%, 87.9 KB |" in text
    )
    assert "| MobileNet | 95.00% |  |  | horizontal flips | none |" in text
    assert "| VGG16 26M parameters | 93.50% | 26,000,000 | 25,391 |" in text
    other = render_report(rows, _meta(data="/data/photos"))
    assert "Published reference points" not in other and "## Claims of the CNN histories" in other


def test_claims_are_measured_with_each_runs_budget(rows):
    networks = trained_networks(rows)
    assert len(networks) == 3  # one per trained network, not per scheme row
    squeeze_alex, inception_vgg, mobile_squeeze = (measure(claim, networks) for claim in CLAIMS)
    (item,) = squeeze_alex["comparisons"]
    assert item["ratio"] == pytest.approx(50.0) and item["difference"] == pytest.approx(0.01) and item["holds"]
    assert not inception_vgg["measured"] and "googlenet" in inception_vgg["missing"]
    (item,) = mobile_squeeze["comparisons"]
    assert item["ratio"] == pytest.approx(3.5) and not item["holds"]  # MobileNet is more accurate but smaller here
    text = render_report(rows, _meta())
    section = text.split("## Claims of the CNN histories, measured here")[1]
    assert (
        "squeezenet_1_1 (width 1, 32 px, 30 epoch(s), at most 20,000 images a split): 88.00%, 0.7M parameters vs "
        "alexnet (width 1, 32 px, 30 epoch(s), at most 20,000 images a split): 87.00%, 35M parameters: "
        "50x fewer parameters (claimed: about 50x), +1.00 points -> **holds**" in section
    )
    assert "Not measured: this sweep has no googlenet* or inception* network." in section
    assert "0.286x the parameters, +3.00 points -> **does not hold**" in section


def test_claims_without_a_common_setting_compare_the_best_of_each_side():
    rows = [
        _row("squeezenet_1_1", 700_000, 0.85, 1, 0.85, size=64),
        _row("squeezenet_1_1", 700_000, 0.88, 1, 0.88, size=96),
        _row("mobilenet_v2", 2_000_000, 0.90, 1, 0.90, alpha=0.5),
    ]
    result = measure(CLAIMS[2], trained_networks(rows))
    assert result["same_setting"] is False
    (item,) = result["comparisons"]
    assert item["second"]["size"] == 96 and item["holds"]  # larger (2M > 0.7M) and 2 points more accurate
    assert "No width and input size in common" in render_report(rows, _meta())


def test_reference_points_are_drawn_on_both_plots_for_fashion_mnist(rows, tmp_path):
    drawn = {}
    for data in ("fashion_mnist", "d"):
        written = write_outputs(tmp_path / data, [dict(r) for r in rows], _meta(data))
        drawn[data] = {name: cv2.imread(str(written[f"plot_{name}"])) for name in ("size", "latency")}
    for name in ("size", "latency"):
        assert drawn["fashion_mnist"][name].shape == drawn["d"][name].shape
        assert not np.array_equal(drawn["fashion_mnist"][name], drawn["d"][name]), name


def test_per_tensor_is_a_sweep_scheme_exported_as_int8():
    assert export_arguments("int8_per_tensor") == ("int8", {"per_tensor": True})
    assert export_arguments("int8") == ("int8", {})
    assert SweepConfig(data="d", schemes=("int8", "int8_per_tensor")).num_rows == 3 * 4 * 2 * 2


def test_the_per_tensor_row_is_exported_with_per_tensor_scales(tmp_path, monkeypatch):
    import edgecnn.device.bench
    import edgecnn.training.evaluate
    import edgecnn.training.export
    from edgecnn.sweep.trial import measure_scheme

    calls = []

    def export(source, path, **kwargs):
        calls.append(kwargs)
        path.write_bytes(b"x" * 10)

    class Bench:
        latency = {"median_ms": 1.0, "p90_ms": 2.0}

    monkeypatch.setattr(edgecnn.training.export, "export", export)
    monkeypatch.setattr(edgecnn.training.evaluate, "evaluate", lambda *a, **k: {"top1": 0.5, "n": 4})
    monkeypatch.setattr(edgecnn.device.bench, "benchmark", lambda *a, **k: [Bench()])
    row = {"keras_top1": 0.6}
    config = SweepConfig(data="d", calib_samples=16)
    for scheme in ("int8", "int8_per_tensor"):
        measure_scheme(tmp_path, scheme, config, row, lambda _text: None)
        assert (tmp_path / f"model_{scheme}.tflite").is_file() and row["file_bytes"] == 10
    assert [(c["quantize"], c.get("per_tensor", False), c["calib_samples"]) for c in calls] == [
        ("int8", False, 16),
        ("int8", True, 16),
    ]


def test_sweep_teacher_options_become_train_options(tmp_path, monkeypatch):
    from edgecnn.cli.sweep_cmd import parse_sweep_config

    monkeypatch.chdir(tmp_path)
    config = parse_sweep_config(["--data", "d", "--teacher", "runs/teacher", "--distill-weight", "0.7"])
    assert config.train_options == {"teacher": str(tmp_path / "runs" / "teacher"), "distill_weight": 0.7}
    command = config.command("out")
    assert f"--teacher {tmp_path / 'runs' / 'teacher'} --distill-weight 0.7" in command
    assert "--train-opt" not in command
    assert parse_sweep_config(shlex.split(command)[2:]).train_options == config.train_options
    plain = parse_sweep_config(["--data", "d", "--train-opt", "crop_pad=2"])
    assert plain.train_options == {"crop_pad": 2}

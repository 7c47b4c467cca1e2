"""The TF-free registry: names, suggestions, argument validation, channel rounding."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.zoo import get_arch_info, input_size, list_models, make_divisible, validate_build_args

MOBILE = [
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "squeezenet_1_0",
    "squeezenet_1_1",
]
CLASSIC = ["alexnet", "cifar10_cnn", "googlenet", "resnet18", "resnet50", "resnext50_32x4d", "vgg16", "vgg19"]
ALL = sorted(MOBILE + CLASSIC)


def test_list_models_all_and_patterns():
    assert list_models() == ALL
    assert list_models("mobilenet_v3*") == ["mobilenet_v3_large", "mobilenet_v3_small"]
    assert list_models("squeeze*") == ["squeezenet_1_0", "squeezenet_1_1"]
    assert list_models("res*") == ["resnet18", "resnet50", "resnext50_32x4d"]
    assert list_models("efficientnet*") == []


@pytest.mark.parametrize("name", ALL)
def test_arch_info_records_in_model_normalization(name):
    info = get_arch_info(name)
    assert info.name == name
    assert info.normalization["mode"] == "in-model"
    assert info.normalization["mean"] == 127.5 and info.normalization["std"] == 127.5
    assert info.min_size >= (10 if name == "cifar10_cnn" else 32)
    d = info.to_dict()
    assert d["name"] == name and d["default_separable"] == name.startswith("mobilenet")
    assert (name in CLASSIC) == (info.separable_options == (False,))


@pytest.mark.parametrize("spelling", ["mobilenetv2", "MobileNet-V2", "mobilenet_V2"])
def test_arch_info_accepts_common_spellings(spelling):
    assert get_arch_info(spelling).name == "mobilenet_v2"


def test_unknown_arch_suggests_closest():
    with pytest.raises(EdgeCNNError, match=r"unknown architecture 'mobilenet_v4'.*did you mean 'mobilenet_v"):
        get_arch_info("mobilenet_v4")
    with pytest.raises(EdgeCNNError, match="did you mean 'squeezenet_1_1'"):
        get_arch_info("squeezenet_1_2")
    with pytest.raises(EdgeCNNError, match="known: mobilenet_v1"):
        get_arch_info("efficientnet_b0")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "alpha must be a number > 0. Received alpha=0"),
        ({"alpha": -1}, "Received alpha=-1"),
        ({"alpha": float("nan")}, "alpha must be"),
        ({"alpha": 0.02}, "alpha must be >= 0.03125 for mobilenet_v1"),
        ({"size": 31}, "size must be at least 32x32 for mobilenet_v1"),
        ({"size": (64, 20)}, "Received size=20x64"),  # a (height, width) pair, shown as WIDTHxHEIGHT
        ({"size": "abc"}, "size expects WIDTHxHEIGHT"),
        ({"channels": 2}, "channels must be 1 .* or 3 .*Received channels=2"),
        ({"classes": 1}, "classes must be an integer >= 2. Received classes=1"),
    ],
)
def test_validate_build_args_errors(kwargs, message):
    with pytest.raises(EdgeCNNError, match=message):
        validate_build_args("mobilenet_v1", **kwargs)


def test_validate_build_args_returns_info_and_size():
    info, size = validate_build_args("mobilenet_v2", 0.35, "96x128", 1, 10)  # WIDTHxHEIGHT, like every --size
    assert info.name == "mobilenet_v2" and size == (128, 96)  # (height, width), the Keras order
    assert validate_build_args("squeezenet_1_1", 0.5, 32, 3, 2)[1] == (32, 32)


def test_input_size_reads_strings_as_width_x_height_and_pairs_as_height_width():
    # Strings are flags (WIDTHxHEIGHT); pairs are the Keras order that 0.1.0 run directories store in config.json.
    assert (input_size(224).width, input_size(224).height) == (224, 224)
    assert input_size("160x120").hw == (120, 160)
    assert input_size((96, 64)).hw == (96, 64) and input_size([96, 64]).width == 64
    assert input_size([100]).hw == (100, 100)
    assert validate_build_args("squeezenet_1_1", 1.0, [48, 64])[1] == (48, 64)  # a 0.1.0 record, unchanged
    with pytest.raises(EdgeCNNError):
        input_size(True)


@pytest.mark.parametrize("value", [3, 8, 12, 16 * 0.35, 24 * 0.75, 32 * 1.4, 1280 * 1.3, 72 * 0.5, 1000.0])
def test_make_divisible_properties(value):
    rounded = make_divisible(value, 8)
    assert rounded % 8 == 0 and rounded >= 8
    assert rounded >= 0.9 * value  # never rounds down by more than 10%
    assert abs(rounded - value) <= 8 or rounded == 8


def test_make_divisible_known_values():
    # Values Keras' _make_divisible / _depth produce for MobileNetV2/V3 widths.
    assert make_divisible(32 * 0.35, 8) == 16
    assert make_divisible(16 * 0.5, 8) == 8
    assert make_divisible(1280 * 1.4, 8) == 1792
    assert make_divisible(91, 8) == 88 and make_divisible(90, 8) == 88 and make_divisible(84, 8) == 88
    assert make_divisible(10, 8, min_value=16) == 16


def test_registry_does_not_import_tensorflow():
    code = (
        "import sys; import edgecnn.training.zoo as z; z.list_models(); z.get_arch_info('mobilenet_v2');"
        "z.validate_build_args('mobilenet_v2', 1.0, 224, 3, 10);"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

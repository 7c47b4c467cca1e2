"""The head-width and depth knobs: counts change exactly as computed by hand; bad values are one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.zoo import ARCH_KNOBS, build_model, list_models, profile_model, scale_depth, validate_knobs

# MobileNetV2 alpha 0.35 at 32x32x1, 10 classes. Block widths make_divisible(int(c * 0.35), 8):
# 16->8, 24->8, 32->16, 64->24, 96->32, 160->56, 320->112; feature maps 16 (stem), 8, 4, 2, 2, 1 per stage.
V2 = {"alpha": 0.35, "size": 32, "channels": 1, "classes": 10}


def _counts(arch: str, **kwargs) -> tuple[int, int]:
    prof = profile_model(build_model(arch, **kwargs))
    return prof.params, prof.macs


@pytest.mark.parametrize(
    ("repeats", "depth", "kept"),
    [(1, 0.1, 1), (2, 0.5, 1), (3, 0.5, 2), (4, 0.5, 2), (4, 0.75, 3), (6, 0.35, 3), (10, 0.7, 7), (5, 1.0, 5)],
)
def test_scale_depth_is_ceil_and_at_least_one(repeats, depth, kept):
    assert scale_depth(repeats, depth) == kept


def test_v2_depth_removes_exactly_the_hand_counted_blocks():
    params, macs = _counts("mobilenet_v2", **V2)
    params_half, macs_half = _counts("mobilenet_v2", depth=0.5, **V2)
    # Repeats (1, 2, 3, 4, 3, 3, 1) -> (1, 1, 2, 2, 2, 2, 1): one stride-1 block each of width 8 (at 8x8), 16
    # (4x4), 32 (2x2), 56 (1x1) and two of width 24 (2x2) go. A stride-1 block c -> c with expansion 6 holds the
    # 1x1 expand 6c*c, the 3x3 depthwise 9*6c and the 1x1 project 6c*c, plus BatchNorm (4 per channel) on
    # 6c + 6c + c channels: 12c^2 + 106c parameters, (12c^2 + 54c) MACs per position.
    removed = [(8, 64), (16, 16), (24, 4), (24, 4), (32, 4), (56, 1)]  # (c, output positions)
    assert params - params_half == sum(12 * c * c + 106 * c for c, _ in removed) == 84_544
    assert macs - macs_half == sum((12 * c * c + 54 * c) * pos for c, pos in removed) == 302_160


def test_v2_head_width_and_scaled_head_change_only_the_head():
    params, macs = _counts("mobilenet_v2", **V2)
    # Conv_1: 112 -> 1280 channels on a 1x1 map, BatchNorm 4 x 1280, Dense 1280 -> 10.
    for head, kwargs in ((256, {"head_width": 256}), (448, {"scale_head": True})):  # make_divisible(1280*0.35)=448
        p, m = _counts("mobilenet_v2", **V2, **kwargs)
        cut = 1280 - head
        assert params - p == 112 * cut + 4 * cut + cut * 10
        assert macs - m == 112 * cut + cut * 10
    model = build_model("mobilenet_v2", head_width=96, **V2)
    assert model.get_layer("Conv_1").filters == 96 and model.name.endswith("_head96")


def test_v3_head_width_and_scale_head():
    kwargs = {"alpha": 0.5, "size": 32, "channels": 3, "classes": 10}
    params, macs = _counts("mobilenet_v3_small", **kwargs)
    # conv_1 has make_divisible(48 * 6) = 288 channels; conv_2 288 -> 1024 (+bias), logits 1024 -> 10 (+bias).
    p, m = _counts("mobilenet_v3_small", head_width=128, **kwargs)
    assert params - p == 288 * (1024 - 128) + (1024 - 128) + (1024 - 128) * 10
    assert macs - m == 288 * (1024 - 128) + (1024 - 128) * 10
    scaled = build_model("mobilenet_v3_large", scale_head=True, **kwargs)
    assert scaled.get_layer("conv_2").filters == 640  # make_divisible(1280 * 0.5, 8)
    assert build_model("mobilenet_v3_large", **kwargs).get_layer("conv_2").filters == 1280


def test_v1_head_width_sets_the_last_pointwise_conv_and_scale_head_is_already_true():
    kwargs = {"alpha": 0.25, "size": 32, "channels": 1, "classes": 10}
    params, macs = _counts("mobilenet_v1", **kwargs)
    # conv_pw_13: 256 -> int(1024 * 0.25) = 256 channels on a 1x1 map (+ BatchNorm), conv_preds 256 -> 10 (+bias).
    p, m = _counts("mobilenet_v1", head_width=64, **kwargs)
    assert params - p == 256 * 192 + 4 * 192 + 192 * 10
    assert macs - m == 256 * 192 + 192 * 10
    assert _counts("mobilenet_v1", scale_head=True, **kwargs) == (params, macs)


def test_v1_depth_keeps_the_first_blocks_of_each_width():
    model = build_model("mobilenet_v1", alpha=0.25, size=32, channels=1, classes=10, depth=0.5)
    # Stages 64 | 128 x2 | 256 x2 | 512 x6 | 1024 x2 -> 1 + 1 + 1 + 3 + 1 blocks; every stride-2 block kept.
    pointwise = [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D" and "_pw_" in layer.name]
    assert pointwise == [16, 32, 64, 128, 128, 128, 256]
    assert model.get_layer("conv_pw_7").output.shape[1] == 1  # still five stride-2 steps: 32 -> 1


@pytest.mark.parametrize(
    ("arch", "blocks"),
    [
        ("mobilenet_v3_small", 1 + 1 + 2 + 1 + 2),  # 16 | 24 x2 | 40 x3 | 48 x2 | 96 x3
        ("mobilenet_v3_large", 1 + 1 + 2 + 2 + 1 + 2),  # 16 | 24 x2 | 40 x3 | 80 x4 | 112 x2 | 160 x3
    ],
)
def test_v3_depth_counts_blocks(arch, blocks):
    model = build_model(arch, alpha=0.5, size=32, classes=10, depth=0.5)
    projects = [layer for layer in model.layers if layer.name.endswith("_project")]
    assert len(projects) == blocks


def test_squeezenet_depth_keeps_fire_modules_between_pools():
    model = build_model("squeezenet_1_1", alpha=0.5, size=64, classes=10, depth=0.5)  # 2 | 2 | 4 -> 1 | 1 | 2
    fires = [layer.name for layer in model.layers if layer.name.endswith("_concat")]
    assert fires == ["fire2_concat", "fire3_concat", "fire4_concat", "fire5_concat"]


@pytest.mark.parametrize("arch", list_models())
def test_defaults_are_the_paper_models(arch, small):
    kwargs = {"alpha": small(arch, 0.5)["alpha"], "size": 64, "classes": 10}
    paper = build_model(arch, **kwargs)
    explicit = build_model(arch, **{**ARCH_KNOBS, **kwargs})
    assert explicit.name == paper.name
    assert [(layer.name, layer.count_params()) for layer in explicit.layers] == [
        (layer.name, layer.count_params()) for layer in paper.layers
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": 0}, "depth must be a number in (0, 1]. Received depth=0"),
        ({"depth": 1.5}, "depth must be a number in (0, 1]. Received depth=1.5"),
        ({"depth": float("nan")}, "depth must be a number in (0, 1]. Received depth=nan"),
        ({"depth": "half"}, "depth must be a number in (0, 1]. Received depth='half'"),
        ({"head_width": 0}, "head width must be an integer >= 1. Received head_width=0"),
        ({"head_width": 12.5}, "head width must be an integer >= 1. Received head_width=12.5"),
        ({"head_width": True}, "head width must be an integer >= 1. Received head_width=True"),
        ({"scale_head": "yes"}, "scale_head must be True or False. Received scale_head='yes'"),
        ({"head_width": 64, "scale_head": True}, "use either head_width (an explicit width) or scale_head"),
    ],
)
def test_bad_knobs_are_one_line_errors(kwargs, message):
    with pytest.raises(EdgeCNNError) as err:
        build_model("mobilenet_v2", alpha=0.35, size=32, **kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_head_knobs_need_a_head_layer():
    with pytest.raises(EdgeCNNError, match="squeezenet_1_1 has no head layer to resize"):
        validate_knobs("squeezenet_1_1", head_width=64)
    with pytest.raises(EdgeCNNError, match="squeezenet_1_0 has no head layer"):
        validate_knobs("squeezenet_1_0", scale_head=True)


def test_info_cli_reports_the_knobs():
    runner = CliRunner()
    args = ["info", "mobilenet_v2", "--alpha", "0.35", "--size", "32", "--channels", "1", "--classes", "10"]
    base = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    result = runner.invoke(app, [*args, "--head-width", "256", "--depth", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["head_width"] == 256 and info["depth"] == 0.5 and info["scale_head"] is False
    assert base["head_width"] is None and base["depth"] == 1.0 and base["stem_stride"] == 2
    # Both knobs together: the sum of the two hand-counted changes above (they touch disjoint layers).
    assert base["params"] - info["params"] == 84_544 + 129_024
    assert info["est_int8_bytes"] < base["est_int8_bytes"] and info["est_float32_bytes"] < base["est_float32_bytes"]
    text = runner.invoke(app, [*args, "--scale-head", "--depth", "0.5"]).stdout
    assert "scaled head  depth=0.5" in text.splitlines()[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--depth", "0"], "error: depth must be a number in (0, 1]. Received depth=0.0"),
        (["--head-width", "0"], "error: head width must be an integer >= 1. Received head_width=0"),
    ],
)
def test_info_cli_bad_knobs_fail_in_one_line(extra, message):
    result = CliRunner().invoke(app, ["info", "mobilenet_v2", *extra])
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_cifar10_cnn_head_and_depth_by_hand():
    kwargs = {"size": 32, "channels": 3, "classes": 10}
    params, macs = _counts("cifar10_cnn", **kwargs)
    assert params == 1_250_858  # the Keras example's model.summary()
    # fc1 takes the 6x6x64 map (2304 values): 512 -> 128 units removes 2304*384 weights, 384 biases and 384*10
    # weights of the classifier.
    p, m = _counts("cifar10_cnn", head_width=128, **kwargs)
    assert params - p == 2304 * 384 + 384 + 384 * 10
    assert macs - m == 2304 * 384 + 384 * 10
    # depth 0.5 keeps the first ("same") conv of each stage: 32x32x32 -> pool 16 -> 16x16x64 -> pool 8 -> 4096.
    p, m = _counts("cifar10_cnn", depth=0.5, **kwargs)
    assert p == (27 * 32 + 32) + (9 * 32 * 64 + 64) + (4096 * 512 + 512) + (512 * 10 + 10)
    assert m == 27 * 32 * 32 * 32 + 9 * 32 * 64 * 16 * 16 + 4096 * 512 + 512 * 10


def test_classic_knobs():
    vgg = build_model("vgg16", alpha=0.25, size=32, classes=10, head_width=256, depth=0.5)
    assert vgg.get_layer("fc1").units == 256 and vgg.get_layer("fc2").units == 256
    assert [layer.name for layer in vgg.layers if layer.name.startswith("block3_conv")] == [
        "block3_conv1",
        "block3_conv1_relu",
        "block3_conv2",
        "block3_conv2_relu",
    ]  # 3 convs -> ceil(1.5) = 2
    default = build_model("vgg16", alpha=0.25, size=32, classes=10)
    assert default.get_layer("fc1").units == 1024  # the FC head scales with alpha: make_divisible(4096 * 0.25)
    scaled = build_model("vgg16", alpha=0.25, size=32, classes=10, scale_head=True)
    assert scaled.count_params() == default.count_params()
    resnet = build_model("resnet50", alpha=0.25, size=32, classes=10, depth=0.5)  # 3, 4, 6, 3 -> 2, 2, 3, 2
    assert len([layer for layer in resnet.layers if layer.name.endswith("_add")]) == 9
    for arch in ("googlenet", "resnet18", "resnext50_32x4d"):
        with pytest.raises(EdgeCNNError, match=f"{arch} has no head layer"):
            validate_knobs(arch, head_width=64)
    with pytest.raises(EdgeCNNError, match="cifar10_cnn has no stem to adapt"):
        validate_knobs("cifar10_cnn", stem_stride=1)

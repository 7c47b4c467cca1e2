"""profile_model: MAC and parameter counts against the published tables, per-layer rows, size estimates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edgecnn.training.zoo import build_model, profile_model
from edgecnn.training.zoo.published import PUBLISHED, our_params

#: Published rows whose model holds over 50M parameters (AlexNet, VGG: 250-600 MB and seconds to build each): slow.
BIG = 50


def _tolerance(published: float) -> float:
    """3%, or half a unit of the last published digit when that is coarser (e.g. "0.5M" means 0.45..0.55M)."""
    exponent = Decimal(str(published)).as_tuple().exponent
    return max(0.03, 0.5 * 10.0**exponent / published)


def _row_id(p) -> str:
    return f"{p.arch}-{p.alpha:g}-{p.size}-{'sep' if p.separable else 'conv'}"


@pytest.mark.parametrize(
    "pub", [pytest.param(p, marks=pytest.mark.slow) if p.params_m > BIG else p for p in PUBLISHED], ids=_row_id
)
def test_matches_published_tables(pub):
    model = build_model(pub.arch, alpha=pub.alpha, size=pub.size, classes=pub.classes, separable=pub.separable)
    prof = profile_model(model)
    if pub.macs_m is not None:
        assert prof.macs / 1e6 == pytest.approx(pub.macs_m, rel=_tolerance(pub.macs_m))
    if pub.params_check:
        assert our_params(pub, prof) / 1e6 == pytest.approx(pub.params_m, rel=_tolerance(pub.params_m))


def test_exact_counts_hand_checked():
    # MobileNet V1 1.0-224 (Keras count) and SqueezeNet (torchvision num_params): exact.
    assert profile_model(build_model("mobilenet_v1")).params == 4_253_864
    assert profile_model(build_model("squeezenet_1_0")).params == 1_248_424
    assert profile_model(build_model("squeezenet_1_1")).params == 1_235_496


@pytest.mark.parametrize(
    ("arch", "num_params", "macs"),
    [
        ("googlenet", 6_624_904, 1_498_376_192),
        ("resnet18", 11_689_512, 1_814_073_344),
        ("resnet50", 25_557_032, 4_089_184_256),
        ("resnext50_32x4d", 25_028_904, 4_230_479_872),
        pytest.param("alexnet", 61_100_840, 714_188_480, marks=pytest.mark.slow),
        pytest.param("vgg16", 138_357_544, 15_470_264_320, marks=pytest.mark.slow),
        pytest.param("vgg19", 143_667_240, 19_632_062_464, marks=pytest.mark.slow),
    ],
)
def test_classics_equal_torchvision_exactly(arch, num_params, macs):
    # num_params: torchvision's sum(p.numel() for p in model.parameters()) from its weights meta, i.e. BatchNorm's
    # scale and shift but not its running statistics, which is Keras' trainable count. The MACs are ours; torchvision
    # publishes them rounded (_ops: 1.498, 1.814, 4.089, 4.23, 0.714, 15.47, 19.632 G).
    prof = profile_model(build_model(arch))
    assert prof.trainable_params == num_params
    assert prof.macs == macs


def test_googlenet_paper_kernel_costs_what_the_docs_say(monkeypatch):
    from edgecnn.training.zoo import googlenet

    ours = profile_model(build_model("googlenet"))
    monkeypatch.setattr(googlenet, "BRANCH3_KERNEL", 5)
    paper = profile_model(build_model("googlenet"))
    # 16 more weights per (reduce, output) channel pair of the third branch of the nine modules.
    pairs = 16 * 32 + 32 * 96 + 16 * 48 + 24 * 64 + 24 * 64 + 32 * 64 + 32 * 128 + 32 * 128 + 48 * 128
    assert paper.trainable_params - ours.trainable_params == 16 * pairs == 380_928
    positions = {"3": 28 * 28, "4": 14 * 14, "5": 7 * 7}
    per_stage = {"3": 16 * 32 + 32 * 96, "4": 16 * 48 + 24 * 64 * 2 + 32 * 64 + 32 * 128, "5": 32 * 128 + 48 * 128}
    assert paper.macs - ours.macs == 16 * sum(positions[k] * per_stage[k] for k in positions)


def test_layer_rows_add_up_and_count_by_kind():
    model = build_model("mobilenet_v3_small", alpha=0.5, size=64, classes=10)
    prof = profile_model(model)
    assert sum(r.params for r in prof.layers) == prof.params == model.count_params()
    assert sum(r.macs for r in prof.layers) == prof.macs
    rows = {r.name: r for r in prof.layers}
    stem = rows["conv"]  # 3x3 stride 2, 3 -> 16 channels, 32x32 output
    assert stem.output_shape == (32, 32, 16) and stem.macs == 3 * 3 * 3 * 16 * 32 * 32
    dw = rows["expanded_conv_depthwise"]  # 3x3 depthwise, stride 2, 16 channels, 16x16 output
    assert dw.macs == 3 * 3 * 16 * 16 * 16
    se = rows["expanded_conv_squeeze_excite_conv"]  # 16 -> 8 on a 1x1 map
    assert se.macs == 16 * 8
    for free in ("conv_bn", "expanded_conv_squeeze_excite_mul", "rescaling", "predictions"):
        assert rows[free].macs == 0
    assert rows["logits"].macs == 1024 * 10  # conv_2 keeps 1024 channels for alpha <= 1


def test_inference_params_fold_batchnorm_and_sizes_are_estimates():
    prof = profile_model(build_model("mobilenet_v2", alpha=0.35, size=32, classes=10))
    bn = [r for r in prof.layers if r.type == "BatchNormalization"]
    channels = sum(r.params // 4 for r in bn)
    assert prof.inference_params == prof.params - 3 * channels
    assert prof.inference_params * 4 < prof.est_float32_bytes < prof.inference_params * 4 * 1.2
    assert prof.inference_params < prof.est_int8_bytes < prof.est_float32_bytes / 2
    d = prof.to_dict()
    assert "layers" not in d and d["input_shape"] == [32, 32, 3] and d["output_shape"] == [10]
    assert len(prof.to_dict(include_layers=True)["layers"]) == len(prof.layers)


def test_separable_switch_changes_cost_as_expected():
    sep = profile_model(build_model("squeezenet_1_1", size=96, classes=10, separable=True))
    full = profile_model(build_model("squeezenet_1_1", size=96, classes=10, separable=False))
    assert sep.params < full.params and sep.macs < full.macs
    v2_full = profile_model(build_model("mobilenet_v2", alpha=0.35, size=96, classes=10, separable=False))
    v2_sep = profile_model(build_model("mobilenet_v2", alpha=0.35, size=96, classes=10))
    assert v2_full.macs > 3 * v2_sep.macs

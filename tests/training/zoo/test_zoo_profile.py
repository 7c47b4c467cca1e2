"""profile_model: MAC and parameter counts against the published tables, per-layer rows, size estimates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edgecnn.training.zoo import build_model, profile_model
from edgecnn.training.zoo.published import PUBLISHED


def _tolerance(published: float) -> float:
    """3%, or half a unit of the last published digit when that is coarser (e.g. "0.5M" means 0.45..0.55M)."""
    exponent = Decimal(str(published)).as_tuple().exponent
    return max(0.03, 0.5 * 10.0**exponent / published)


def _row_id(p) -> str:
    return f"{p.arch}-{p.alpha:g}-{p.size}-{'sep' if p.separable else 'conv'}"


@pytest.mark.parametrize("pub", PUBLISHED, ids=_row_id)
def test_matches_published_tables(pub):
    prof = profile_model(build_model(pub.arch, alpha=pub.alpha, size=pub.size, classes=1000, separable=pub.separable))
    if pub.macs_m is not None:
        assert prof.macs / 1e6 == pytest.approx(pub.macs_m, rel=_tolerance(pub.macs_m))
    if pub.params_check:
        assert prof.inference_params / 1e6 == pytest.approx(pub.params_m, rel=_tolerance(pub.params_m))


def test_exact_counts_hand_checked():
    # MobileNet V1 1.0-224 (Keras count) and SqueezeNet (torchvision num_params): exact.
    assert profile_model(build_model("mobilenet_v1")).params == 4_253_864
    assert profile_model(build_model("squeezenet_1_0")).params == 1_248_424
    assert profile_model(build_model("squeezenet_1_1")).params == 1_235_496


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

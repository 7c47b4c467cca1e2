"""Every registered architecture builds at several settings, runs, and honours the model contract."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.zoo import build_model, get_arch_info, list_models

# (alpha, size, channels, separable or None for the default): small sizes keep the default run quick.
SETTINGS = [
    (1.0, 32, 3, None),
    (0.35, 48, 1, None),
    (0.5, (40, 56), 3, False),
    (1.3, 33, 1, True),
]


@pytest.mark.parametrize("arch", list_models())
@pytest.mark.parametrize(("alpha", "size", "channels", "separable"), SETTINGS)
def test_builds_and_predicts(arch, alpha, size, channels, separable, small):
    classes = 7
    info = get_arch_info(arch)
    kwargs = {"size": size, "channels": channels, "classes": classes, **small(arch, alpha)}
    if separable is not None and separable not in info.separable_options:
        with pytest.raises(EdgeCNNError, match=f"{arch} has no depthwise-separable variant"):
            build_model(arch, separable=separable, **kwargs)
        return
    model = build_model(arch, separable=separable, **kwargs)
    height, width = (size, size) if isinstance(size, int) else size
    assert tuple(model.inputs[0].shape) == (None, height, width, channels)
    assert model.inputs[0].dtype == "float32"
    assert model.layers[1].name == "rescaling"
    assert model.layers[-1].name == "predictions"
    x = np.random.default_rng(0).uniform(0, 255, (2, height, width, channels)).astype("float32")
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (2, classes) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()
    has_depthwise = any(type(layer).__name__ == "DepthwiseConv2D" for layer in model.layers)
    expected = get_arch_info(arch).default_separable if separable is None else separable
    assert has_depthwise == expected


@pytest.mark.parametrize("arch", list_models())
def test_min_size_builds_and_smaller_fails(arch, small):
    info = get_arch_info(arch)
    model = build_model(arch, size=info.min_size, classes=3, alpha=small(arch, 0.35)["alpha"])
    assert model.output_shape == (None, 3)
    with pytest.raises(EdgeCNNError, match="size must be at least"):
        build_model(arch, size=info.min_size - 1)


def test_alexnet_needs_63_pixels_with_its_stem_and_32_without():
    assert build_model("alexnet", alpha=0.25, size=63, classes=3).get_layer("block3_pool").output.shape[1] == 1
    assert build_model("alexnet", alpha=0.25, size=32, classes=3, stem_stride=1).output_shape == (None, 3)
    with pytest.raises(
        EdgeCNNError, match=r"size must be at least 63x63 for alexnet \(total stride 32; 32 with stem stride 1\)"
    ):
        build_model("alexnet", size=32)
    with pytest.raises(EdgeCNNError, match="size must be at least 32x32 for alexnet .*stem stride 1"):
        build_model("alexnet", size=31, stem_stride=1)


def test_rescaling_maps_pixels_to_minus_one_one():
    model = build_model("mobilenet_v2", alpha=0.35, size=32, classes=2)
    rescaling = model.get_layer("rescaling")
    out = np.asarray(rescaling(np.array([[0.0, 127.5, 255.0]], dtype="float32")))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]], atol=1e-6)


def test_without_preprocessing_has_no_rescaling():
    model = build_model("mobilenet_v3_small", size=32, classes=2, include_preprocessing=False)
    assert "rescaling" not in [layer.name for layer in model.layers]
    assert not any(type(layer).__name__ == "Rescaling" for layer in model.layers)


def test_dropout_default_and_override():
    names = {layer.name: layer for layer in build_model("squeezenet_1_1", size=32, classes=2).layers}
    assert names["drop9"].rate == 0.5
    model = build_model("mobilenet_v2", size=32, classes=2, dropout=0.0)
    assert not any(type(layer).__name__ == "Dropout" for layer in model.layers)
    assert build_model("mobilenet_v1", size=32, classes=2, dropout=0.3).get_layer("dropout").rate == 0.3
    with pytest.raises(EdgeCNNError, match="dropout must be in"):
        build_model("mobilenet_v1", size=32, classes=2, dropout=1.0)


def test_batchnorm_momentum_suits_training_from_scratch():
    model = build_model("mobilenet_v2", alpha=0.35, size=32, classes=2)
    momenta = {layer.momentum for layer in model.layers if type(layer).__name__ == "BatchNormalization"}
    assert momenta == {0.99}


@pytest.mark.parametrize(
    ("arch", "names"),
    [
        ("mobilenet_v1", ["conv1", "conv1_bn", "conv_dw_3", "conv_pw_3_bn", "conv_pad_12", "conv_preds"]),
        (
            "mobilenet_v2",
            [
                "Conv1",
                "bn_Conv1",
                "expanded_conv_depthwise",
                "block_5_expand",
                "block_5_add",
                "block_16_project_BN",
                "Conv_1",
                "out_relu",
            ],
        ),
        (
            "mobilenet_v3_small",
            [
                "conv",
                "conv_bn",
                "expanded_conv_squeeze_excite_conv",
                "expanded_conv_3_depthwise",
                "expanded_conv_3_depthwise_pad",
                "conv_1",
                "conv_2",
                "logits",
            ],
        ),
        (
            "mobilenet_v3_large",
            ["expanded_conv_2_add", "expanded_conv_14_project_bn", "expanded_conv_12_depthwise_pad"],
        ),
        (
            "squeezenet_1_0",
            ["conv1", "pool1", "fire2_squeeze1x1", "fire4_expand3x3", "pool8", "fire9_concat", "conv10"],
        ),
        ("squeezenet_1_1", ["pool3", "pool5", "fire9_expand1x1"]),
        ("alexnet", ["block1_conv1_pad", "block1_conv1", "block3_conv3", "block3_pool", "fc1_dropout", "fc2"]),
        ("vgg16", ["block1_conv2", "block5_conv3", "block5_pool", "flatten", "fc1", "fc2_dropout", "logits"]),
        ("vgg19", ["block3_conv4", "block5_conv4"]),
        ("googlenet", ["conv1_conv", "conv1_bn", "pool2", "inception3a_5x5_reduce_conv", "inception5b_pool_proj_bn"]),
        ("resnet18", ["conv1_conv", "pool1_pool", "conv2_block2_2_bn", "conv3_block1_0_conv", "conv5_block2_out"]),
        ("resnet50", ["conv2_block1_0_conv", "conv4_block6_3_bn", "conv5_block3_add", "avg_pool"]),
        ("resnext50_32x4d", ["conv3_block4_2_conv", "logits"]),
        ("cifar10_cnn", ["block1_conv2", "block1_dropout", "block2_pool", "fc1", "fc1_dropout", "logits"]),
    ],
)
def test_layer_names_are_stable(arch, names, small):
    layer_names = {layer.name for layer in build_model(arch, size=64, classes=2, alpha=small(arch)["alpha"]).layers}
    assert set(names) <= layer_names


def test_conv_variants_name_full_convs():
    v1 = {layer.name for layer in build_model("mobilenet_v1", size=32, classes=2, separable=False).layers}
    assert {"conv_1", "conv_13_bn"} <= v1 and "conv_dw_1" not in v1
    v2 = {layer.name for layer in build_model("mobilenet_v2", size=32, classes=2, separable=False).layers}
    assert {"block_3_conv", "block_3_conv_BN", "block_3_project"} <= v2 and "block_3_depthwise" not in v2
    sq = {layer.name for layer in build_model("squeezenet_1_1", size=32, classes=2, separable=True).layers}
    assert {"fire2_expand3x3_dw", "fire2_expand3x3"} <= sq


def test_non_square_and_odd_sizes_keep_keras_padding():
    model = build_model("mobilenet_v2", alpha=0.35, size=(97, 64), classes=2)
    assert tuple(model.get_layer("out_relu").output.shape[1:3]) == (4, 2)
    model = build_model("squeezenet_1_0", size=224, classes=2)
    # Caffe ceil-mode pooling gives the paper's 54 -> 27 -> 13 maps at 224.
    assert model.get_layer("pool1").output.shape[1] == 54
    assert model.get_layer("pool8").output.shape[1] == 13


@pytest.mark.parametrize("arch", list_models())
def test_keras_file_round_trip(arch, tmp_path, small):
    import keras

    model = build_model(arch, size=32, channels=1, classes=4, **small(arch, 0.35))
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), rtol=1e-6, atol=1e-7)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("arch", list_models())
def test_stem_stride_one_doubles_every_feature_map(arch, small):
    from edgecnn.training.zoo import profile_model

    kwargs = {"alpha": small(arch, 0.5)["alpha"], "size": 64, "channels": 1, "classes": 10}
    if 1 not in get_arch_info(arch).stem_strides:
        with pytest.raises(EdgeCNNError, match=f"{arch} has no stem to adapt"):
            build_model(arch, stem_stride=1, **kwargs)
        return
    paper = build_model(arch, **kwargs)
    small_input = build_model(arch, stem_stride=1, **kwargs)
    # The last feature map (the input of global pooling or of the flattening head) is twice as large on each side.
    last = [layer for layer in paper.layers if type(layer).__name__ in ("GlobalAveragePooling2D", "Flatten")][0]
    last_small = small_input.get_layer(last.name)
    side, side_small = last.input.shape[1], last_small.input.shape[1]
    assert side_small >= 2 * side - 1
    ratio = profile_model(small_input).macs / profile_model(paper).macs
    if type(last).__name__ == "Flatten":
        # AlexNet's stem stride goes from 4 to 1; VGG loses its first pool: far more MACs, and the first FC layer
        # sees a larger map.
        assert ratio > 3.0 and small_input.count_params() > paper.count_params()
    else:
        assert small_input.count_params() == paper.count_params()
        assert 3.0 < ratio < 5.0  # about 4x; SqueezeNet's valid-padded pools round small maps down
    assert small_input.name.endswith("_stem1") and not paper.name.endswith("_stem1")


def test_what_the_stem_knob_changes_per_family():
    kwargs = {"alpha": 0.25, "size": 64, "classes": 10, "stem_stride": 1}
    assert build_model("alexnet", **kwargs).get_layer("block1_conv1").strides == (1, 1)  # 4 in the paper
    vgg = {layer.name for layer in build_model("vgg16", **kwargs).layers}
    assert "block1_pool" not in vgg and "block2_pool" in vgg
    for arch, stem in (("resnet18", "conv1_conv"), ("googlenet", "conv1_conv")):
        model = build_model(arch, **kwargs)
        assert model.get_layer(stem).strides == (1, 1)
        assert model.get_layer(stem).output.shape[1] == 64


@pytest.mark.parametrize("bad", [0, 3, True, 1.5])
def test_stem_stride_must_be_one_or_two(bad):
    with pytest.raises(EdgeCNNError, match="stem stride must be 1 or 2"):
        build_model("mobilenet_v2", alpha=0.35, size=32, stem_stride=bad)

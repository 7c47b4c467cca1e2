"""load_pretrained: local weight files of every layout, the classifier-head rule, and clear errors offline."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.zoo import build_model, load_pretrained


@pytest.fixture(scope="module")
def v2_source(tmp_path_factory, keras_twin, randomize_weights):
    """A randomised Keras MobileNetV2 (alpha 0.35, 48x48, 5 classes) saved in several formats."""
    from keras.src.legacy.saving import legacy_h5_format

    folder = tmp_path_factory.mktemp("weights")
    model = keras_twin("mobilenet_v2", alpha=0.35, size=48, classes=5)
    randomize_weights(model, seed=3)
    model.save_weights(folder / "v2.weights.h5")
    model.save(folder / "v2.keras")
    notop = keras_twin("mobilenet_v2", alpha=0.35, size=48, include_top=False)
    randomize_weights(notop, seed=4)
    with h5py.File(folder / "v2_notop.h5", "w") as f:  # the layout of Keras' published *_no_top.h5 files
        legacy_h5_format.save_weights_to_hdf5_group(f, notop)
    return folder, model, notop


@pytest.mark.parametrize("name", ["v2.weights.h5", "v2.keras"])
def test_full_transfer_reproduces_keras_outputs(v2_source, name, pixels):
    folder, source, _ = v2_source
    ours = build_model("mobilenet_v2", alpha=0.35, size=48, classes=5)
    report = load_pretrained(ours, "mobilenet_v2", 0.35, str(folder / name))
    assert report.skipped == [] and "predictions" in report.copied and report.source.endswith(name)
    x = pixels(2, 48)
    np.testing.assert_allclose(ours(x, training=False), source(x / 127.5 - 1, training=False), rtol=1e-4, atol=1e-5)


def test_other_class_count_keeps_fresh_head(v2_source):
    folder, source, _ = v2_source
    ours = build_model("mobilenet_v2", alpha=0.35, size=48, classes=3)
    head_before = ours.get_layer("predictions").get_weights()[0].copy()
    report = load_pretrained(ours, "mobilenet_v2", 0.35, str(folder / "v2.weights.h5"))
    assert report.skipped == ["predictions"]
    np.testing.assert_array_equal(ours.get_layer("predictions").get_weights()[0], head_before)
    np.testing.assert_array_equal(
        ours.get_layer("Conv_1").get_weights()[0], source.get_layer("Conv_1").get_weights()[0]
    )


def test_legacy_no_top_h5_and_other_size(v2_source):
    folder, _, notop = v2_source
    ours = build_model("mobilenet_v2", alpha=0.35, size=(64, 40), channels=3, classes=4)
    report = load_pretrained(ours, "mobilenet_v2", 0.35, str(folder / "v2_notop.h5"))
    assert report.skipped == ["predictions"]
    for name in ("Conv1", "block_7_depthwise_BN", "Conv_1_bn"):
        for got, want in zip(ours.get_layer(name).get_weights(), notop.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(got, want)


def test_v3_without_top_leaves_conv_2_and_logits(tmp_path, keras_twin):
    notop = keras_twin("mobilenet_v3_small", alpha=0.75, size=32, include_top=False)
    notop.save_weights(tmp_path / "small_notop.weights.h5")
    ours = build_model("mobilenet_v3_small", alpha=0.75, size=32, classes=4)
    report = load_pretrained(ours, "mobilenet_v3_small", 0.75, str(tmp_path / "small_notop.weights.h5"))
    assert sorted(report.skipped) == ["conv_2", "logits"]


def test_squeezenet_round_trips_its_own_weights(tmp_path, pixels, randomize_weights):
    source = build_model("squeezenet_1_1", alpha=0.5, size=40, classes=3)
    randomize_weights(source)
    source.save_weights(tmp_path / "sq.weights.h5")
    ours = build_model("squeezenet_1_1", alpha=0.5, size=40, classes=3)
    load_pretrained(ours, "squeezenet_1_1", 0.5, str(tmp_path / "sq.weights.h5"))
    x = pixels(2, 40)
    np.testing.assert_allclose(ours(x, training=False), source(x, training=False), rtol=1e-5, atol=1e-6)


def test_wrong_alpha_file_is_a_clear_error(v2_source):
    folder, _, _ = v2_source
    ours = build_model("mobilenet_v2", alpha=0.5, size=48, classes=5)
    with pytest.raises(EdgeCNNError, match=r"v2\.weights\.h5: pretrained weights do not fit layer 'block_1_project'"):
        load_pretrained(ours, "mobilenet_v2", 0.5, str(folder / "v2.weights.h5"))


def test_missing_and_unsupported_files(tmp_path):
    ours = build_model("mobilenet_v2", alpha=0.35, size=32, classes=2)
    with pytest.raises(EdgeCNNError, match="weights file not found"):
        load_pretrained(ours, "mobilenet_v2", 0.35, str(tmp_path / "nope.h5"))
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(EdgeCNNError, match="must be 'imagenet' or a"):
        load_pretrained(ours, "mobilenet_v2", 0.35, str(tmp_path / "w.bin"))


@pytest.mark.parametrize(
    ("arch", "kwargs", "message"),
    [
        ("mobilenet_v2", {"channels": 1}, "ImageNet weights need channels=3"),
        ("mobilenet_v2", {"alpha": 0.3}, r"exist for alpha in \{0.35, 0.5, 0.75, 1, 1.3, 1.4\}. Received alpha=0.3"),
        ("mobilenet_v3_small", {"alpha": 0.5}, r"alpha in \{0.75, 1\}"),
        ("mobilenet_v1", {"separable": False}, "only for the depthwise-separable model"),
        ("squeezenet_1_0", {}, "no ImageNet weights are published for squeezenet_1_0"),
    ],
)
def test_imagenet_configuration_errors(arch, kwargs, message):
    alpha = kwargs.pop("alpha", 1.0)
    ours = build_model(arch, alpha=alpha, size=32, classes=2, **kwargs)
    with pytest.raises(EdgeCNNError, match=message):
        load_pretrained(ours, arch, alpha, "imagenet")


def test_imagenet_download_failure_is_one_line(monkeypatch):
    from keras.src.utils import file_utils

    def offline(fname, origin=None, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(file_utils, "get_file", offline)
    ours = build_model("mobilenet_v2", alpha=0.35, size=96, classes=10)
    with pytest.raises(EdgeCNNError) as info:
        load_pretrained(ours, "mobilenet_v2", 0.35, "imagenet")
    message = str(info.value)
    assert "\n" not in message
    assert "URL fetch failure" in message
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5" in message
    assert "local path" in message

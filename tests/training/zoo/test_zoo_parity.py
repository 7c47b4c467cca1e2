"""Structure parity with keras.applications: identical parameter counts and identical outputs after a transfer."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.training.zoo import build_model, get_arch_info, list_models
from edgecnn.training.zoo.transfer import HEAD_LAYERS, transfer_weights

KERAS_TWINS = [name for name in list_models() if get_arch_info(name).keras_application]

# (alpha, size, channels, classes): sizes do not change counts, so most are tiny; 224 checks the defaults.
PARAM_SETTINGS = [
    (1.0, 224, 3, 1000),
    (0.5, 32, 1, 10),
    (0.35, 40, 3, 7),
    (0.75, 33, 1, 3),
    (1.4, 32, 3, 5),
    (1.3, 35, 1, 2),
]


@pytest.mark.parametrize("arch", KERAS_TWINS)
@pytest.mark.parametrize(("alpha", "size", "channels", "classes"), PARAM_SETTINGS)
def test_parameter_counts_equal_keras(arch, alpha, size, channels, classes, keras_twin):
    theirs = keras_twin(arch, alpha=alpha, size=size, channels=channels, classes=classes)
    ours = build_model(arch, alpha=alpha, size=size, channels=channels, classes=classes)
    assert ours.count_params() == theirs.count_params()
    # Same weight-holding layers under the same names with the same shapes: the basis of the transfer.
    theirs_shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in theirs.layers if layer.weights}
    ours_shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in ours.layers if layer.weights}
    assert ours_shapes == theirs_shapes


@pytest.mark.parametrize("arch", KERAS_TWINS)
@pytest.mark.parametrize(("alpha", "size", "channels"), [(0.5, 61, 3), (0.35, 64, 1)])
def test_transferred_weights_give_identical_outputs(arch, alpha, size, channels, pixels, keras_twin, randomize_weights):
    theirs = keras_twin(arch, alpha=alpha, size=size, channels=channels, classes=6)
    randomize_weights(theirs)
    ours = build_model(arch, alpha=alpha, size=size, channels=channels, classes=6)
    report = transfer_weights(theirs, ours, HEAD_LAYERS[get_arch_info(arch).family])
    assert not report.skipped
    x = pixels(3, size, channels)
    expected = np.asarray(theirs(x / 127.5 - 1.0, training=False))  # Keras' MobileNet preprocess_input
    got = np.asarray(ours(x, training=False))  # ours rescales inside the model
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(expected - 1.0 / 6).max() > 1e-3  # random weights really make the outputs input-dependent

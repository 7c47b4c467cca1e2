"""Shared helpers for the model-zoo tests (tiny sizes; TensorFlow imported lazily)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.training.zoo import get_arch_info


def _keras_twin(arch: str, *, alpha: float, size: int, channels: int = 3, classes: int = 10, include_top: bool = True):
    """The keras.applications model with the same configuration (random weights, no in-model rescaling)."""
    import warnings

    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    kwargs = {"input_shape": (size, size, channels), "alpha": alpha, "weights": None, "include_top": include_top}
    if include_top:
        kwargs["classes"] = classes
    if arch.startswith("mobilenet_v3"):
        kwargs["include_preprocessing"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(keras.applications, get_arch_info(arch).keras_application)(**kwargs)


def _randomize_weights(model, seed: int = 0) -> None:
    """Overwrites every variable, BatchNorm moving statistics included, with random values."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        name = variable.path
        if name.endswith(("moving_variance", "gamma")):
            value = rng.uniform(0.5, 1.5, variable.shape)
        else:
            value = rng.normal(0.0, 0.2, variable.shape)
        variable.assign(value.astype("float32"))


@pytest.fixture
def pixels():
    """A function making random float32 raw pixels 0..255 of shape (n, h, w, c)."""

    def make(n: int, size: int, channels: int = 3, seed: int = 1):
        return np.random.default_rng(seed).uniform(0, 255, (n, size, size, channels)).astype("float32")

    return make


@pytest.fixture(scope="session")
def keras_twin():
    """``keras_twin(arch, *, alpha, size, channels=3, classes=10, include_top=True)``: the keras.applications model."""
    return _keras_twin


@pytest.fixture(scope="session")
def randomize_weights():
    """``randomize_weights(model, seed=0)``: random values in every variable, BatchNorm statistics included."""
    return _randomize_weights


#: Families of the classic baselines: 10-50x the MobileNets' size at the same alpha, so the quick tests build them
#: at a quarter of the width.
CLASSIC_FAMILIES = {"plain", "googlenet", "resnet"}


def _small(arch: str, alpha: float = 1.0) -> dict:
    """Arguments for a quick 32x32 build of ``arch``: alpha scaled down for the classic baselines, and stem stride 1
    where the paper's stem needs more than 32 pixels (AlexNet's 11x11/4 needs 63)."""
    info = get_arch_info(arch)
    return {
        "alpha": alpha * (0.25 if info.family in CLASSIC_FAMILIES else 1.0),
        "stem_stride": 2 if info.min_side(2) <= 32 else 1,
    }


@pytest.fixture(scope="session")
def small():
    """``small(arch, alpha=1.0)``: ``alpha`` and ``stem_stride`` arguments for a quick 32x32 build."""
    return _small

"""The model zoo as Keras 3 models, architecture as data: MobileNet V1/V2/V3, SqueezeNet 1.0/1.1 and the classic
baselines (AlexNet, VGG-16/19, GoogLeNet, ResNet-18/50, ResNeXt-50 32x4d, the Keras CIFAR-10 CNN).

Importing this package does not import TensorFlow: the registry (:func:`list_models`, :func:`get_arch_info`,
:func:`validate_build_args`) is plain Python and the Keras builders load TensorFlow on first use.

Model contract: the input is float32 raw pixels 0..255 of shape ``(height, width, channels)``; with
``include_preprocessing=True`` the first layer is ``Rescaling(1/127.5, offset=-1)`` (named ``rescaling``) mapping
them to [-1, 1]; the output is float32 softmax probabilities of shape ``(classes,)`` from a layer named
``predictions``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from edgecnn.training.zoo.profile import LayerRow, ModelProfile, profile_model
from edgecnn.training.zoo.registry import (
    ARCH_KNOBS,
    NORMALIZATION,
    REGISTRY,
    STEM_STRIDES,
    ArchInfo,
    get_arch_info,
    input_size,
    list_models,
    make_divisible,
    scale_depth,
    validate_build_args,
    validate_knobs,
)

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "ARCH_KNOBS",
    "NORMALIZATION",
    "REGISTRY",
    "STEM_STRIDES",
    "ArchInfo",
    "LayerRow",
    "ModelProfile",
    "build_model",
    "get_arch_info",
    "list_models",
    "load_pretrained",
    "make_divisible",
    "input_size",
    "profile_model",
    "scale_depth",
    "validate_build_args",
    "validate_knobs",
]


def build_model(
    arch: str,
    *,
    alpha: float = 1.0,
    size: int | str | tuple[int, int] = 224,
    channels: int = 3,
    classes: int = 1000,
    dropout: float | None = None,
    separable: bool | None = None,
    include_preprocessing: bool = True,
    stem_stride: int = 2,
    head_width: int | None = None,
    scale_head: bool = False,
    depth: float = 1.0,
) -> keras.Model:
    """Builds an untrained Keras model of a registered architecture.

    Args:
        arch: Registered name (see :func:`list_models`), e.g. ``"mobilenet_v2"``.
        alpha: Width multiplier (> 0); scales every layer's channels the way the paper / Keras does.
        size: Input side, ``"WIDTHxHEIGHT"``, an :class:`~edgecnn.core.parsing.ImageSize` or a ``(height, width)``
            pair (the Keras order; see :func:`input_size`); at least the architecture's ``min_size`` (32).
        channels: 1 (grayscale) or 3 (color).
        classes: Number of output classes (>= 2).
        dropout: Dropout rate before the classifier; None for the architecture's default (0.2 for MobileNets,
            0.5 for SqueezeNet).
        separable: Depthwise-separable convolutions on (True) or replaced by full convolutions (False); None for
            the architecture's default (True for MobileNets, False for SqueezeNet, i.e. the papers).
        include_preprocessing: Put the ``Rescaling`` layer (0..255 -> [-1, 1]) into the model.
        stem_stride: Stride of the first convolution: 2 as in the papers, or 1, the usual adaptation for small
            inputs (CIFAR-sized images): every feature map keeps twice the side, at 4x the MACs and the same
            parameters. MobileNetV2 0.35 at 32x32 on Fashion-MNIST ends on a 2x2 instead of a 1x1 map.
        head_width: Channels of the head layer (``get_arch_info(arch).head``: MobileNetV2's 1280-channel
            ``Conv_1``, V3's ``conv_2``, V1's last pointwise conv); None for the paper's width. An error for
            architectures without a head layer.
        scale_head: Scale the head with ``alpha`` at every width (``make_divisible(1280 * alpha, 8)`` for V2);
            the papers keep V2/V3's head fixed for ``alpha <= 1``. Not together with ``head_width``.
        depth: Depth multiplier in (0, 1]: every stage keeps its first ``ceil(repeats * depth)`` blocks (at least
            one); 1 is the paper.

    Returns:
        A ``keras.Model`` taking float32 pixels 0..255 and returning float32 softmax probabilities.

    Raises:
        EdgeCNNError: On an unknown architecture or an invalid argument.
    """
    from edgecnn.core.errors import EdgeCNNError
    from edgecnn.training.zoo.blocks import BuildConfig

    knobs = validate_knobs(arch, stem_stride=stem_stride, head_width=head_width, scale_head=scale_head, depth=depth)
    info, (height, width) = validate_build_args(arch, alpha, size, channels, classes, stem_stride=stem_stride)
    rate = info.default_dropout if dropout is None else dropout
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
        raise EdgeCNNError(f"dropout must be in [0, 1). Received dropout={dropout!r}")
    separable = info.default_separable if separable is None else bool(separable)
    if separable not in info.separable_options:
        raise EdgeCNNError(f"{info.name} has no depthwise-separable variant. Received separable={separable!r}")
    cfg = BuildConfig(
        arch=info.name,
        alpha=float(alpha),
        height=height,
        width=width,
        channels=channels,
        classes=classes,
        dropout=float(rate),
        separable=separable,
        include_preprocessing=bool(include_preprocessing),
        **knobs,
    )
    family = importlib.import_module(f"edgecnn.training.zoo.{info.family}")
    return family.build(cfg)


def load_pretrained(model, arch: str, alpha: float, weights: str):
    """Loads Keras' pretrained weights into a zoo model; see :func:`edgecnn.training.zoo.transfer.load_pretrained`."""
    from edgecnn.training.zoo.transfer import load_pretrained as _load

    return _load(model, arch, alpha, weights)

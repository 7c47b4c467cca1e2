"""Generic Keras block builders shared by every family in the zoo (one builder per block kind).

Each family module (``mobilenet_v1``, ``mobilenet_v2``, ``mobilenet_v3``, ``squeezenet``, ``plain``, ``googlenet``,
``resnet``) holds a short table of block specs and turns it into layers with these functions. Layer names follow
``keras.applications`` so that weights transfer by name and TFLite tensor names stay readable. TensorFlow is
imported on first call only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from edgecnn.training._tf import import_tf
from edgecnn.training.zoo.registry import make_divisible, scale_depth

# keras.applications uses momentum=0.999. Trained from scratch for a few epochs, the moving statistics then lag
# the weights so far behind that a MobileNetV2 on Fashion-MNIST stayed at chance validation accuracy for the
# first epochs here. 0.99 (Keras' default) tracks them within ~100 steps; it changes no shapes or counts.
BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3

_ACT_SUFFIX = {"relu": "relu", "relu6": "relu", "hard_swish": "hard_swish", "hard_sigmoid": "hard_sigmoid"}


def _layers():
    _, keras = import_tf()
    return keras.layers


@dataclass(frozen=True)
class BuildConfig:
    """The resolved arguments of one :func:`edgecnn.training.zoo.build_model` call, handed to a family builder.

    The knobs beside ``alpha`` (defaults: the papers' architecture) are ``stem_stride`` (stride of the first
    convolution), ``head_width`` (explicit channels of the head layer, see ``ArchInfo.head``), ``scale_head``
    (scale the head with ``alpha`` at every width) and ``depth`` (each stage keeps ``ceil(repeats * depth)``
    blocks, at least one).
    """

    arch: str
    alpha: float
    height: int
    width: int
    channels: int
    classes: int
    dropout: float
    separable: bool
    include_preprocessing: bool
    stem_stride: int = 2
    head_width: int | None = None
    scale_head: bool = False
    depth: float = 1.0

    @property
    def model_name(self) -> str:
        """``<arch>_<alpha>_<size>`` like Keras' ``mobilenetv2_1.00_224``, plus a suffix per non-default knob."""
        side = str(self.height) if self.height == self.width else f"{self.height}x{self.width}"
        suffix = ("" if self.separable else "_conv") + ("" if self.stem_stride == 2 else f"_stem{self.stem_stride}")
        suffix += "" if self.head_width is None else f"_head{self.head_width}"
        suffix += "_headscaled" if self.scale_head else ""
        suffix += "" if self.depth == 1.0 else f"_depth{self.depth:g}"
        return f"{self.arch}_{self.alpha:0.2f}_{side}{suffix}"

    def head(self, base: int, paper: int) -> int:
        """Channels of the head layer: ``head_width`` if set, ``base`` scaled with alpha if ``scale_head``, else
        ``paper`` (the family's own rule, e.g. MobileNetV2's 1280 unless alpha > 1)."""
        if self.head_width is not None:
            return self.head_width
        return make_divisible(base * self.alpha, 8) if self.scale_head else paper

    def repeats(self, count: int) -> int:
        """How many of a stage's ``count`` blocks the depth multiplier keeps."""
        return scale_depth(count, self.depth)

    def stages(self, rows, key) -> list:
        """Rows of a per-block table with each stage (a run of rows with equal ``key(row)``) cut to its first
        :meth:`repeats` rows; the first row of a stage carries its stride."""
        kept = []
        for _, group in itertools.groupby(rows, key=key):
            group = list(group)
            kept += group[: self.repeats(len(group))]
        return kept


def model_input(cfg: BuildConfig):
    """The float32 raw-pixel input and, when asked, the ``Rescaling`` layer that maps 0..255 to [-1, 1].

    Returns:
        ``(inputs, x)``: the Keras input tensor and the tensor the stem consumes.
    """
    layers = _layers()
    inputs = layers.Input(shape=(cfg.height, cfg.width, cfg.channels), dtype="float32", name="image")
    x = inputs
    if cfg.include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0, name="rescaling")(x)
    return inputs, x


def make_model(inputs, outputs, cfg: BuildConfig):
    """Wraps the graph into a ``keras.Model`` named after the config."""
    _, keras = import_tf()
    return keras.Model(inputs, outputs, name=cfg.model_name)


def batch_norm(x, name: str):
    """BatchNormalization with the zoo's momentum (see :data:`BN_MOMENTUM`)."""
    return _layers().BatchNormalization(axis=-1, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)(x)


def activation(x, kind: str | None, stem: str):
    """Applies ``relu``, ``relu6``, ``hard_swish`` or ``hard_sigmoid`` as a layer named ``<stem>_<kind>``."""
    layers = _layers()
    if kind is None:
        return x
    name = f"{stem}_{_ACT_SUFFIX[kind]}"
    if kind == "relu":
        return layers.ReLU(name=name)(x)
    if kind == "relu6":
        return layers.ReLU(6.0, name=name)(x)
    # Keras' hard_sigmoid is relu6(x + 3) / 6 and hard_swish is x * that: the MobileNetV3 definitions.
    return layers.Activation(kind, name=name)(x)


def stride_padding(x, kernel: int, stride: int, style: str, name: str):
    """Explicit zero padding before a strided convolution, exactly as ``keras.applications`` does it.

    Args:
        x: Input tensor.
        kernel: Kernel side of the strided convolution.
        stride: 1 (no padding: the convolution uses ``"same"``) or 2.
        style: ``"bottom_right"`` (MobileNet V1: one row/column at the bottom and right) or ``"centered"``
            (V2/V3: ``imagenet_utils.correct_pad``, depends on whether the input side is even).
        name: Name of the padding layer.

    Returns:
        ``(x, padding)``: the (possibly padded) tensor and the ``padding`` argument for the convolution.
    """
    if stride == 1:
        return x, "same"
    if style == "bottom_right":
        pad = ((0, 1), (0, 1))
    else:
        half = kernel // 2
        height, width = x.shape[1], x.shape[2]
        adjust = (1, 1) if height is None else (1 - height % 2, 1 - width % 2)
        pad = ((half - adjust[0], half), (half - adjust[1], half))
    return _layers().ZeroPadding2D(pad, name=name)(x), "valid"


def conv(
    x,
    filters: int,
    kernel: int,
    *,
    name: str,
    stride: int = 1,
    padding: str = "same",
    use_bias: bool = False,
    groups: int = 1,
):
    """A plain 2-D convolution (no bias by default: BatchNorm follows); ``groups`` > 1 for a grouped one."""
    return _layers().Conv2D(
        filters, kernel, strides=stride, padding=padding, use_bias=use_bias, groups=groups, name=name
    )(x)


def conv_act(
    x,
    filters: int,
    kernel: int,
    *,
    name: str,
    stride: int = 1,
    padding: int | str = "same",
    bn: bool = True,
    act: str | None = "relu",
    groups: int = 1,
):
    """Convolution, then BatchNorm (``bn=True``; the convolution has no bias) or a bias, then the activation.

    Args:
        padding: ``"same"``, ``"valid"``, or an int: that many zero rows/columns on every side, then ``"valid"``
            (torchvision's ``padding=p``, e.g. AlexNet's 11x11/4 stem with ``p=2``).
        bn: BatchNorm after the convolution (layers ``<name>_conv``, ``<name>_bn``, ``<name>_relu``); without it
            the convolution itself is named ``name`` and has a bias.
    """
    if isinstance(padding, int):
        x = _layers().ZeroPadding2D(padding, name=f"{name}_pad")(x) if padding else x
        padding = "valid"
    if bn:
        x = conv(x, filters, kernel, stride=stride, padding=padding, groups=groups, name=f"{name}_conv")
        x = batch_norm(x, f"{name}_bn")
    else:
        x = conv(x, filters, kernel, stride=stride, padding=padding, groups=groups, use_bias=True, name=name)
    return activation(x, act, name)


def max_pool(x, size: int, stride: int, *, name: str, ceil: bool = False, padding: str = "valid"):
    """Max pooling; ``ceil=True`` rounds the output size up like Caffe / PyTorch's ``ceil_mode=True``.

    Ceil rounding is emulated with zero padding at the bottom and right, which is exact after a ReLU (every window
    keeps at least one real value and all values are >= 0). ``padding="same"`` is torchvision's ``padding=k//2``
    for odd kernels (padded values never win).
    """
    layers = _layers()
    if ceil:
        pad_h, pad_w = ((-(x.shape[1] - size)) % stride, (-(x.shape[2] - size)) % stride)
        if pad_h or pad_w:
            x = layers.ZeroPadding2D(((0, pad_h), (0, pad_w)), name=f"{name}_pad")(x)
    return layers.MaxPooling2D(size, strides=stride, padding=padding, name=name)(x)


def dense(x, units: int, *, name: str, act: str | None = None):
    """A fully connected layer with bias, then the activation (layer ``<name>_<act>``)."""
    x = _layers().Dense(units, name=name)(x)
    return activation(x, act, name)


def depthwise(x, kernel: int, *, name: str, stride: int = 1, padding: str = "same", use_bias: bool = False):
    """A depthwise 2-D convolution with depth multiplier 1."""
    return _layers().DepthwiseConv2D(kernel, strides=stride, padding=padding, use_bias=use_bias, name=name)(x)


def squeeze_excite(x, squeeze_filters: int, prefix: str):
    """MobileNetV3 squeeze-and-excitation: pool, 1x1 reduce + ReLU, 1x1 expand + hard-sigmoid, rescale."""
    layers = _layers()
    filters = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(x)
    s = layers.Conv2D(squeeze_filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv")(s)
    s = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(s)
    s = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(s)
    s = activation(s, "hard_sigmoid", f"{prefix}squeeze_excite")
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([x, s])


def inverted_residual(
    x,
    *,
    expanded: int | None,
    filters: int,
    kernel: int,
    stride: int,
    act: str,
    prefix: str,
    bn: str,
    pad_name: str,
    separable: bool = True,
    se_filters: int | None = None,
):
    """MobileNetV2/V3 inverted residual: 1x1 expand, KxK depthwise, optional SE, linear 1x1 project, residual.

    With ``separable=False`` the depthwise convolution becomes a full KxK convolution of the same width
    (expanded -> expanded channels, named ``<prefix>conv``): the inverted-residual analogue of the MobileNet
    paper's "Conv MobileNet" (Table 4). Expand and project stay 1x1.

    Args:
        x: Input tensor.
        expanded: Channels after the 1x1 expansion, or None for no expansion (the first block).
        filters: Output channels of the projection.
        kernel: Depthwise kernel side.
        stride: Depthwise stride.
        act: Activation after expand and depthwise (``relu6``, ``relu``, ``hard_swish``).
        prefix: Layer-name prefix, e.g. ``block_5_`` (V2) or ``expanded_conv_5_`` (V3).
        bn: BatchNorm name suffix, ``_BN`` (V2) or ``_bn`` (V3), as in Keras.
        pad_name: Name of the zero-padding layer of a strided block.
        separable: Depthwise (True) or full (False) KxK convolution.
        se_filters: Squeeze channels of an SE block, or None for no SE.
    """
    shortcut = x
    in_channels = x.shape[-1]
    if expanded is not None:
        x = conv(x, expanded, 1, name=f"{prefix}expand")
        x = batch_norm(x, f"{prefix}expand{bn}")
        x = activation(x, act, f"{prefix}expand")
    x, padding = stride_padding(x, kernel, stride, "centered", pad_name)
    if separable:
        x = depthwise(x, kernel, stride=stride, padding=padding, name=f"{prefix}depthwise")
        x = batch_norm(x, f"{prefix}depthwise{bn}")
        x = activation(x, act, f"{prefix}depthwise")
    else:
        x = conv(x, x.shape[-1], kernel, stride=stride, padding=padding, name=f"{prefix}conv")
        x = batch_norm(x, f"{prefix}conv{bn}")
        x = activation(x, act, f"{prefix}conv")
    if se_filters:
        x = squeeze_excite(x, se_filters, prefix)
    x = conv(x, filters, 1, name=f"{prefix}project")
    x = batch_norm(x, f"{prefix}project{bn}")
    if stride == 1 and in_channels == filters:
        x = _layers().Add(name=f"{prefix}add")([shortcut, x])
    return x


def dropout(x, rate: float, name: str = "dropout"):
    """Dropout, or nothing when ``rate`` is 0."""
    return _layers().Dropout(rate, name=name)(x) if rate > 0 else x


def softmax(x, name: str = "predictions"):
    """The final softmax, kept in float32 even under a mixed-precision policy."""
    return _layers().Activation("softmax", dtype="float32", name=name)(x)

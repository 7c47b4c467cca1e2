"""MobileNet V3 Small and Large (Howard et al. 2019, arXiv:1905.02244), structured like Keras' MobileNetV3.

Block tables are the paper's Tables 1 and 2 with Keras' expansion ratios (e.g. 72/16), so that every width is
``make_divisible(in_channels * expansion, 8)`` and parameter counts equal Keras' at any ``alpha``. As in Keras,
the 16-channel stem is not scaled, the last 1x1 conv has ``make_divisible(6 * c, 8)`` channels, and the
penultimate 1x1 "conv_2" (1024 Small / 1280 Large) grows only when ``alpha > 1``. ``separable=False`` replaces
each depthwise KxK by a full KxK conv of the expanded width.

Knobs: a stage is a run of rows with the same output channels (Small: 16 | 24 x2 | 40 x3 | 48 x2 | 96 x3; Large:
16 | 24 x2 | 40 x3 | 80 x4 | 112 x2 | 160 x3); ``depth`` keeps the first rows of each. The head is ``conv_2``
(``head_width`` sets it, ``scale_head`` makes it ``make_divisible(1024 or 1280 * alpha, 8)`` at every alpha).
"""

from __future__ import annotations

from typing import NamedTuple

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible

STEM_FILTERS = 16
SE_RATIO = 0.25


class Bneck(NamedTuple):
    """One inverted-residual row: expansion ratio, output channels, kernel, stride, SE, activation."""

    expansion: float
    filters: int
    kernel: int
    stride: int
    se: bool
    act: str


_HS = "hard_swish"
#: Paper Table 2 (MobileNetV3-Small).
SMALL: tuple[Bneck, ...] = (
    Bneck(1, 16, 3, 2, True, "relu"),
    Bneck(72 / 16, 24, 3, 2, False, "relu"),
    Bneck(88 / 24, 24, 3, 1, False, "relu"),
    Bneck(4, 40, 5, 2, True, _HS),
    Bneck(6, 40, 5, 1, True, _HS),
    Bneck(6, 40, 5, 1, True, _HS),
    Bneck(3, 48, 5, 1, True, _HS),
    Bneck(3, 48, 5, 1, True, _HS),
    Bneck(6, 96, 5, 2, True, _HS),
    Bneck(6, 96, 5, 1, True, _HS),
    Bneck(6, 96, 5, 1, True, _HS),
)
#: Paper Table 1 (MobileNetV3-Large).
LARGE: tuple[Bneck, ...] = (
    Bneck(1, 16, 3, 1, False, "relu"),
    Bneck(4, 24, 3, 2, False, "relu"),
    Bneck(3, 24, 3, 1, False, "relu"),
    Bneck(3, 40, 5, 2, True, "relu"),
    Bneck(3, 40, 5, 1, True, "relu"),
    Bneck(3, 40, 5, 1, True, "relu"),
    Bneck(6, 80, 3, 2, False, _HS),
    Bneck(2.5, 80, 3, 1, False, _HS),
    Bneck(2.3, 80, 3, 1, False, _HS),
    Bneck(2.3, 80, 3, 1, False, _HS),
    Bneck(6, 112, 3, 1, True, _HS),
    Bneck(6, 112, 3, 1, True, _HS),
    Bneck(6, 160, 5, 2, True, _HS),
    Bneck(6, 160, 5, 1, True, _HS),
    Bneck(6, 160, 5, 1, True, _HS),
)
#: (block table, penultimate "conv_2" channels) per registered name.
VARIANTS = {"mobilenet_v3_small": (SMALL, 1024), "mobilenet_v3_large": (LARGE, 1280)}


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    layers = keras.layers
    table, last_point = VARIANTS[cfg.arch]
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv(x, STEM_FILTERS, 3, stride=cfg.stem_stride, name="conv")
    x = blocks.batch_norm(x, "conv_bn")
    x = blocks.activation(x, _HS, "conv")
    for block_id, row in enumerate(cfg.stages(table, key=lambda row: row.filters)):
        prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
        width = make_divisible(x.shape[-1] * row.expansion, 8)
        x = blocks.inverted_residual(
            x,
            expanded=width if block_id else None,
            filters=make_divisible(row.filters * cfg.alpha, 8),
            kernel=row.kernel,
            stride=row.stride,
            act=row.act,
            prefix=prefix,
            bn="_bn",
            pad_name=f"{prefix}depthwise_pad",
            separable=cfg.separable,
            se_filters=make_divisible(width * SE_RATIO, 8) if row.se else None,
        )
    x = blocks.conv(x, make_divisible(x.shape[-1] * 6, 8), 1, name="conv_1")
    x = blocks.batch_norm(x, "conv_1_bn")
    x = blocks.activation(x, _HS, "conv_1")
    x = layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
    paper = make_divisible(last_point * cfg.alpha, 8) if cfg.alpha > 1.0 else last_point
    x = blocks.conv(x, cfg.head(last_point, paper), 1, name="conv_2", use_bias=True)
    x = blocks.activation(x, _HS, "conv_2")
    x = blocks.dropout(x, cfg.dropout)
    x = blocks.conv(x, cfg.classes, 1, name="logits", use_bias=True)
    x = layers.Flatten(name="flatten")(x)
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

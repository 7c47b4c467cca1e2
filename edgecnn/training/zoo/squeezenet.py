"""SqueezeNet 1.0 and 1.1 (Iandola et al. 2016, arXiv:1602.07360; 1.1 from the authors' repository).

A strided stem convolution, fire modules (1x1 squeeze, then parallel 1x1 and 3x3 expands concatenated), 3x3/2 max
pools, dropout 0.5, a 1x1 ``conv10`` to ``classes`` channels with ReLU, global average pooling and softmax. As in
the paper there is no BatchNorm and every convolution has a bias. Max pools use Caffe's ceil rounding (the paper's
Table 1 feature-map sizes), emulated with bottom/right zero padding, which is exact after a ReLU.

``alpha`` scales the stem and every fire module with ``make_divisible(v * alpha, 8)`` (``alpha=1`` keeps the
paper's widths, all multiples of 8). ``separable=True`` turns each 3x3 expand into a 3x3 depthwise conv (no
bias, no activation) followed by a 1x1 conv with bias and ReLU; the default ``separable=False`` is the paper.

Knobs: a stage is the run of fire modules between two pools (1.0: 3 | 4 | 1, 1.1: 2 | 2 | 4); ``depth`` keeps
the first modules of each. There is no head layer (``conv10`` is the classifier).
"""

from __future__ import annotations

from typing import NamedTuple

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible


class Fire(NamedTuple):
    """A fire module: squeeze channels and the channels of each of the two expands (1x1 and 3x3)."""

    squeeze: int
    expand: int


POOL = "pool"
#: (stem filters, stem kernel, layout) per version; fire modules are numbered from 2 as in the paper.
VARIANTS = {
    "squeezenet_1_0": (
        96,
        7,
        (
            POOL,
            Fire(16, 64),
            Fire(16, 64),
            Fire(32, 128),
            POOL,
            Fire(32, 128),
            Fire(48, 192),
            Fire(48, 192),
            Fire(64, 256),
            POOL,
            Fire(64, 256),
        ),
    ),
    "squeezenet_1_1": (
        64,
        3,
        (
            POOL,
            Fire(16, 64),
            Fire(16, 64),
            POOL,
            Fire(32, 128),
            Fire(32, 128),
            POOL,
            Fire(48, 192),
            Fire(48, 192),
            Fire(64, 256),
            Fire(64, 256),
        ),
    ),
}


def _fire(x, fire: Fire, alpha: float, separable: bool, name: str):
    layers = blocks._layers()
    squeeze = make_divisible(fire.squeeze * alpha, 8)
    expand = make_divisible(fire.expand * alpha, 8)
    s = blocks.conv(x, squeeze, 1, name=f"{name}_squeeze1x1", use_bias=True)
    s = blocks.activation(s, "relu", f"{name}_squeeze1x1")
    left = blocks.conv(s, expand, 1, name=f"{name}_expand1x1", use_bias=True)
    left = blocks.activation(left, "relu", f"{name}_expand1x1")
    if separable:
        right = blocks.depthwise(s, 3, name=f"{name}_expand3x3_dw")
        right = blocks.conv(right, expand, 1, name=f"{name}_expand3x3", use_bias=True)
    else:
        right = blocks.conv(s, expand, 3, name=f"{name}_expand3x3", use_bias=True)
    right = blocks.activation(right, "relu", f"{name}_expand3x3")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([left, right])


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    layers = blocks._layers()
    stem_filters, stem_kernel, layout = VARIANTS[cfg.arch]
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv(
        x,
        make_divisible(stem_filters * cfg.alpha, 8),
        stem_kernel,
        stride=cfg.stem_stride,
        padding="valid",
        name="conv1",
        use_bias=True,
    )
    x = blocks.activation(x, "relu", "conv1")
    fire_id, pool_id = 2, 1
    for item in cfg.stages(layout, key=lambda item: item == POOL):
        if item == POOL:
            x = blocks.max_pool(x, 3, 2, ceil=True, name=f"pool{pool_id}")
        else:
            x = _fire(x, item, cfg.alpha, cfg.separable, f"fire{fire_id}")
            pool_id = fire_id
            fire_id += 1
    x = blocks.dropout(x, cfg.dropout, name="drop9")
    x = blocks.conv(x, cfg.classes, 1, name="conv10", use_bias=True)
    x = blocks.activation(x, "relu", "conv10")
    x = layers.GlobalAveragePooling2D(name="pool10")(x)
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

"""MobileNet V2 (Sandler et al. 2018, arXiv:1801.04381), structured like ``keras.applications.MobileNetV2``.

A 3x3 stem, 17 inverted residual blocks from the paper's Table 2 (expansion t, channels c, repeats n, stride s),
a 1x1 conv to 1280 channels, global pooling and a dense classifier. Widths: ``make_divisible(int(c * alpha), 8)``
per block, ``make_divisible(32 * alpha, 8)`` for the stem, and the last conv keeps 1280 channels unless
``alpha > 1`` (then ``make_divisible(1280 * alpha, 8)``), exactly as Keras. ``separable=False`` replaces each
depthwise 3x3 by a full 3x3 conv of the expanded width (see :func:`edgecnn.training.zoo.blocks.inverted_residual`).

Knobs: ``depth`` scales each row's repeats n (``ceil(n * depth)``, at least 1); the head is ``Conv_1``
(``head_width`` sets it, ``scale_head`` makes it ``make_divisible(1280 * alpha, 8)`` at every alpha).
"""

from __future__ import annotations

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible

STEM_FILTERS = 32
LAST_FILTERS = 1280
#: Paper Table 2 bottleneck rows: (expansion t, output channels c, repeats n, first stride s).
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    layers = keras.layers
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv(x, make_divisible(STEM_FILTERS * cfg.alpha, 8), 3, stride=cfg.stem_stride, name="Conv1")
    x = blocks.batch_norm(x, "bn_Conv1")
    x = blocks.activation(x, "relu6", "Conv1")
    block_id = 0
    for expansion, channels, repeats, first_stride in STAGES:
        for repeat in range(cfg.repeats(repeats)):
            prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
            x = blocks.inverted_residual(
                x,
                # Keras expands by exactly t * in_channels (no rounding); block 0 has no expansion conv.
                expanded=expansion * x.shape[-1] if block_id else None,
                filters=make_divisible(int(channels * cfg.alpha), 8),
                kernel=3,
                stride=first_stride if repeat == 0 else 1,
                act="relu6",
                prefix=prefix,
                bn="_BN",
                pad_name=f"{prefix}pad",
                separable=cfg.separable,
            )
            block_id += 1
    last = make_divisible(LAST_FILTERS * cfg.alpha, 8) if cfg.alpha > 1.0 else LAST_FILTERS
    x = blocks.conv(x, cfg.head(LAST_FILTERS, last), 1, name="Conv_1")
    x = blocks.batch_norm(x, "Conv_1_bn")
    x = blocks.activation(x, "relu6", "out")
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    x = blocks.dropout(x, cfg.dropout)
    x = layers.Dense(cfg.classes, activation="softmax", dtype="float32", name="predictions")(x)
    return blocks.make_model(inputs, x, cfg)

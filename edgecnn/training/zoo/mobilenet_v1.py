"""MobileNet V1 (Howard et al. 2017, arXiv:1704.04861), structured like ``keras.applications.MobileNet``.

A 3x3 stem and 13 depthwise-separable blocks (3x3 depthwise + BN + ReLU6, 1x1 pointwise + BN + ReLU6), then global
pooling and a 1x1-conv classifier. Widths scale with plain ``int(filters * alpha)`` as in the paper and Keras.
``separable=False`` gives the paper's "Conv MobileNet" (Table 4): every block is one full 3x3 convolution with the
block's output width (layers ``conv_<i>``, ``conv_<i>_bn``, ``conv_<i>_relu``).

Knobs: a stage is a run of blocks with the same width (64 | 128 x2 | 256 x2 | 512 x6 | 1024 x2); ``depth`` keeps
the first blocks of each. The head is the last block's 1x1 conv (``conv_pw_13`` at depth 1): ``head_width`` sets
its channels; ``scale_head`` changes nothing (it already scales with alpha).
"""

from __future__ import annotations

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig

STEM_FILTERS = 32
#: (pointwise filters, stride) of the 13 depthwise-separable blocks, paper Table 1.
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    layers = keras.layers
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv(x, int(STEM_FILTERS * cfg.alpha), 3, stride=cfg.stem_stride, name="conv1")
    x = blocks.batch_norm(x, "conv1_bn")
    x = blocks.activation(x, "relu6", "conv1")
    table = cfg.stages(BLOCKS, key=lambda row: row[0])
    for block_id, (filters, stride) in enumerate(table, start=1):
        filters = int(filters * cfg.alpha)
        if block_id == len(table) and cfg.head_width is not None:  # the head: already scales with alpha
            filters = cfg.head_width
        x, padding = blocks.stride_padding(x, 3, stride, "bottom_right", f"conv_pad_{block_id}")
        if cfg.separable:
            x = blocks.depthwise(x, 3, stride=stride, padding=padding, name=f"conv_dw_{block_id}")
            x = blocks.batch_norm(x, f"conv_dw_{block_id}_bn")
            x = blocks.activation(x, "relu6", f"conv_dw_{block_id}")
            x = blocks.conv(x, filters, 1, name=f"conv_pw_{block_id}")
            x = blocks.batch_norm(x, f"conv_pw_{block_id}_bn")
            x = blocks.activation(x, "relu6", f"conv_pw_{block_id}")
        else:
            x = blocks.conv(x, filters, 3, stride=stride, padding=padding, name=f"conv_{block_id}")
            x = blocks.batch_norm(x, f"conv_{block_id}_bn")
            x = blocks.activation(x, "relu6", f"conv_{block_id}")
    x = layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
    x = blocks.dropout(x, cfg.dropout)
    x = blocks.conv(x, cfg.classes, 1, name="conv_preds", use_bias=True)
    x = layers.Reshape((cfg.classes,), name="reshape_2")(x)
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

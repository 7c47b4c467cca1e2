"""ResNet-18 / ResNet-50 (He et al. 2015, arXiv:1512.03385) and ResNeXt-50 32x4d (Xie et al. 2016,
arXiv:1611.05431), as torchvision builds them.

Stem: 7x7/2 conv + BatchNorm + ReLU, 3x3/2 max-pool; four stages of residual blocks (the first block of stages 2-4
has stride 2); global average pooling and the classifier. A *basic* block is two 3x3 convolutions; a *bottleneck*
is 1x1 reduce, 3x3 (grouped for ResNeXt: 32 groups), 1x1 expand. As in torchvision ("ResNet v1.5") the stride sits
on the 3x3 convolution, and a block whose stride or width changes gets a 1x1 projection shortcut with BatchNorm.
Convolutions have no bias (BatchNorm follows each). Layer names follow ``keras.applications.ResNet50``
(``conv2_block1_1_conv``, ``conv2_block1_0_conv`` for the shortcut, ``conv2_block1_add``...).

``alpha`` scales every width with ``make_divisible(c * alpha, 8)``; ResNeXt's grouped width rounds to a multiple
of the 32 groups instead (cardinality stays 32, each group gets fewer channels). Knobs: ``depth`` scales the blocks
per stage (ResNet-50: 3, 4, 6, 3 -> 2, 2, 3, 2 at 0.5); ``stem_stride=1`` gives the 7x7 conv stride 1 (the max-pool
stays). There is no head layer.
"""

from __future__ import annotations

from typing import NamedTuple

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible


class Stage(NamedTuple):
    """One stage: number of blocks, inner (bottleneck / grouped) width, output width, stride of its first block."""

    blocks: int
    width: int
    out: int
    stride: int


class Variant(NamedTuple):
    """A network: ``basic`` or ``bottleneck`` blocks, groups of the 3x3 convolution, and the four stages."""

    block: str
    groups: int
    stages: tuple[Stage, ...]


VARIANTS = {
    "resnet18": Variant(
        "basic", 1, (Stage(2, 64, 64, 1), Stage(2, 128, 128, 2), Stage(2, 256, 256, 2), Stage(2, 512, 512, 2))
    ),
    "resnet50": Variant(
        "bottleneck",
        1,
        (Stage(3, 64, 256, 1), Stage(4, 128, 512, 2), Stage(6, 256, 1024, 2), Stage(3, 512, 2048, 2)),
    ),
    # 32x4d: 32 groups of 4 channels in the first stage (128 = 64 * 4/64 * 32), doubling per stage.
    "resnext50_32x4d": Variant(
        "bottleneck",
        32,
        (Stage(3, 128, 256, 1), Stage(4, 256, 512, 2), Stage(6, 512, 1024, 2), Stage(3, 1024, 2048, 2)),
    ),
}


def _block(x, kind: str, width: int, out: int, stride: int, groups: int, name: str):
    layers = blocks._layers()
    shortcut = x
    if stride != 1 or x.shape[-1] != out:
        shortcut = blocks.conv_act(x, out, 1, stride=stride, act=None, name=f"{name}_0")
    if kind == "basic":
        y = blocks.conv_act(x, width, 3, stride=stride, name=f"{name}_1")
        y = blocks.conv_act(y, out, 3, act=None, name=f"{name}_2")
    else:
        y = blocks.conv_act(x, width, 1, name=f"{name}_1")
        y = blocks.conv_act(y, width, 3, stride=stride, groups=groups, name=f"{name}_2")
        y = blocks.conv_act(y, out, 1, act=None, name=f"{name}_3")
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    layers = blocks._layers()
    variant = VARIANTS[cfg.arch]
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv_act(x, make_divisible(64 * cfg.alpha, 8), 7, stride=cfg.stem_stride, name="conv1")
    x = blocks.max_pool(x, 3, 2, padding="same", name="pool1_pool")
    for stage_id, stage in enumerate(variant.stages, start=2):
        width = make_divisible(stage.width * cfg.alpha, 8 if variant.groups == 1 else variant.groups)
        out = make_divisible(stage.out * cfg.alpha, 8)
        for block_id in range(1, cfg.repeats(stage.blocks) + 1):
            stride = stage.stride if block_id == 1 else 1
            x = _block(x, variant.block, width, out, stride, variant.groups, f"conv{stage_id}_block{block_id}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = blocks.dropout(x, cfg.dropout)
    x = blocks.dense(x, cfg.classes, name="logits")
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

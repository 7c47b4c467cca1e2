"""GoogLeNet / Inception v1 (Szegedy et al. 2014, arXiv:1409.4842) as torchvision builds it, without the auxiliary
classifiers.

Stem: 7x7/2 conv, 3x3/2 max-pool, 1x1 conv, 3x3 conv, 3x3/2 max-pool; then inception modules 3a-3b, a 3x3/2
max-pool, 4a-4e, a 2x2/2 max-pool, 5a-5b, global average pooling, dropout (0.4, the paper's) and the classifier.
Every convolution is followed by BatchNorm and ReLU (torchvision's ``BasicConv2d``; the paper predates BatchNorm
and used local response normalisation, which we leave out like torchvision). Max-pools round up (``ceil_mode``).

An inception module has four branches concatenated: 1x1; 1x1 reduce then 3x3; 1x1 reduce then the "5x5" branch;
3x3/1 max-pool then 1x1 projection. Like torchvision (whose weights are ported from Google's TF-slim
``inception_v1``), the "5x5" branch uses a 3x3 kernel (:data:`BRANCH3_KERNEL`; torchvision issue #906); the
paper's 5x5 would add 380,928 parameters and 84M MACs at 224x224. With 3x3 the counts equal torchvision's exactly
and the paper's Table 1 totals (6.8M parameters, 1.5G multiply-adds) within 3%.

``alpha`` scales every convolution with ``make_divisible(c * alpha, 8)``. Knobs: a stage is the modules between
two pools (3a-3b | 4a-4e | 5a-5b); ``depth`` keeps the first ones of each. ``stem_stride=1`` gives the first conv
stride 1 (the stem's max-pools stay). There is no head layer.
"""

from __future__ import annotations

from typing import NamedTuple

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible


class Inception(NamedTuple):
    """Output channels of each branch (paper Table 1 columns): #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool
    proj."""

    b1: int
    b2_reduce: int
    b2: int
    b3_reduce: int
    b3: int
    b4: int


#: Kernel of the "5x5" branch: 3 as in torchvision and TF-slim (see the module docstring); the paper draws 5.
BRANCH3_KERNEL = 3
#: Paper Table 1, stage by stage; a max-pool (size, stride) follows each stage except the last.
STAGES: tuple[tuple[str, tuple[Inception, ...], tuple[int, int] | None], ...] = (
    ("3", (Inception(64, 96, 128, 16, 32, 32), Inception(128, 128, 192, 32, 96, 64)), (3, 2)),
    (
        "4",
        (
            Inception(192, 96, 208, 16, 48, 64),
            Inception(160, 112, 224, 24, 64, 64),
            Inception(128, 128, 256, 24, 64, 64),
            Inception(112, 144, 288, 32, 64, 64),
            Inception(256, 160, 320, 32, 128, 128),
        ),
        (2, 2),
    ),
    ("5", (Inception(256, 160, 320, 32, 128, 128), Inception(384, 192, 384, 48, 128, 128)), None),
)


def _inception(x, spec: Inception, alpha: float, name: str):
    layers = blocks._layers()

    def width(c: int) -> int:
        return make_divisible(c * alpha, 8)

    b1 = blocks.conv_act(x, width(spec.b1), 1, name=f"{name}_1x1")
    b2 = blocks.conv_act(x, width(spec.b2_reduce), 1, name=f"{name}_3x3_reduce")
    b2 = blocks.conv_act(b2, width(spec.b2), 3, name=f"{name}_3x3")
    b3 = blocks.conv_act(x, width(spec.b3_reduce), 1, name=f"{name}_5x5_reduce")
    b3 = blocks.conv_act(b3, width(spec.b3), BRANCH3_KERNEL, name=f"{name}_5x5")
    b4 = blocks.max_pool(x, 3, 1, padding="same", name=f"{name}_pool")
    b4 = blocks.conv_act(b4, width(spec.b4), 1, name=f"{name}_pool_proj")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([b1, b2, b3, b4])


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    layers = blocks._layers()
    inputs, x = blocks.model_input(cfg)
    x = blocks.conv_act(x, make_divisible(64 * cfg.alpha, 8), 7, stride=cfg.stem_stride, name="conv1")
    x = blocks.max_pool(x, 3, 2, ceil=True, name="pool1")
    x = blocks.conv_act(x, make_divisible(64 * cfg.alpha, 8), 1, name="conv2")
    x = blocks.conv_act(x, make_divisible(192 * cfg.alpha, 8), 3, name="conv3")
    x = blocks.max_pool(x, 3, 2, ceil=True, name="pool2")
    for stage, modules, pool in STAGES:
        for index, spec in enumerate(modules[: cfg.repeats(len(modules))]):
            x = _inception(x, spec, cfg.alpha, f"inception{stage}{'abcde'[index]}")
        if pool:
            x = blocks.max_pool(x, *pool, ceil=True, name=f"pool{stage}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = blocks.dropout(x, cfg.dropout)
    x = blocks.dense(x, cfg.classes, name="logits")
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

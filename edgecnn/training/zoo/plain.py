"""Plain convolution stacks with a fully connected head: AlexNet, VGG-16/19 and the Keras CIFAR-10 tutorial CNN.

- AlexNet as torchvision builds it (Krizhevsky 2014, "One weird trick", arXiv:1404.5997: the single-tower variant
  without local response normalisation): 11x11/4 stem with 2 pixels of padding, 3x3/2 max-pools, then
  dropout, 4096 FC, dropout, 4096 FC, classifier.
- VGG-16 and VGG-19 (Simonyan & Zisserman 2014, arXiv:1409.1556, configurations D and E): 3x3 convolutions in five
  stages, each closed by a 2x2/2 max-pool, then 4096 FC, dropout, 4096 FC, dropout, classifier.
- ``cifar10_cnn``, the classic Keras CIFAR-10 example (keras-team/keras ``examples/cifar10_cnn.py``): conv32 (same),
  conv32 (valid), 2x2 max-pool, dropout 0.25, conv64 (same), conv64 (valid), max-pool, dropout 0.25, flatten,
  dense 512, dropout, classifier.

No BatchNorm (as the papers, torchvision's ``alexnet`` / ``vgg16`` / ``vgg19`` and the tutorial): every layer has a
bias and a ReLU. The head flattens the last feature map; torchvision first average-pools it to 6x6 (AlexNet) or 7x7
(VGG), which is the identity at 224x224, so the counts there are torchvision's. At other sizes the first FC layer
takes the map as it is (a 32x32 VGG input ends on 1x1x512), the usual way to build these networks for small images.

``alpha`` scales every conv and the FC head with ``make_divisible(c * alpha, 8)`` (the papers' widths are multiples
of 8). Knobs: a stage is the convolutions before one pool; ``depth`` keeps the first ones of each stage. The head is
the hidden FC layers (``fc1``, ``fc2``): ``head_width`` sets them, ``scale_head`` changes nothing (they already
scale). ``stem_stride=1`` takes the downsampling out of the stem: AlexNet's first conv gets stride 1 instead of 4;
VGG, whose convolutions all have stride 1, loses its first max-pool (``block1_pool``); the tutorial CNN is built
for 32x32 and has no stem to adapt.
"""

from __future__ import annotations

from typing import NamedTuple

from edgecnn.training.zoo import blocks
from edgecnn.training.zoo.blocks import BuildConfig
from edgecnn.training.zoo.registry import make_divisible


class Conv(NamedTuple):
    """A convolution + ReLU: channels, kernel side, stride, padding (``"same"``, ``"valid"`` or pixels per side)."""

    filters: int
    kernel: int = 3
    stride: int = 1
    padding: int | str = "same"


class Pool(NamedTuple):
    """The max-pool that closes a stage, and the dropout after it (the tutorial CNN's 0.25)."""

    size: int
    stride: int
    dropout: float = 0.0


class Plain(NamedTuple):
    """A whole network: stages of convolutions each closed by a pool, the hidden FC widths, and whether dropout
    comes before each hidden FC layer (AlexNet) or after it (VGG, the tutorial)."""

    stages: tuple[tuple[tuple[Conv, ...], Pool], ...]
    fc: tuple[int, ...]
    dropout_first: bool = False


def _vgg(stage_convs: tuple[int, ...]) -> Plain:
    widths = (64, 128, 256, 512, 512)
    return Plain(tuple(((Conv(w),) * n, Pool(2, 2)) for w, n in zip(widths, stage_convs, strict=True)), (4096, 4096))


VARIANTS = {
    "alexnet": Plain(
        (
            ((Conv(64, 11, 4, padding=2),), Pool(3, 2)),
            ((Conv(192, 5),), Pool(3, 2)),
            ((Conv(384), Conv(256), Conv(256)), Pool(3, 2)),
        ),
        (4096, 4096),
        dropout_first=True,
    ),
    "vgg16": _vgg((2, 2, 3, 3, 3)),
    "vgg19": _vgg((2, 2, 4, 4, 4)),
    "cifar10_cnn": Plain(
        (
            ((Conv(32), Conv(32, padding="valid")), Pool(2, 2, dropout=0.25)),
            ((Conv(64), Conv(64, padding="valid")), Pool(2, 2, dropout=0.25)),
        ),
        (512,),
    ),
}


def build(cfg: BuildConfig):
    """Builds the Keras model for ``cfg`` (see :func:`edgecnn.training.zoo.build_model`)."""
    layers = blocks._layers()
    spec = VARIANTS[cfg.arch]
    inputs, x = blocks.model_input(cfg)
    for stage_id, (convs, pool) in enumerate(spec.stages, start=1):
        for conv_id, c in enumerate(convs[: cfg.repeats(len(convs))], start=1):
            stride = c.stride
            if stage_id == 1 and conv_id == 1 and cfg.stem_stride == 1:
                stride = 1
            x = blocks.conv_act(
                x,
                make_divisible(c.filters * cfg.alpha, 8),
                c.kernel,
                stride=stride,
                padding=c.padding,
                bn=False,
                name=f"block{stage_id}_conv{conv_id}",
            )
        # The stem knob on a network without a strided stem conv: drop the first pool instead.
        if not (stage_id == 1 and cfg.stem_stride == 1 and convs[0].stride == 1):
            x = blocks.max_pool(x, pool.size, pool.stride, name=f"block{stage_id}_pool")
        if pool.dropout:
            x = blocks.dropout(x, pool.dropout, name=f"block{stage_id}_dropout")
    x = layers.Flatten(name="flatten")(x)
    for fc_id, units in enumerate(spec.fc, start=1):
        if spec.dropout_first:
            x = blocks.dropout(x, cfg.dropout, name=f"fc{fc_id}_dropout")
        x = blocks.dense(x, cfg.head(units, make_divisible(units * cfg.alpha, 8)), name=f"fc{fc_id}", act="relu")
        if not spec.dropout_first:
            x = blocks.dropout(x, cfg.dropout, name=f"fc{fc_id}_dropout")
    x = blocks.dense(x, cfg.classes, name="logits")
    return blocks.make_model(inputs, blocks.softmax(x), cfg)

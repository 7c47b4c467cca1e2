"""The model registry: what each architecture is, its defaults, and up-front argument checks.

TensorFlow-free on purpose: the CLI validates ``edgecnn info`` / ``train`` arguments here before importing
TensorFlow, and ``edgecnn models`` lists the registry without loading it. The Keras builders live in one module
per family and are imported lazily by :func:`edgecnn.training.zoo.build_model`.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from dataclasses import dataclass, field

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.parsing import ImageSize, parse_size

#: In-model normalisation shared by every architecture: ``Rescaling(1/127.5, offset=-1)`` maps raw pixels
#: 0..255 to [-1, 1], i.e. ``(pixel - mean) / std`` with these values.
NORMALIZATION = {"mode": "in-model", "mean": 127.5, "std": 127.5, "range": [-1.0, 1.0]}


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Rounds a channel count to the nearest multiple of ``divisor``, never going down by more than 10%.

    The rule of the TF-slim MobileNet code that Keras (``_make_divisible`` / ``_depth``) and timm share; the one
    copy used by every builder in the zoo.

    Args:
        value: The unrounded channel count (e.g. ``filters * alpha``).
        divisor: The multiple to round to.
        min_value: Smallest result; defaults to ``divisor``.

    Returns:
        The rounded channel count.
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def scale_depth(repeats: int, depth: float) -> int:
    """The repeats a stage keeps under a depth multiplier: ``ceil(repeats * depth)``, at least 1.

    The product is rounded to 6 decimals first so that e.g. ``10 * 0.7`` (7.000000000000001 in floating point)
    keeps 7 blocks, not 8.
    """
    return max(1, math.ceil(round(repeats * depth, 6)))


#: Allowed strides of the first convolution: 2 is the papers' stem, 1 the usual adaptation for small inputs.
STEM_STRIDES = (1, 2)
#: The architecture knobs beside ``alpha`` and their defaults (the papers' architecture). A run recorded before a
#: knob existed reads as its default here.
ARCH_KNOBS: dict = {"stem_stride": 2, "head_width": None, "scale_head": False, "depth": 1.0}


@dataclass(frozen=True)
class ArchInfo:
    """What the registry knows about one architecture (TF-free; travels into the export metadata).

    Attributes:
        name: Registered name, e.g. ``mobilenet_v2``.
        family: Module under ``edgecnn.training.zoo`` holding the spec table and the Keras builder.
        description: One line for ``edgecnn models``.
        paper: Citation of the reference paper.
        keras_application: The ``keras.applications`` class with the same structure, if any.
        default_size: Input side the paper reports its headline numbers at.
        default_dropout: Dropout before the classifier.
        default_separable: Whether depthwise-separable convolutions are on by default.
        min_size: Smallest input side the strides allow (the last feature map is at least 1x1).
        total_stride: Downsampling factor from input to the last feature map.
        min_alpha: Exclusive lower bound for ``alpha`` beyond ``alpha > 0`` (V1 needs ``int(32 * alpha) >= 1``).
        imagenet_alphas: Width multipliers Keras publishes ImageNet weights for.
        imagenet_sizes: Input sides Keras publishes ImageNet weights for.
        normalization: How pixels are normalised (always in-model here; see :data:`NORMALIZATION`).
        head: The wide layer between the last stage and the classifier that ``head_width`` / ``scale_head``
            resize, with its paper width and rule, or None where the last stage feeds the classifier directly.
        stem_strides: The ``stem_stride`` values the architecture accepts (2 always means the paper's stem).
        min_size_stem1: Smallest input side with ``stem_stride=1`` when it differs from ``min_size``.
        separable_options: The ``separable`` values the architecture has a variant for.
    """

    name: str
    family: str
    description: str
    paper: str
    keras_application: str | None
    default_size: int = 224
    default_dropout: float = 0.2
    default_separable: bool = True
    min_size: int = 32
    total_stride: int = 32
    min_alpha: float = 0.0
    imagenet_alphas: tuple[float, ...] = ()
    imagenet_sizes: tuple[int, ...] = ()
    normalization: dict = field(default_factory=lambda: dict(NORMALIZATION))
    head: str | None = None
    stem_strides: tuple[int, ...] = STEM_STRIDES
    min_size_stem1: int | None = None
    separable_options: tuple[bool, ...] = (True, False)

    def min_side(self, stem_stride: int = 2) -> int:
        """The smallest input side for a stem stride."""
        return self.min_size_stem1 if stem_stride == 1 and self.min_size_stem1 else self.min_size

    def to_dict(self) -> dict:
        """A JSON-ready dict (for ``edgecnn models --json`` and the export metadata)."""
        return {
            "name": self.name,
            "description": self.description,
            "paper": self.paper,
            "keras_application": self.keras_application,
            "default_size": self.default_size,
            "default_alpha": 1.0,
            "default_dropout": self.default_dropout,
            "default_separable": self.default_separable,
            "min_size": self.min_size,
            "total_stride": self.total_stride,
            "imagenet_alphas": list(self.imagenet_alphas),
            "imagenet_sizes": list(self.imagenet_sizes),
            "normalization": dict(self.normalization),
            "head": self.head,
            "stem_strides": list(self.stem_strides),
            "min_size_stem1": self.min_side(1),
        }


_V1_PAPER = "Howard et al. 2017, MobileNets (arXiv:1704.04861)"
_V2_PAPER = "Sandler et al. 2018, MobileNetV2 (arXiv:1801.04381)"
_V3_PAPER = "Howard et al. 2019, Searching for MobileNetV3 (arXiv:1905.02244)"
_SQ_PAPER = "Iandola et al. 2016, SqueezeNet (arXiv:1602.07360)"
_ALEX_PAPER = "Krizhevsky 2014, One weird trick for parallelizing CNNs (arXiv:1404.5997), torchvision's AlexNet"
_VGG_PAPER = "Simonyan & Zisserman 2014, Very Deep Convolutional Networks (arXiv:1409.1556)"
_GOOGLENET_PAPER = "Szegedy et al. 2014, Going Deeper with Convolutions (arXiv:1409.4842)"
_RESNET_PAPER = "He et al. 2015, Deep Residual Learning (arXiv:1512.03385), torchvision's v1.5"
_RESNEXT_PAPER = "Xie et al. 2016, Aggregated Residual Transformations (arXiv:1611.05431)"
_CIFAR_CNN = "the Keras CIFAR-10 CNN example (keras-team/keras examples/cifar10_cnn.py)"
_FC_HEAD = "fc1, fc2 (4096 channels, scaled with alpha)"
#: What the classic baselines do not have: a depthwise-separable variant.
_NO_SEPARABLE = {"default_separable": False, "separable_options": (False,)}

_ARCHS = (
    ArchInfo(
        "mobilenet_v1",
        "mobilenet_v1",
        "MobileNet V1: 13 depthwise-separable conv blocks, ReLU6",
        _V1_PAPER,
        "MobileNet",
        min_alpha=1 / 32,
        imagenet_alphas=(0.25, 0.5, 0.75, 1.0),
        imagenet_sizes=(128, 160, 192, 224),
        head="conv_pw_13 (the last pointwise conv: int(1024 * alpha), always scaled)",
    ),
    ArchInfo(
        "mobilenet_v2",
        "mobilenet_v2",
        "MobileNet V2: 17 inverted residual blocks with linear bottlenecks",
        _V2_PAPER,
        "MobileNetV2",
        imagenet_alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4),
        imagenet_sizes=(96, 128, 160, 192, 224),
        head="Conv_1 (1280 channels, scaled only when alpha > 1)",
    ),
    ArchInfo(
        "mobilenet_v3_small",
        "mobilenet_v3",
        "MobileNet V3 Small: 11 inverted residuals, SE, hard-swish",
        _V3_PAPER,
        "MobileNetV3Small",
        imagenet_alphas=(0.75, 1.0),
        imagenet_sizes=(224,),
        head="conv_2 (1024 channels, scaled only when alpha > 1)",
    ),
    ArchInfo(
        "mobilenet_v3_large",
        "mobilenet_v3",
        "MobileNet V3 Large: 15 inverted residuals, SE, hard-swish",
        _V3_PAPER,
        "MobileNetV3Large",
        imagenet_alphas=(0.75, 1.0),
        imagenet_sizes=(224,),
        head="conv_2 (1280 channels, scaled only when alpha > 1)",
    ),
    ArchInfo(
        "squeezenet_1_0",
        "squeezenet",
        "SqueezeNet 1.0: 7x7 stem and 8 fire modules, no BatchNorm",
        _SQ_PAPER,
        None,
        default_dropout=0.5,
        default_separable=False,
        total_stride=16,
    ),
    ArchInfo(
        "squeezenet_1_1",
        "squeezenet",
        "SqueezeNet 1.1: 3x3 stem, earlier pooling, ~2.4x fewer MACs than 1.0",
        _SQ_PAPER,
        None,
        default_dropout=0.5,
        default_separable=False,
        total_stride=16,
    ),
    ArchInfo(
        "alexnet",
        "plain",
        "AlexNet (torchvision): 5 convs (11x11/4 stem), 3 max-pools, two 4096 FC layers; no BatchNorm",
        _ALEX_PAPER,
        None,
        default_dropout=0.5,
        min_size=63,
        min_size_stem1=32,
        head=_FC_HEAD,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "vgg16",
        "plain",
        "VGG-16 (configuration D): 13 3x3 convs in 5 stages, two 4096 FC layers; no BatchNorm",
        _VGG_PAPER,
        None,
        default_dropout=0.5,
        head=_FC_HEAD,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "vgg19",
        "plain",
        "VGG-19 (configuration E): 16 3x3 convs in 5 stages, two 4096 FC layers; no BatchNorm",
        _VGG_PAPER,
        None,
        default_dropout=0.5,
        head=_FC_HEAD,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "googlenet",
        "googlenet",
        "GoogLeNet / Inception v1 (torchvision, no auxiliary heads): 9 inception modules, BatchNorm",
        _GOOGLENET_PAPER,
        None,
        default_dropout=0.4,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "resnet18",
        "resnet",
        "ResNet-18: 8 basic residual blocks (two 3x3 convs), BatchNorm",
        _RESNET_PAPER,
        None,
        default_dropout=0.0,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "resnet50",
        "resnet",
        "ResNet-50 (v1.5, stride on the 3x3): 16 bottleneck blocks, BatchNorm",
        _RESNET_PAPER,
        None,
        default_dropout=0.0,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "resnext50_32x4d",
        "resnet",
        "ResNeXt-50 32x4d: ResNet-50 with 32-group 3x3 convs twice as wide",
        _RESNEXT_PAPER,
        None,
        default_dropout=0.0,
        **_NO_SEPARABLE,
    ),
    ArchInfo(
        "cifar10_cnn",
        "plain",
        "The classic Keras CIFAR-10 tutorial CNN: conv32 x2, pool, conv64 x2, pool, dense 512; no BatchNorm",
        _CIFAR_CNN,
        None,
        default_size=32,
        default_dropout=0.5,
        min_size=10,
        total_stride=4,
        head="fc1 (512 channels, scaled with alpha)",
        stem_strides=(2,),
        **_NO_SEPARABLE,
    ),
)

REGISTRY: dict[str, ArchInfo] = {info.name: info for info in _ARCHS}


def list_models(pattern: str = "*") -> list[str]:
    """Registered architecture names matching an fnmatch pattern (e.g. ``"mobilenet_v3*"``), sorted."""
    return sorted(name for name in REGISTRY if fnmatch.fnmatchcase(name, pattern))


def get_arch_info(name: str) -> ArchInfo:
    """The :class:`ArchInfo` of a registered architecture.

    Raises:
        EdgeCNNError: If ``name`` is not registered; suggests the closest names.
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        pass
    # Also accept common spellings: "mobilenetv2", "MobileNet-V2", "squeezenet1.1".
    canon = str(name).lower().replace("-", "_").replace(".", "_")
    for candidate in REGISTRY:
        if candidate.replace("_", "") == canon.replace("_", ""):
            return REGISTRY[candidate]
    close = difflib.get_close_matches(canon, list(REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise EdgeCNNError(f"unknown architecture {name!r}{hint} (known: {', '.join(REGISTRY)})")


def input_size(size: int | str | ImageSize | tuple[int, int] | list[int]) -> ImageSize:
    """A model's input size from what :func:`validate_build_args` takes.

    Accepts an int (square), a ``"WIDTHxHEIGHT"`` string (the one order every ``--size`` flag uses, see
    :func:`edgecnn.core.parsing.parse_size`), an :class:`~edgecnn.core.parsing.ImageSize`, or a ``(height, width)``
    pair: the Keras order, which run directories store in ``config.json`` (``"size": [h, w]``).

    Raises:
        EdgeCNNError: If the value is none of these.
    """
    if isinstance(size, tuple | list):
        return ImageSize.from_hw(size)
    return parse_size(size)


def validate_build_args(
    arch: str,
    alpha: float = 1.0,
    size: int | str | ImageSize | tuple[int, int] = 224,
    channels: int = 3,
    classes: int = 1000,
    stem_stride: int = 2,
) -> tuple[ArchInfo, tuple[int, int]]:
    """Checks the arguments of :func:`edgecnn.training.zoo.build_model` without importing TensorFlow.

    ``stem_stride`` only sets the smallest allowed size here (AlexNet's 11x11/4 stem needs 63 pixels, 32 with
    stride 1); :func:`validate_knobs` checks the value itself.

    Returns:
        The architecture's :class:`ArchInfo` and the input's ``(height, width)`` (the Keras order; see
        :func:`input_size` for what ``size`` may be).

    Raises:
        EdgeCNNError: Naming the bad argument and repeating the value received.
    """
    info = get_arch_info(arch)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not math.isfinite(alpha) or alpha <= 0:
        raise EdgeCNNError(f"alpha must be a number > 0. Received alpha={alpha!r}")
    if alpha < info.min_alpha:
        raise EdgeCNNError(
            f"alpha must be >= {info.min_alpha:g} for {info.name} (smaller widths round a layer to 0 channels). "
            f"Received alpha={alpha!r}"
        )
    shape = input_size(size)
    least = info.min_side(stem_stride)
    if min(shape.width, shape.height) < least:
        stem = "" if least == info.min_size else f", stem stride {stem_stride}"
        hint = f"; {info.min_side(1)} with stem stride 1" if info.min_side(1) < least else ""
        raise EdgeCNNError(
            f"size must be at least {least}x{least} for {info.name} (total stride {info.total_stride}{stem}{hint}). "
            f"Received size={shape}",
            param="size",
        )
    if isinstance(channels, bool) or channels not in (1, 3):
        raise EdgeCNNError(f"channels must be 1 (grayscale) or 3 (color). Received channels={channels!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise EdgeCNNError(f"classes must be an integer >= 2. Received classes={classes!r}")
    return info, shape.hw


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def validate_knobs(
    arch: str | ArchInfo,
    *,
    stem_stride: int = 2,
    head_width: int | None = None,
    scale_head: bool = False,
    depth: float = 1.0,
) -> dict:
    """Checks the architecture knobs of :func:`edgecnn.training.zoo.build_model` without importing TensorFlow.

    Args:
        arch: Registered name or its :class:`ArchInfo`.
        stem_stride: Stride of the first convolution, one of :data:`STEM_STRIDES`.
        head_width: Channels of the architecture's head layer (:attr:`ArchInfo.head`), or None for the paper's.
        scale_head: Scale the head with ``alpha`` at every width (V2/V3 keep it fixed for ``alpha <= 1``).
        depth: Depth multiplier in (0, 1]: every stage keeps ``ceil(repeats * depth)`` blocks, at least 1.

    Returns:
        The knobs as a dict with the keys of :data:`ARCH_KNOBS` (numbers normalised to int / float).

    Raises:
        EdgeCNNError: Naming the bad knob and repeating the value received.
    """
    info = arch if isinstance(arch, ArchInfo) else get_arch_info(arch)
    if isinstance(stem_stride, bool) or stem_stride not in STEM_STRIDES:
        raise EdgeCNNError(f"stem stride must be 1 or 2. Received stem_stride={stem_stride!r}")
    if stem_stride not in info.stem_strides:
        raise EdgeCNNError(
            f"{info.name} has no stem to adapt (it is built for small inputs); stem stride must be "
            f"{' or '.join(str(s) for s in info.stem_strides)}. Received stem_stride={stem_stride!r}"
        )
    if head_width is not None and (isinstance(head_width, bool) or not isinstance(head_width, int) or head_width < 1):
        raise EdgeCNNError(f"head width must be an integer >= 1. Received head_width={head_width!r}")
    if not isinstance(scale_head, bool):
        raise EdgeCNNError(f"scale_head must be True or False. Received scale_head={scale_head!r}")
    if head_width is not None and scale_head:
        raise EdgeCNNError("use either head_width (an explicit width) or scale_head (scaled with alpha), not both")
    if (head_width is not None or scale_head) and info.head is None:
        raise EdgeCNNError(
            f"{info.name} has no head layer to resize (its last stage feeds the classifier); "
            "drop head_width / scale_head"
        )
    if not _is_number(depth) or not 0 < depth <= 1:
        raise EdgeCNNError(f"depth must be a number in (0, 1]. Received depth={depth!r}")
    return {
        "stem_stride": int(stem_stride),
        "head_width": None if head_width is None else int(head_width),
        "scale_head": bool(scale_head),
        "depth": float(depth),
    }

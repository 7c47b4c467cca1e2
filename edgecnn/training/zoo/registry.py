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
        }


_V1_PAPER = "Howard et al. 2017, MobileNets (arXiv:1704.04861)"
_V2_PAPER = "Sandler et al. 2018, MobileNetV2 (arXiv:1801.04381)"
_V3_PAPER = "Howard et al. 2019, Searching for MobileNetV3 (arXiv:1905.02244)"
_SQ_PAPER = "Iandola et al. 2016, SqueezeNet (arXiv:1602.07360)"

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


def parse_size(size: int | str | tuple[int, int] | list[int]) -> tuple[int, int]:
    """Normalises an input size to ``(height, width)``.

    Accepts an int (square), a ``(height, width)`` pair, or a string ``"224"`` / ``"160x120"`` (height x width).

    Raises:
        EdgeCNNError: If the value cannot be read as one or two positive integers.
    """
    original = size
    if isinstance(size, str):
        parts = size.lower().replace(",", "x").split("x")
        try:
            size = tuple(int(p) for p in parts)
        except ValueError:
            raise EdgeCNNError(f"size must be an integer or HEIGHTxWIDTH. Received size={original!r}") from None
    if isinstance(size, bool):
        raise EdgeCNNError(f"size must be an integer or (height, width). Received size={original!r}")
    if isinstance(size, int):
        size = (size, size)
    if (
        not isinstance(size, tuple | list)
        or len(size) not in (1, 2)
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in size)
    ):
        raise EdgeCNNError(f"size must be an integer or (height, width). Received size={original!r}")
    if len(size) == 1:
        size = (size[0], size[0])
    return int(size[0]), int(size[1])


def validate_build_args(
    arch: str,
    alpha: float = 1.0,
    size: int | str | tuple[int, int] = 224,
    channels: int = 3,
    classes: int = 1000,
) -> tuple[ArchInfo, tuple[int, int]]:
    """Checks the arguments of :func:`edgecnn.training.zoo.build_model` without importing TensorFlow.

    Returns:
        The architecture's :class:`ArchInfo` and the normalised ``(height, width)``.

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
    height, width = parse_size(size)
    if min(height, width) < info.min_size:
        raise EdgeCNNError(
            f"size must be at least {info.min_size}x{info.min_size} for {info.name} "
            f"(total stride {info.total_stride}). Received size={height}x{width}"
        )
    if isinstance(channels, bool) or channels not in (1, 3):
        raise EdgeCNNError(f"channels must be 1 (grayscale) or 3 (color). Received channels={channels!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise EdgeCNNError(f"classes must be an integer >= 2. Received classes={classes!r}")
    return info, (height, width)


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

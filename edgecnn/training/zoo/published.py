"""Published parameter and multiply-accumulate counts, the yardstick for :func:`edgecnn.training.zoo.profile_model`.

Each row names its source. The papers' parameter counts exclude BatchNorm (folded into the convolutions), so they
compare with :attr:`edgecnn.training.zoo.ModelProfile.inference_params`; torchvision's ``num_params`` is
``sum(p.numel() for p in model.parameters())``, which counts BatchNorm's scale and shift but not its running
statistics, i.e. :attr:`~edgecnn.training.zoo.ModelProfile.trainable_params` (``params_kind="trainable"``).
torchvision's ``_ops`` (the "GFLOPS" column of its docs) counts multiply-accumulates like ours. TF-slim's checkpoints
have 1001 classes (a background class), the papers' and torchvision's 1000.
"""

from __future__ import annotations

from typing import NamedTuple

V1_PAPER = "MobileNets paper (arXiv:1704.04861)"
V2_PAPER = "MobileNetV2 paper (arXiv:1801.04381) Table 4"
V2_SLIM = "TF-slim MobileNetV2 checkpoint table (tensorflow/models research/slim/nets/mobilenet/README.md)"
V3_PAPER = "MobileNetV3 paper (arXiv:1905.02244) Table 3"
TORCHVISION = "torchvision <Model>_Weights.IMAGENET1K_V1 meta (num_params; _ops, in GMACs), torchvision/models/*.py"
GOOGLENET_PAPER = "GoogLeNet paper (arXiv:1409.4842): 1.5G multiply-adds (Sec. 1), Table 1's params column summed"
CIFAR10_CNN = "Keras examples/cifar10_cnn.py, model.summary(): 1,250,858 parameters (32x32x3, 10 classes)"


class Published(NamedTuple):
    """One published (architecture, alpha, size, separable) data point."""

    arch: str
    alpha: float
    size: int
    separable: bool
    macs_m: float | None
    params_m: float
    source: str
    note: str = ""
    #: False where the published parameter count is known to be inconsistent (kept for the record, not tested).
    params_check: bool = True
    #: Which of our counts the published one compares with: "inference" (BatchNorm folded) or "trainable".
    params_kind: str = "inference"
    classes: int = 1000


PUBLISHED: tuple[Published, ...] = (
    Published("mobilenet_v1", 1.0, 224, True, 569, 4.2, f"{V1_PAPER} Tables 4, 6, 7"),
    Published("mobilenet_v1", 0.75, 224, True, 325, 2.6, f"{V1_PAPER} Table 6"),
    Published("mobilenet_v1", 0.5, 224, True, 149, 1.3, f"{V1_PAPER} Table 6"),
    Published("mobilenet_v1", 0.25, 224, True, 41, 0.5, f"{V1_PAPER} Table 6"),
    Published("mobilenet_v1", 1.0, 192, True, 418, 4.2, f"{V1_PAPER} Table 7"),
    Published("mobilenet_v1", 1.0, 160, True, 290, 4.2, f"{V1_PAPER} Table 7"),
    Published("mobilenet_v1", 1.0, 128, True, 186, 4.2, f"{V1_PAPER} Table 7"),
    Published("mobilenet_v1", 1.0, 224, False, 4866, 29.3, f"{V1_PAPER} Table 4 (Conv MobileNet)"),
    Published("mobilenet_v2", 1.0, 224, True, 300, 3.4, V2_PAPER),
    Published(
        "mobilenet_v2",
        1.4,
        224,
        True,
        585,
        6.9,
        V2_PAPER,
        "the paper's 6.9M disagrees with the authors' own 1.4 checkpoint (6.06M, next row)",
        params_check=False,
    ),
    Published("mobilenet_v2", 1.4, 224, True, 582, 6.06, V2_SLIM),
    Published("mobilenet_v2", 0.75, 224, True, 209, 2.61, V2_SLIM),
    Published("mobilenet_v2", 0.5, 224, True, 97, 1.95, V2_SLIM),
    Published("mobilenet_v2", 0.35, 224, True, 59, 1.66, V2_SLIM),
    Published("mobilenet_v2", 1.0, 128, True, 99, 3.47, V2_SLIM),
    Published("mobilenet_v2", 1.0, 96, True, 56, 3.47, V2_SLIM),
    Published("mobilenet_v3_large", 1.0, 224, True, 219, 5.4, V3_PAPER),
    Published("mobilenet_v3_large", 0.75, 224, True, 155, 4.0, V3_PAPER),
    Published("mobilenet_v3_small", 1.0, 224, True, 56, 2.5, V3_PAPER),
    Published("mobilenet_v3_small", 0.75, 224, True, 44, 2.0, V3_PAPER),
    Published(
        "squeezenet_1_0",
        1.0,
        224,
        False,
        819,
        1.248424,
        TORCHVISION,
        "the SqueezeNet paper (Table 2) gives 1.2M parameters and no MACs",
    ),
    Published("squeezenet_1_1", 1.0, 224, False, 349, 1.235496, TORCHVISION),
    Published("alexnet", 1.0, 224, False, 714, 61.10084, TORCHVISION, params_kind="trainable"),
    Published("vgg16", 1.0, 224, False, 15470, 138.357544, TORCHVISION, params_kind="trainable"),
    Published("vgg19", 1.0, 224, False, 19632, 143.66724, TORCHVISION, params_kind="trainable"),
    Published("googlenet", 1.0, 224, False, 1498, 6.624904, TORCHVISION, params_kind="trainable"),
    Published(
        "googlenet",
        1.0,
        224,
        False,
        1500,
        6.8,
        GOOGLENET_PAPER,
        "the paper draws 5x5 kernels in the third branch; torchvision and ours use 3x3 (torchvision issue #906)",
    ),
    Published("resnet18", 1.0, 224, False, 1814, 11.689512, TORCHVISION, params_kind="trainable"),
    Published("resnet50", 1.0, 224, False, 4089, 25.557032, TORCHVISION, params_kind="trainable"),
    Published("resnext50_32x4d", 1.0, 224, False, 4230, 25.028904, TORCHVISION, params_kind="trainable"),
    Published("cifar10_cnn", 1.0, 32, False, None, 1.250858, CIFAR10_CNN, params_kind="trainable", classes=10),
)


def our_params(pub: Published, profile) -> int:
    """The count of ``profile`` (a :class:`~edgecnn.training.zoo.ModelProfile`) that ``pub`` compares with."""
    return profile.trainable_params if pub.params_kind == "trainable" else profile.inference_params

"""Published parameter and multiply-accumulate counts, the yardstick for :func:`edgecnn.training.zoo.profile_model`.

Each row names its source. Published parameter counts exclude BatchNorm (folded into the convolutions), so they
compare with :attr:`edgecnn.training.zoo.ModelProfile.inference_params`; TF-slim's checkpoints have 1001 classes (a
background class), the papers' and torchvision's 1000.
"""

from __future__ import annotations

from typing import NamedTuple

V1_PAPER = "MobileNets paper (arXiv:1704.04861)"
V2_PAPER = "MobileNetV2 paper (arXiv:1801.04381) Table 4"
V2_SLIM = "TF-slim MobileNetV2 checkpoint table (tensorflow/models research/slim/nets/mobilenet/README.md)"
V3_PAPER = "MobileNetV3 paper (arXiv:1905.02244) Table 3"
TORCHVISION = "torchvision SqueezeNet1_x_Weights meta (num_params, _ops)"


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
)

"""Published reference points a Fashion-MNIST sweep is drawn against: the dataset's own benchmark table.

The rows are CNN entries of the "submitted benchmarks" table in the zalandoresearch/fashion-mnist README
(:data:`SOURCE`), copied as data: name, test accuracy, the parameter count where the entry states one, and the
preprocessing it lists. The table's maintainers note they have not verified these results and that epochs and batch
sizes differ between entries. The report and the plots show them only for a sweep on Fashion-MNIST
(:func:`applies_to`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

SOURCE = (
    "zalandoresearch/fashion-mnist README, Benchmark: submitted results (commit 02cf067), "
    "https://github.com/zalandoresearch/fashion-mnist#benchmark"
)


class Reference(NamedTuple):
    """One published Fashion-MNIST result.

    Attributes:
        name: The entry as the table names it.
        accuracy: Test accuracy (fraction) on the 10,000 test images.
        params: Parameter count where the entry gives one, else None.
        params_bound: True where ``params`` is an upper bound ("<100K parameters").
        preprocessing: The entry's preprocessing/augmentation column.
        label: Short label for the plots, or "" to list the row in the report only.
    """

    name: str
    accuracy: float
    params: int | None
    params_bound: bool
    preprocessing: str
    label: str = ""


FASHION_MNIST: tuple[Reference, ...] = (
    Reference("2 Conv Layers with max pooling (Keras)", 0.876, None, False, "None"),
    Reference("2 Conv Layers with max pooling (Tensorflow) >300 epochs", 0.916, None, False, "None"),
    Reference("2 Conv Layers net <100K parameters", 0.925, 100_000, True, "None", "2-conv CNN <100K"),
    Reference("2 Conv Layers 113K parameters", 0.922, 113_000, False, "Normalization"),
    Reference("2 Conv Layers with 3 FC 1.8M parameters", 0.932, 1_800_000, False, "Normalization", "2-conv+3FC 1.8M"),
    Reference("3 Conv+pooling and 2 FC+dropout", 0.926, None, False, "None"),
    Reference(
        "DenseNet-BC 768K params",
        0.954,
        768_000,
        False,
        "mean/std normalisation, random crops, horizontal flips",
        "DenseNet-BC 768K",
    ),
    Reference("WRN40-4 8.9M params", 0.967, 8_900_000, False, "mean/std normalisation, random crops, horizontal flips"),
    Reference("MobileNet", 0.950, None, False, "horizontal flips", "MobileNet"),
    Reference(
        "ResNet18",
        0.949,
        None,
        False,
        "normalisation, random horizontal and vertical flips, translation, rotation",
        "ResNet18",
    ),
    Reference("GoogleNet with cross-entropy loss", 0.937, None, False, "None"),
    Reference("AlexNet with Triplet loss", 0.899, None, False, "None"),
    Reference("SqueezeNet with cyclical learning rate 200 epochs", 0.900, None, False, "None", "SqueezeNet"),
    Reference("VGG16 26M parameters", 0.935, 26_000_000, False, "None", "VGG16 26M"),
    Reference(
        "WRN-28-10 + Random Erasing", 0.963, None, False, "mean/std normalisation, random crops, flips, random erasing"
    ),
)


def applies_to(data: str | None) -> bool:
    """Whether a sweep's ``--data`` is Fashion-MNIST: the dataset name, or a path that names it.

    ``fashion_mnist``, ``/usr/share/datasets/fashion-mnist``, ``~/data/FashionMNIST`` match; other data does not
    (the reference points would mean nothing there).
    """
    text = re.sub(r"[^a-z]", "", str(data or "").lower())
    return "fashionmnist" in text


def plotted(references: tuple[Reference, ...] = FASHION_MNIST) -> list[Reference]:
    """The references drawn on the plots (those with a label)."""
    return [ref for ref in references if ref.label]


def int8_kb(params: int) -> float:
    """The weight bytes of ``params`` parameters stored as int8 (one byte each), in KB: an int8 file's floor."""
    return params / 1024

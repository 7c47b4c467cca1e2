"""Pretrained weights for zoo models: Keras' ImageNet weights or a local weights file, transferred by layer name.

The zoo's layer names equal ``keras.applications``' names for every layer that holds weights, so a source model
built by Keras (``weights="imagenet"``, or ``weights=None`` plus a local file) hands its weights over layer by
layer. The classifier head is transferred only when the class counts agree; everything else must match exactly
(a mismatch means the file is for another architecture, width or channel count, and is reported as such).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.zoo.registry import ArchInfo, get_arch_info

#: Weight-holding layers whose shapes depend on the class count, per family.
HEAD_LAYERS = {
    "mobilenet_v1": ("conv_preds",),
    "mobilenet_v2": ("predictions",),
    "mobilenet_v3": ("conv_2", "logits"),
    "squeezenet": ("conv10",),
    "plain": ("logits",),
    "googlenet": ("logits",),
    "resnet": ("logits",),
}
_WEIGHT_SUFFIXES = (".weights.h5", ".h5", ".hdf5", ".keras")


@dataclass
class TransferReport:
    """What :func:`load_pretrained` did.

    Attributes:
        source: ``"imagenet"`` or the weights file path.
        copied: Names of the layers whose weights were copied.
        skipped: Names of the layers left as initialised (the classifier head when class counts differ).
    """

    source: str
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _model_config(model) -> tuple[int, int, int, int]:
    height, width, channels = (int(d) for d in model.inputs[0].shape[1:])
    classes = int(model.outputs[0].shape[-1])
    return height, width, channels, classes


def _check_separable(model, info: ArchInfo) -> None:
    has_depthwise = any(type(layer).__name__ == "DepthwiseConv2D" for layer in model.layers)
    if info.keras_application and not has_depthwise:
        raise EdgeCNNError(
            f"pretrained {info.name} weights exist only for the depthwise-separable model; build it with "
            "separable=True (drop --no-separable)"
        )


def _keras_source(
    info: ArchInfo,
    alpha: float,
    height: int,
    width: int,
    channels: int,
    *,
    include_top: bool,
    classes: int,
    weights: str | None,
):
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    factory = getattr(keras.applications, info.keras_application)
    kwargs = {"alpha": alpha, "include_top": include_top, "weights": weights, "input_shape": (height, width, channels)}
    if include_top:
        kwargs["classes"] = classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about non-3-channel inputs and default-size weights
        return factory(**kwargs)


def _imagenet_source(info: ArchInfo, alpha: float, height: int, width: int, channels: int, classes: int):
    if info.keras_application is None:
        raise EdgeCNNError(f"no ImageNet weights are published for {info.name}; pass a local weights file instead")
    if channels != 3:
        raise EdgeCNNError(f"ImageNet weights need channels=3 (color input). Received channels={channels}")
    if float(alpha) not in info.imagenet_alphas:
        valid = ", ".join(f"{a:g}" for a in info.imagenet_alphas)
        raise EdgeCNNError(f"ImageNet weights for {info.name} exist for alpha in {{{valid}}}. Received alpha={alpha:g}")
    # Convolution weights do not depend on the input size; like Keras, use the weights trained at this size when
    # they exist and the 224x224 ones otherwise.
    rows = height if height == width and height in info.imagenet_sizes else 224
    if rows != height or rows != width:
        sizes = ", ".join(str(s) for s in info.imagenet_sizes)
        warnings.warn(
            f"ImageNet weights for {info.name} exist for sizes {{{sizes}}}; using the {rows}x{rows} weights "
            f"for a {height}x{width} model",
            stacklevel=3,
        )
    include_top = classes == 1000
    try:
        return _keras_source(info, alpha, rows, rows, 3, include_top=include_top, classes=1000, weights="imagenet")
    except Exception as exc:  # Keras raises a bare Exception on download failure
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EdgeCNNError(
            f"could not get ImageNet weights for {info.name} alpha={alpha:g} ({reason}); download the "
            "keras.applications weights file elsewhere and pass its local path instead of 'imagenet'"
        ) from None


def _file_source(info: ArchInfo, alpha: float, path: str, height: int, width: int, channels: int, classes: int):
    from edgecnn.training._tf import import_tf

    _, keras = import_tf()
    if not os.path.exists(path):
        raise EdgeCNNError(f"weights file not found: {path}")
    if os.path.isdir(path) or not path.endswith(_WEIGHT_SUFFIXES):
        raise EdgeCNNError(f"weights must be 'imagenet' or a {'/'.join(_WEIGHT_SUFFIXES)} file. Received {path}")
    if path.endswith(".keras") or _is_full_h5_model(path):
        try:
            return keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise EdgeCNNError(f"cannot load model file {path}: {str(exc).splitlines()[0]}") from None
    # A weights-only file: load it into a freshly built source of the same configuration whose variables are all
    # NaN, skipping whatever does not fit; layers still NaN afterwards were not in the file (or had other shapes).
    # This accepts files with or without a classifier head and with any class count.
    if info.keras_application:
        source = _keras_source(info, alpha, height, width, channels, include_top=True, classes=classes, weights=None)
    else:
        from edgecnn.training.zoo import build_model

        source = build_model(info.name, alpha=alpha, size=(height, width), channels=channels, classes=classes)
    for variable in source.weights:
        variable.assign(np.full(variable.shape, np.nan, dtype=variable.dtype))
    legacy = path.endswith((".h5", ".hdf5")) and not path.endswith(".weights.h5")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if legacy:
                source.load_weights(path, by_name=True, skip_mismatch=True)
            else:
                source.load_weights(path, skip_mismatch=True)
    except Exception as exc:
        raise EdgeCNNError(f"cannot load weights file {path}: {str(exc).splitlines()[0]}") from None
    return source


def _is_full_h5_model(path: str) -> bool:
    if not path.endswith((".h5", ".hdf5")) or path.endswith(".weights.h5"):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs
    except OSError as exc:
        raise EdgeCNNError(f"cannot read weights file {path}: {exc}") from None


def transfer_weights(source, target, head_layers: tuple[str, ...] = ()) -> TransferReport:
    """Copies weights from ``source`` into ``target`` by layer name.

    Args:
        source: A Keras model with the same layer names.
        target: The zoo model to fill.
        head_layers: Layers to leave as initialised when their shapes differ (the classifier head).

    Returns:
        A :class:`TransferReport` (``source`` left empty).

    Raises:
        EdgeCNNError: If a weight-holding layer of ``target`` is missing from ``source`` or has other shapes.
    """
    report = TransferReport(source="")
    by_name = {layer.name: layer for layer in source.layers if layer.weights}
    for layer in target.layers:
        if not layer.weights:
            continue
        src = by_name.get(layer.name)
        target_shapes = [tuple(w.shape) for w in layer.weights]
        source_shapes = [tuple(w.shape) for w in src.weights] if src is not None else None
        values = src.get_weights() if src is not None else []
        if source_shapes == target_shapes and any(np.isnan(v).any() for v in values):
            source_shapes = None  # not in the weights file (see _file_source)
        if source_shapes != target_shapes:
            if layer.name in head_layers:
                report.skipped.append(layer.name)
                continue
            found = f"shapes {source_shapes}" if source_shapes else "nothing for it"
            raise EdgeCNNError(
                f"pretrained weights do not fit layer {layer.name!r}: model has shapes {target_shapes}, "
                f"weights have {found} (another architecture, alpha or channel count?)"
            )
        layer.set_weights(values)
        report.copied.append(layer.name)
    return report


def load_pretrained(model, arch: str, alpha: float, weights: str) -> TransferReport:
    """Loads pretrained weights into a model built by :func:`edgecnn.training.zoo.build_model`.

    Args:
        model: The zoo model (its input shape and class count are read from it).
        arch: Its registered architecture name.
        alpha: Its width multiplier.
        weights: ``"imagenet"`` (Keras downloads and caches the ``keras.applications`` file; needs channels=3
            and an alpha Keras publishes) or the path of a local ``.h5`` / ``.weights.h5`` / ``.keras`` file
            holding weights of the same architecture and alpha (a ``keras.applications`` model's or a zoo
            model's).

    Returns:
        What was copied and what was left as initialised (the classifier head when class counts differ).

    Raises:
        EdgeCNNError: On a download failure, an unusable file, or a configuration without such weights.
    """
    info = get_arch_info(arch)
    _check_separable(model, info)
    height, width, channels, classes = _model_config(model)
    if weights == "imagenet":
        source = _imagenet_source(info, alpha, height, width, channels, classes)
    else:
        source = _file_source(info, alpha, os.fspath(weights), height, width, channels, classes)
    try:
        report = transfer_weights(source, model, HEAD_LAYERS[info.family])
    except EdgeCNNError as exc:
        raise EdgeCNNError(f"{weights}: {exc}") from None
    report.source = str(weights)
    return report

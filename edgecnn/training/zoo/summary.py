"""One JSON-ready description of a zoo model at given settings: what ``edgecnn info`` prints."""

from __future__ import annotations

from edgecnn.training.zoo.registry import validate_build_args, validate_knobs


def summarize_model(
    arch: str,
    *,
    alpha: float = 1.0,
    size: int | str | tuple[int, int] | None = None,
    channels: int = 3,
    classes: int = 1000,
    separable: bool | None = None,
    stem_stride: int = 2,
    head_width: int | None = None,
    scale_head: bool = False,
    depth: float = 1.0,
    include_layers: bool = False,
) -> dict:
    """Builds the model and reports its configuration, parameters, MACs and estimated file sizes.

    Arguments are validated before TensorFlow is imported, so bad input fails instantly.

    Args:
        arch: Registered architecture name.
        alpha: Width multiplier.
        size: Input side, ``"WIDTHxHEIGHT"`` or a ``(height, width)`` pair; None for the architecture's default.
        channels: 1 or 3.
        classes: Number of classes.
        separable: Depthwise-separable convolutions; None for the architecture's default.
        stem_stride: Stride of the first convolution (2: the papers; 1: for small inputs).
        head_width: Channels of the head layer; None for the paper's.
        scale_head: Scale the head with alpha at every width.
        depth: Depth multiplier in (0, 1].
        include_layers: Add the per-layer rows under ``"layers"``.

    Returns:
        A dict with ``arch, alpha, size, height, width, channels, classes, separable, stem_stride, head_width,
        scale_head, depth, params,
        trainable_params, inference_params, macs, est_float32_bytes, est_int8_bytes, sizes_are_estimates``
        (and ``layers``).

    Raises:
        EdgeCNNError: On an unknown architecture or an invalid argument.
    """
    from edgecnn.training.zoo import build_model, get_arch_info, profile_model

    info = get_arch_info(arch)
    _, (height, width) = validate_build_args(
        info.name, alpha, info.default_size if size is None else size, channels, classes, stem_stride=stem_stride
    )
    knobs = validate_knobs(info, stem_stride=stem_stride, head_width=head_width, scale_head=scale_head, depth=depth)
    separable = info.default_separable if separable is None else separable
    model = build_model(
        info.name,
        alpha=alpha,
        size=(height, width),
        channels=channels,
        classes=classes,
        separable=separable,
        **knobs,
    )
    prof = profile_model(model).to_dict(include_layers=include_layers)
    out = {
        "arch": info.name,
        "alpha": float(alpha),
        "size": height if height == width else [height, width],
        "height": height,
        "width": width,
        "channels": channels,
        "classes": classes,
        "separable": bool(separable),
        **knobs,
        "params": prof["params"],
        "trainable_params": prof["trainable_params"],
        "inference_params": prof["inference_params"],
        "macs": prof["macs"],
        "est_float32_bytes": prof["est_float32_bytes"],
        "est_int8_bytes": prof["est_int8_bytes"],
        "sizes_are_estimates": True,
        "normalization": dict(info.normalization),
    }
    if include_layers:
        out["layers"] = prof["layers"]
    return out

"""``edgecnn info ARCH``: parameters, MACs and estimated file sizes of a zoo model at given settings."""

from __future__ import annotations

import typer

from edgecnn.cli import _options
from edgecnn.cli._app import command, echo_json


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def format_info(summary: dict) -> str:
    """Plain-text rendering of :func:`edgecnn.training.zoo.summary.summarize_model` output."""
    s = summary
    side = f"{s['width']}x{s['height']}"  # WIDTHxHEIGHT, as --size takes it
    lines = [
        f"{s['arch']}  alpha={s['alpha']:g}  size={side}  channels={s['channels']}  classes={s['classes']}  "
        f"separable={'yes' if s['separable'] else 'no'}"
        + (f"  stem stride={s['stem_stride']}" if s.get("stem_stride", 2) != 2 else "")
        + (f"  head width={s['head_width']}" if s.get("head_width") is not None else "")
        + ("  scaled head" if s.get("scale_head") else "")
        + (f"  depth={s['depth']:g}" if s.get("depth", 1.0) != 1.0 else ""),
        f"params                 {s['params']:,}  (trainable {s['trainable_params']:,}; "
        f"{s['inference_params']:,} after folding BatchNorm)",
        f"MACs                   {s['macs']:,}  ({s['macs'] / 1e6:.1f} M)",
        f"float32 .tflite size   {_mb(s['est_float32_bytes'])}  (estimated)",
        f"int8 .tflite size      {_mb(s['est_int8_bytes'])}  (estimated)",
    ]
    if "layers" in s:
        rows = [("layer", "type", "output shape", "params", "MACs")] + [
            (r["name"], r["type"], "x".join(str(d) for d in r["output_shape"]), f"{r['params']:,}", f"{r['macs']:,}")
            for r in s["layers"]
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines.append("")
        for row in rows:
            lines.append(
                "  ".join(
                    cell.rjust(w) if i >= 3 else cell.ljust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
    return "\n".join(lines)


@command("info")
def info_command(
    arch: str = typer.Argument(..., help="Architecture name (see `edgecnn models`)."),
    alpha: float = typer.Option(1.0, "--alpha", help="Width multiplier (> 0)."),
    size: str = typer.Option(None, "--size", help="Input side or WIDTHxHEIGHT [default: the architecture's]."),
    channels: int = typer.Option(3, "--channels", help="1 (grayscale) or 3 (color)."),
    classes: int = typer.Option(1000, "--classes", help="Number of output classes."),
    separable: bool = typer.Option(
        None, "--separable/--no-separable", help="Depthwise-separable convs [default: the architecture's]."
    ),
    stem_stride: int = _options.STEM_STRIDE,
    head_width: int = _options.HEAD_WIDTH,
    scale_head: bool = _options.SCALE_HEAD,
    depth: float = _options.DEPTH,
    layers: bool = typer.Option(False, "--layers", help="Add the per-layer table."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show a model's parameters, multiply-accumulates (MACs) and estimated .tflite sizes."""
    from edgecnn.training.zoo.registry import get_arch_info, validate_build_args, validate_knobs
    from edgecnn.training.zoo.summary import summarize_model

    # Fail on bad input before TensorFlow loads (summarize_model validates again, cheaply).
    validate_knobs(arch, stem_stride=stem_stride, head_width=head_width, scale_head=scale_head, depth=depth)
    default_size = get_arch_info(arch).default_size
    validate_build_args(arch, alpha, default_size if size is None else size, channels, classes, stem_stride=stem_stride)
    summary = summarize_model(
        arch,
        alpha=alpha,
        size=size,
        channels=channels,
        classes=classes,
        separable=separable,
        stem_stride=stem_stride,
        head_width=head_width,
        scale_head=scale_head,
        depth=depth,
        include_layers=layers,
    )
    if json_out:
        echo_json(summary)
    else:
        typer.echo(format_info(summary))

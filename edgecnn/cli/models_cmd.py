"""``edgecnn models``: the architectures of the model zoo with their defaults (never imports TensorFlow)."""

from __future__ import annotations

import typer

from edgecnn.cli._app import command, echo_json

SWITCHES_NOTE = (
    "alpha scales every layer's channels (V1: int(c*alpha); V2/V3/SqueezeNet: rounded to a multiple of 8).\n"
    "separable: MobileNets default on; --no-separable replaces each depthwise conv by a full conv of the same\n"
    "width (V1: the paper's 'Conv MobileNet'). SqueezeNet default off (the paper); --separable makes each fire\n"
    "module's 3x3 expand a depthwise 3x3 + pointwise 1x1; the classic baselines (AlexNet, VGG, GoogLeNet, ResNets,\n"
    "cifar10_cnn) have no separable variant. All models take raw pixels 0..255 and rescale to\n"
    "[-1, 1] inside the model. Knobs for small inputs (edgecnn info/train): --stem-stride 1, --head-width N or\n"
    "--scale-head (the head layer, see --json 'head'), --depth d (each stage keeps ceil(repeats * d) blocks)."
)


def list_architectures(pattern: str = "*") -> list[dict]:
    """The registry entries matching ``pattern`` (fnmatch) as JSON-ready dicts."""
    from edgecnn.training.zoo import get_arch_info, list_models

    return [get_arch_info(name).to_dict() for name in list_models(pattern)]


def format_architectures(rows: list[dict]) -> str:
    """A plain-text table of :func:`list_architectures` rows plus a note on the switches."""
    header = ("name", "size", "alpha", "dropout", "separable", "min size", "description")
    table = [header] + [
        (
            r["name"],
            str(r["default_size"]),
            f"{r['default_alpha']:g}",
            f"{r['default_dropout']:g}",
            "yes" if r["default_separable"] else "no",
            str(r["min_size"]),
            r["description"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1] for row in table
    ]
    return "\n".join(lines) + "\n\n" + SWITCHES_NOTE


@command("models")
def models_command(
    pattern: str = typer.Argument("*", help="Only names matching this pattern, e.g. 'mobilenet*'."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON list instead of the table."),
) -> None:
    """List the model zoo's architectures with their defaults (size, alpha, dropout, separable, min size)."""
    from edgecnn.core.errors import EdgeCNNError

    rows = list_architectures(pattern)
    if not rows:
        raise EdgeCNNError(f"no architecture matches {pattern!r}")
    if json_out:
        echo_json(rows)
    else:
        typer.echo(format_architectures(rows))

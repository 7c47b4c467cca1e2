"""``edgecnn export``: a run directory or ``.keras`` file -> a verified, self-describing ``.tflite``.

``--quantize`` is both a flag and an option: ``--quantize`` alone means full-integer int8 (the edge default),
``--quantize float16`` and ``--quantize=float16`` pick a scheme. Typer options cannot take an optional value, so
:class:`QuantizeFlagCommand` rewrites this one command's arguments before parsing (:func:`expand_bare_quantize`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import EdgeCommand, command, echo_json, report_error
from edgecnn.training.export.schemes import DEFAULT_QUANTIZE, SCHEMES

QUANTIZE_FLAG = "--quantize"


def expand_bare_quantize(args: list[str]) -> list[str]:
    """Turns a bare ``--quantize`` into ``--quantize=int8``; leaves ``--quantize SCHEME`` alone.

    The token after ``--quantize`` is its value when it is a scheme name, or when it looks like a (mistyped) scheme
    rather than a path: it does not start with ``-``, contains no ``/`` or ``.`` and is not an existing file or
    directory. Otherwise (end of the arguments, another option, the run directory) ``--quantize`` was bare. Tokens
    after ``--`` are left alone.
    """
    out: list[str] = []
    for i, token in enumerate(args):
        if token == "--":
            return out + args[i:]
        if token == QUANTIZE_FLAG:
            following = args[i + 1] if i + 1 < len(args) else None
            takes_value = following is not None and (
                following.lower() in SCHEMES
                or (
                    not following.startswith("-")
                    and not any(c in following for c in "/.")
                    and not Path(following).exists()
                )
            )
            if not takes_value:
                token = f"{QUANTIZE_FLAG}={DEFAULT_QUANTIZE}"
        out.append(token)
    return out


class QuantizeFlagCommand(EdgeCommand):
    """An :class:`EdgeCommand` whose ``--quantize`` may be given without a value (see :func:`expand_bare_quantize`)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_bare_quantize(list(args)))


_SCHEMES_EPILOG = "Schemes: " + "  ".join(
    f"{name} (--io {'|'.join(s.io)}): {s.description}" for name, s in SCHEMES.items()
)


@command("export", cls=QuantizeFlagCommand, epilog=_SCHEMES_EPILOG)
def export_command(
    source: Path = typer.Argument(..., help="A training run directory or a .keras model file."),
    output: str | None = typer.Option(
        None,
        "-o",
        "--output",
        help="Output .tflite file, or a directory for model_<scheme>.tflite. Default: the run directory.",
    ),
    quantize: str | None = typer.Option(
        None,
        QUANTIZE_FLAG,
        metavar="[SCHEME]",
        help=f"Quantise. Alone: {DEFAULT_QUANTIZE} (full integer, uint8 I/O). "
        f"Schemes: {', '.join(SCHEMES)}. Without it: float32.",
    ),
    io: str | None = typer.Option(
        None,
        "--io",
        help="Input/output dtype: uint8, int8 or float32 for int8 (default uint8); float32 or int16 for int16x8.",
    ),
    calib_data: str | None = typer.Option(
        None,
        "--calib-data",
        help="Calibration images (folder, IDX directory, dataset name). Default: the run's own training data.",
    ),
    calib_samples: int = typer.Option(300, "--calib-samples", help="Calibration images (class-stratified)."),
    verify_samples: int = typer.Option(1000, "--verify-samples", help="Validation images for verification."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the Keras vs .tflite comparison."),
    per_tensor: bool = typer.Option(
        False,
        "--per-tensor",
        help="int8 only: one weight scale per tensor instead of per output channel "
        "(about 10% smaller file; verification shows the accuracy cost).",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 and write nothing when accuracy drops by more than 2 points."
    ),
    micro: bool = typer.Option(
        False,
        "--micro",
        help="TFLite Micro target (with --quantize int8; --io defaults to int8): check the file in TFLM's "
        "interpreter (operators, smallest arena, top-1 agreement with LiteRT >= 99.5% on the validation images) and "
        "write <name>_data.cc/.h and <name>_ops.h beside it. Needs edgecnn[micro].",
    ),
    input_rgb: bool = typer.Option(
        False,
        "--input-rgb",
        help="Grey models: fold a fixed RGB-to-grey conversion into the model so it takes RGB "
        "(for MediaPipe and other RGB-only frameworks). Verified on RGB images.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model name in the standard metadata. Default: <arch>_<alpha>_<size>_<scheme>."
    ),
    description: str | None = typer.Option(
        None, "--description", help="Model description. Default: classes, network, input and scheme."
    ),
    model_version: str | None = typer.Option(None, "--model-version", help="Model version. Default: 1."),
    author: str | None = typer.Option(None, "--author", help="Model author. Default: not set."),
    license: str | None = typer.Option(None, "--license", help="Model licence (e.g. Apache-2.0). Default: not set."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Export a trained model to a quantised .tflite with embedded labels and preprocessing, then verify it.

    The file carries edgecnn's metadata and TFLite's standard metadata (with labels.txt packed in), so MediaPipe
    Tasks and the TFLite Task Library load it with its labels.

    Example: `edgecnn export runs/fmnist --quantize -o out/` (int8 with uint8 I/O: out/model_int8.tflite).

    Calibration uses the run's own training images; a bare .keras file needs --calib-data.

    With --micro (`edgecnn export runs/fmnist --quantize --micro -o out/`) the int8 file is also checked in
    TFLite Micro and its C++ array and op-resolver sources are written.

    Exit codes: 0 done; 2 bad input or failed conversion; 1 --strict accuracy check or --micro agreement check
    failed (nothing written).
    """
    from edgecnn.training.export.exporter import AccuracyDropError, export
    from edgecnn.training.export.micro import MicroAgreementError

    try:
        result = export(
            source,
            output,
            quantize=quantize,
            io=io,
            calib_data=calib_data,
            calib_samples=calib_samples,
            verify_samples=verify_samples,
            verify=not no_verify,
            strict=strict,
            per_tensor=per_tensor,
            micro=micro,
            input_rgb=input_rgb,
            name=name,
            description=description,
            model_version=model_version,
            author=author,
            license=license,
        )
    except (AccuracyDropError, MicroAgreementError) as exc:
        report_error(str(exc))
        raise typer.Exit(1) from None
    if as_json:
        echo_json(result.to_dict())
    else:
        typer.echo(
            f"wrote {result.output} ({result.size_bytes / 1e6:.2f} MB, {result.scheme}, {result.io} I/O) "
            f"and {result.labels_path}"
        )
        if result.micro_sources:
            typer.echo(
                f"wrote {', '.join(str(path) for path in result.micro_sources.values())} (TFLite Micro: arena "
                f"{result.micro['arena_bytes']:,} bytes, flash {result.micro['flash_bytes']:,} bytes)"
            )

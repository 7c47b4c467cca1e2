"""``edgecnn inspect``: what a ``.tflite`` file contains (device side: no TensorFlow; TFLite Micro with --micro)."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import command, echo_json


@command("inspect")
def inspect_command(
    model: Path = typer.Argument(..., help="A .tflite file (edgecnn's or any other tool's)."),
    micro: bool = typer.Option(
        False,
        "--micro",
        help="Also load it in TFLite Micro: operators, flash, smallest tensor arena, boards it fits "
        "(needs edgecnn[micro]).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Show a .tflite file's metadata, input/output tensors, operators and whether it is fully integer.

    Shows both metadata entries: edgecnn's and TFLite's standard one (TFLITE_METADATA, as MediaPipe and the TFLite
    Task Library read it, with its packed label file). Reads the flatbuffer directly (no TensorFlow, no
    interpreter), so it runs on the device. Files from other tools are reported too ("metadata: none").
    With --micro the file is also loaded in TFLite Micro's interpreter (on this host, not a microcontroller);
    exit 2 when TFLM cannot run it.
    """
    from edgecnn.modelfile.inspect import format_report, inspect_model

    report = inspect_model(model)
    micro_report = None
    if micro:
        from edgecnn.device.micro_inspect import inspect_micro

        micro_report = inspect_micro(model)
        report["micro"] = micro_report
    if as_json:
        echo_json(report)
    else:
        typer.echo(format_report(report))
        if micro_report is not None:
            from edgecnn.device.micro_inspect import format_micro

            typer.echo(format_micro(micro_report))
    if micro_report is not None and not micro_report["loads"]:
        from edgecnn.device.micro_inspect import not_loading_error

        raise not_loading_error(micro_report)

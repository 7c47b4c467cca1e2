"""``edgecnn inspect``: what a ``.tflite`` file contains (device side: no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import command, echo_json


@command("inspect")
def inspect_command(
    model: Path = typer.Argument(..., help="A .tflite file (edgecnn's or any other tool's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Show a .tflite file's metadata, input/output tensors, operators and whether it is fully integer.

    Shows both metadata entries: edgecnn's and TFLite's standard one (TFLITE_METADATA, as MediaPipe and the TFLite
    Task Library read it, with its packed label file). Reads the flatbuffer directly (no TensorFlow, no
    interpreter), so it runs on the device. Files from other tools are reported too ("metadata: none").
    """
    from edgecnn.modelfile.inspect import format_report, inspect_model

    report = inspect_model(model)
    if as_json:
        echo_json(report)
    else:
        typer.echo(format_report(report))

"""`edgecnn eval`: top-1/top-5, per-class accuracy and a confusion matrix of a run, .keras or .tflite model."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import command, echo_json
from edgecnn.core.logs import is_quiet


@command("eval")
def eval_command(
    model: Path = typer.Argument(..., help="Run directory, .keras or .tflite file."),
    data: str = typer.Option(
        None, "--data", "-d", help="Data source; default: the run's own (required for a .tflite)."
    ),
    split: str = typer.Option("test", help="test (falls back to val where there is none), val or train."),
    limit: int = typer.Option(None, help="Score a stratified subset of at most N images."),
    batch_size: int = typer.Option(128, "--batch-size", help="Images per inference batch."),
    confusion: Path = typer.Option(None, "--confusion", help="Write the confusion matrix to this PNG."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Score MODEL on a data split: top-1/top-5, per-class accuracy, confusion matrix.

    A .tflite runs through the device runtime with the preprocessing embedded in it.
    """
    from edgecnn.training.evaluate import evaluate

    result = evaluate(
        model,
        data,
        split,
        limit=limit,
        batch_size=batch_size,
        confusion_png=confusion,
        progress=not (json_out or is_quiet()),
    )
    if json_out:
        echo_json(result)
        return
    typer.echo(f"model: {result['model']}")
    typer.echo(f"data:  {result['data']} ({result['split']}, {result['n']} images)")
    typer.echo(f"top-1: {result['top1']:.4f}   top-{result['top5_k']}: {result['top5']:.4f}")
    width = max(len(label) for label in result["labels"])
    for label, accuracy in result["per_class"].items():
        typer.echo(f"  {label:<{width}}  {'n/a' if accuracy is None else f'{accuracy:.4f}'}")
    if confusion is not None:
        typer.echo(f"confusion matrix: {confusion}")

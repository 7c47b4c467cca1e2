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
    micro: bool = typer.Option(
        False,
        "--micro",
        help="Score a .tflite in TFLite Micro's interpreter and compare it with LiteRT (top-1 agreement >= 99.5%, "
        "output differences in quantisation steps, arena). Needs edgecnn[micro].",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Score MODEL on a data split: top-1/top-5, per-class accuracy, confusion matrix.

    A .tflite runs through the device runtime with the preprocessing embedded in it; with --micro through
    TFLite Micro (on this host), compared with LiteRT: exit 1 when their top-1 agrees on less than 99.5%.
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
        micro=micro,
    )
    verification = (result.get("micro") or {}).get("verification")
    if json_out:
        echo_json(result)
        _check_agreement(verification)
        return
    typer.echo(f"model: {result['model']}")
    typer.echo(f"data:  {result['data']} ({result['split']}, {result['n']} images)")
    typer.echo(f"top-1: {result['top1']:.4f}   top-{result['top5_k']}: {result['top5']:.4f}")
    width = max(len(label) for label in result["labels"])
    for label, accuracy in result["per_class"].items():
        typer.echo(f"  {label:<{width}}  {'n/a' if accuracy is None else f'{accuracy:.4f}'}")
    if confusion is not None:
        typer.echo(f"confusion matrix: {confusion}")
    if verification is not None:
        typer.echo(format_micro_eval(result["micro"]))
    _check_agreement(verification)


def format_micro_eval(micro: dict) -> str:
    """The TFLite Micro lines of ``edgecnn eval --micro``."""
    v = micro["verification"]
    steps = v.get("steps") or {}
    histogram = ", ".join(f"{name}: {count}" for name, count in (steps.get("histogram") or {}).items())
    return "\n".join(
        [
            f"runtime: TFLite Micro {micro['tflm_version']} (reference kernels, this 64-bit host; top-1 above)",
            f"LiteRT:  top-1 {v['litert_accuracy']:.4f}; top-1 agreement with TFLM {100 * v['agreement']:.2f}% "
            f"({v['disagreements']} differ, {v['disagreements_at_ties']} of them at ties)",
            f"output differences in quantisation steps ({steps.get('values', 0)} values): {histogram}; "
            f"max {steps.get('max', 0)}",
            f"where >2 steps come from: {v['explanation']}",
            f"arena:   {micro['arena_bytes']:,} bytes (about {micro['arena_bytes_32bit_estimate']:,} on a 32-bit "
            f"board); flash {micro['flash_bytes']:,} bytes; fits: {', '.join(micro['fits']) or 'none'}",
        ]
    )


def _check_agreement(verification: dict | None) -> None:
    if verification is not None and not verification["passed"]:
        from edgecnn.cli._app import report_error

        report_error(
            f"--micro: TFLite Micro's top-1 agrees with LiteRT's on {100 * verification['agreement']:.2f}% of "
            f"{verification['samples']} images (< {100 * verification['min_agreement']:g}%)"
        )
        raise typer.Exit(1)

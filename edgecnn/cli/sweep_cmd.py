"""``edgecnn sweep``: run a size-vs-accuracy sweep; ``edgecnn sweep report`` / ``select`` work on a finished one.

``edgecnn sweep --data ... --out DIR`` runs the sweep (the group's own callback, invoked without a subcommand);
``edgecnn sweep report DIR`` re-renders its outputs and ``edgecnn sweep select DIR`` ships one of its models.

The callback's signature is the one declaration of the sweep's settings: parameters carry the names of
:class:`edgecnn.sweep.config.SweepConfig`'s fields (``archs`` behind ``--arch``) and take their defaults from it;
``--config sweep.toml`` feeds the same declaration (see :mod:`edgecnn.cli._declare`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli import _options
from edgecnn.cli._app import EdgeCommand, app, cli_message, echo_json, make_app
from edgecnn.cli._declare import (
    INPUT,
    INPUT_OR_NAME,
    OUTPUT,
    app_command,
    config_option,
    from_params,
    library_defaults,
    list_option,
    pairs_option,
    parse_command_line,
    path_option,
)
from edgecnn.core.errors import EdgeCNNError

sweep_app = make_app(
    name="sweep", invoke_without_command=True, context_settings=library_defaults("edgecnn.sweep.config:SweepConfig")
)
app.add_typer(sweep_app, name="sweep")
# `report` and `select` have their own defaults, not the sweep's (nor a --config file's).
_OWN_DEFAULTS = {"default_map": {}}
MAX_RAM_HELP = "Select only models whose TFLite Micro tensor arena is at most this many KB (int8 rows, edgecnn[micro])."
MAX_FLASH_HELP = "Select only models whose .tflite (flash) is at most this many KB (int8 rows)."


@sweep_app.callback()
def sweep(
    ctx: typer.Context,
    data: str | None = path_option(
        None, "--data", role=INPUT_OR_NAME, help="Dataset: image folder, IDX files or a name (fashion_mnist)."
    ),
    archs: str | None = list_option(None, "--arch", item=str, metavar="ARCH[,...]", help="Architectures."),
    alphas: str | None = list_option(None, "--alpha", item=float, metavar="A[,...]", help="Width multipliers."),
    sizes: str | None = list_option(None, "--size", item=int, metavar="N[,...]", help="Square input sizes in pixels."),
    schemes: str | None = list_option(
        None,
        "--quantize",
        item=str,
        metavar="SCHEME[,...]",
        help="Schemes: float32, float16, dynamic, int8, int16x8, int8_per_tensor (int8 exported with --per-tensor).",
    ),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs per network."),
    batch_size: int = typer.Option(None, "--batch-size", help="Training batch size."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: the trainer's)."),
    max_samples: int | None = typer.Option(
        None, "--max-samples", help="Train on at most this many images (default: all)."
    ),
    val_split: float | None = typer.Option(None, "--val-split", help="Validation fraction (default: the trainer's)."),
    channels: int | None = typer.Option(None, "--channels", help="Input channels, 1 or 3 (default: the dataset's)."),
    seed: int = typer.Option(None, "--seed", help="Random seed."),
    train_options: list[str] | None = pairs_option(
        "--train-opt",
        metavar="KEY=VALUE",
        help="A further trainer argument as KEY=VALUE, repeatable (e.g. optimizer=sgd, augment=false).",
    ),
    teacher: str | None = path_option(
        None, "--teacher", role=INPUT, help="Distil every trial from this run directory or .keras model."
    ),
    distill_temperature: float | None = _options.DISTILL_TEMPERATURE,
    distill_weight: float | None = _options.DISTILL_WEIGHT,
    eval_samples: int | None = typer.Option(
        None, "--eval-samples", help="Evaluate on the first N test images (default: all)."
    ),
    calib_samples: int | None = typer.Option(
        None, "--calib-samples", help="Calibration images for int8/int16x8 (default: the exporter's)."
    ),
    threads: int = typer.Option(None, "--threads", help="Interpreter threads for the latency benchmark."),
    bench_runs: int = typer.Option(None, "--bench-runs", help="Timed runs per model."),
    bench_warmup: int = typer.Option(None, "--bench-warmup", help="Warm-up runs per model."),
    out: str | None = path_option(
        None, "--out", "-o", role=OUTPUT, help="Sweep folder (trials, results, report, plots)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the sweep in --out, skipping finished rows."),
    executor: str = typer.Option(None, "--executor", help="local (sequential) or ray (one Ray task per trial)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Existing Ray cluster (default: start a local one on 127.0.0.1)."
    ),
    ray_cpus: int = typer.Option(None, "--ray-cpus", help="CPUs of the local Ray instance."),
    min_accuracy: float | None = typer.Option(
        None, "--min-accuracy", help="Accuracy floor for --select (fraction, 0.9)."
    ),
    select: bool = typer.Option(False, "--select", help="After the sweep, copy the best model above --min-accuracy."),
    select_by: str | None = typer.Option(
        None, "--select-by", help="size (smallest file) or latency (fastest) (default: size)."
    ),
    select_to: str | None = path_option(
        None,
        "--select-to",
        role=OUTPUT,
        help="Destination .tflite ({arch} {alpha} {size} {scheme} are filled in) or folder.",
    ),
    select_scheme: str | None = typer.Option(
        None, "--select-scheme", help="Select among these schemes only (comma-separated, e.g. int8) (default: all)."
    ),
    max_ram_kb: float | None = typer.Option(None, "--max-ram-kb", help=MAX_RAM_HELP),
    max_flash_kb: float | None = typer.Option(None, "--max-flash-kb", help=MAX_FLASH_HELP),
    config: str | None = config_option(
        "A sweep.toml or sweep.json with any of these settings (options given here override it)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the result rows as JSON."),
) -> None:
    """Train each (arch, alpha, size) once, export every --quantize scheme, evaluate each .tflite on the test
    split, benchmark it, and write results.csv/json, report.md (Pareto fronts) and plots into --out.

    Subcommands: `edgecnn sweep report DIR` re-renders a finished sweep; `edgecnn sweep select DIR` ships a model.
    """
    if ctx.invoked_subcommand is not None:
        return
    from edgecnn.sweep.runner import run_sweep

    sweep_config = sweep_config_of(ctx.params)
    if out is None:
        raise EdgeCNNError("a sweep needs --out (the folder for trials, results and the report)")
    out_dir = Path(out)
    selection = _selection(ctx.params)
    rows = run_sweep(sweep_config, out_dir, resume=resume, progress=progress)
    chosen = _select(out_dir, selection) if selection else None
    if as_json:
        echo_json({"out": str(out_dir), "rows": rows, "selected": chosen})
        return
    ok = sum(1 for row in rows if not row.get("error"))
    typer.echo(f"{ok}/{len(rows)} models ok; report: {out_dir / 'report.md'}")
    if chosen:
        typer.echo(f"selected {chosen['model']} (card: {chosen['card']})")


def sweep_config_of(params: dict):
    """The :class:`~edgecnn.sweep.config.SweepConfig` of parsed ``sweep`` parameters (validated on creation).

    ``--teacher``, ``--distill-temperature`` and ``--distill-weight`` become train options (the teacher as an
    absolute path, so that Ray workers and a resume from another folder find the same file).
    """
    from edgecnn.sweep.config import DISTILL_OPTIONS, SweepConfig

    distill = {name: params.get(name) for name in DISTILL_OPTIONS}
    if distill["teacher"] is not None:
        distill["teacher"] = str(Path(distill["teacher"]).resolve())
    given = {name: value for name, value in distill.items() if value is not None}
    if given:
        params = {**params, "train_options": {**(params.get("train_options") or {}), **given}}
    return from_params(SweepConfig, params)


def parse_sweep_config(args: list[str]):
    """``edgecnn sweep ARGS`` parsed by the command's own parser (``--config`` included) into its config, not run.

    Raises:
        EdgeCNNError: As the command would report it (flags, not parameter names).
    """
    try:
        return sweep_config_of(parse_command_line("sweep", args).params)
    except EdgeCNNError as exc:
        raise EdgeCNNError(cli_message(exc, app_command("sweep"))) from None


def _selection(settings: dict) -> dict | None:
    """The validated --select settings, or None; checked before the sweep so that a typo fails fast."""
    from edgecnn.core.parsing import parse_list
    from edgecnn.sweep.config import SCHEMES, SELECT_BY
    from edgecnn.sweep.select import check_limit_kb, check_min_accuracy

    if not settings.get("select"):
        for name in ("select_by", "select_to", "select_scheme", "max_ram_kb", "max_flash_kb"):
            if settings.get(name) is not None:
                raise EdgeCNNError(f"--{name.replace('_', '-')} needs --select")
        return None
    if settings.get("min_accuracy") is None:
        raise EdgeCNNError("--select needs --min-accuracy (a fraction, e.g. 0.9)")
    by = settings.get("select_by") or "size"
    if by not in SELECT_BY:
        raise EdgeCNNError(f"--select-by must be one of {', '.join(SELECT_BY)}. Received {by!r}")
    if not settings.get("select_to"):
        raise EdgeCNNError("--select needs --select-to (a .tflite path or a folder)")
    schemes = None
    if settings.get("select_scheme"):
        schemes = parse_list(settings["select_scheme"], str, "--select-scheme")
        unknown = [s for s in schemes if s not in SCHEMES]
        if unknown:
            raise EdgeCNNError(
                f"unknown quantization scheme {unknown[0]!r} in --select-scheme; choose from {', '.join(SCHEMES)}"
            )
    return {
        "min_accuracy": check_min_accuracy(float(settings["min_accuracy"])),
        "by": by,
        "select_to": settings["select_to"],
        "schemes": schemes,
        "max_ram_kb": check_limit_kb(settings.get("max_ram_kb"), "max-ram-kb"),
        "max_flash_kb": check_limit_kb(settings.get("max_flash_kb"), "max-flash-kb"),
    }


def _select(sweep_dir: Path, selection: dict) -> dict:
    from edgecnn.sweep.select import select_model

    result = select_model(
        sweep_dir,
        selection["min_accuracy"],
        by=selection["by"],
        select_to=selection["select_to"],
        schemes=selection["schemes"],
        max_ram_kb=selection["max_ram_kb"],
        max_flash_kb=selection["max_flash_kb"],
    )
    return {
        "model": str(result["model"]),
        "labels": str(result["labels"]),
        "card": str(result["card"]),
        "row": result["row"],
    }


@sweep_app.command("report", cls=EdgeCommand, context_settings=_OWN_DEFAULTS)
def report(
    sweep_dir: Path = typer.Argument(..., help="A sweep folder (with results.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
) -> None:
    """Re-render report.md, results.csv and the plots of a sweep from its results.json."""
    from edgecnn.sweep.outputs import rerender

    written = rerender(sweep_dir)
    if as_json:
        echo_json({name: str(path) for name, path in written.items()})
        return
    for path in written.values():
        typer.echo(str(path))


@sweep_app.command("select", cls=EdgeCommand, context_settings=_OWN_DEFAULTS)
def select_cmd(
    sweep_dir: Path = typer.Argument(..., help="A finished sweep folder."),
    min_accuracy: float = typer.Option(..., "--min-accuracy", help="Accuracy floor (fraction of 1, e.g. 0.9)."),
    select_by: str = typer.Option("size", "--select-by", "--by", help="size (smallest file) or latency (fastest)."),
    select_to: str = typer.Option(
        ..., "--select-to", "--to", help="Destination .tflite ({arch} {alpha} {size} {scheme} are filled in) or folder."
    ),
    select_scheme: str = typer.Option(
        None,
        "--select-scheme",
        "--scheme",
        help="Select among these schemes only (comma-separated, e.g. int8) (default: all).",
    ),
    max_ram_kb: float = typer.Option(None, "--max-ram-kb", help=MAX_RAM_HELP),
    max_flash_kb: float = typer.Option(None, "--max-flash-kb", help=MAX_FLASH_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the selection as JSON."),
) -> None:
    """Copy the smallest (or fastest) model of a sweep above an accuracy floor, with labels and a model card.

    --max-ram-kb / --max-flash-kb keep only models that fit a microcontroller budget (TFLite Micro arena and
    .tflite size, measured for int8 rows when edgecnn[micro] is installed).
    """
    chosen = _select(
        sweep_dir,
        _selection(
            {
                "select": True,
                "min_accuracy": min_accuracy,
                "select_by": select_by,
                "select_to": select_to,
                "select_scheme": select_scheme,
                "max_ram_kb": max_ram_kb,
                "max_flash_kb": max_flash_kb,
            }
        ),
    )
    if as_json:
        echo_json(chosen)
        return
    row = chosen["row"]
    typer.echo(
        f"{chosen['model']}: {row['arch']} alpha {row['alpha']:g} size {row['size']} {row['scheme']}, "
        f"{100 * row['tflite_top1']:.2f}% top-1, {row['file_bytes']:,} bytes"
    )
    typer.echo(f"model card: {chosen['card']}")

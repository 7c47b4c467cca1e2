"""`edgecnn service install`: a systemd unit that runs `edgecnn run` at boot (we never call systemctl)."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import EdgeCommand, app, make_app

service_app = make_app(help="Run edgecnn as a systemd service.")
app.add_typer(service_app, name="service")


@service_app.command(
    "install", cls=EdgeCommand, context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def install_command(
    ctx: typer.Context,
    model: Path = typer.Argument(..., help="The .tflite model; `edgecnn run` options follow it.", show_default=False),
    user: str | None = typer.Option(
        None, "--user", help="Account the service runs as (default: you, or $SUDO_USER under sudo)."
    ),
    working_dir: Path | None = typer.Option(
        None, "--working-dir", help="Working directory (default: the current one); relative output paths land there."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Where to write the unit (default: /etc/systemd/system/NAME.service)."
    ),
    print_only: bool = typer.Option(False, "--print", help="Print the unit instead of writing it."),
    name: str = typer.Option("edgecnn", "--name", help="Unit name (one per camera)."),
    restart_sec: int = typer.Option(5, "--restart-sec", help="Seconds before systemd restarts a failed run."),
) -> None:
    """Write a systemd unit running `edgecnn run MODEL \\[run options]`, restarted on failure.

    Example: edgecnn service install model.tflite --source /dev/video0 --http 127.0.0.1:8080 --jsonl preds.jsonl
    --user pi. Then: sudo systemctl daemon-reload && sudo systemctl enable --now edgecnn.service
    """
    from edgecnn.core.errors import EdgeCNNError
    from edgecnn.device.service import install

    if print_only and output is not None:
        raise EdgeCNNError("give either --output PATH or --print, not both")
    unit = install(
        model,
        list(ctx.args),
        user=user,
        working_dir=working_dir,
        output=output,
        print_only=print_only,
        name=name,
        restart_sec=restart_sec,
    )
    if unit.path is None:
        typer.echo(unit.text, nl=False)
    else:
        typer.echo(f"wrote {unit.path}", err=True)
    typer.echo(unit.instructions(), err=True)

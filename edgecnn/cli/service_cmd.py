"""`edgecnn service install`: a systemd unit that runs `edgecnn run` at boot (we never call systemctl).

The ``run`` options after MODEL are checked by ``run``'s own parser (:func:`check_run_args`), so the unit accepts
exactly what ``edgecnn run`` accepts, ``--config`` file included.
"""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import EdgeCommand, app, make_app
from edgecnn.cli._declare import INPUT, INPUT_OR_NAME, app_command, declarations
from edgecnn.cli.run_cmd import parse_run_options
from edgecnn.core.errors import EdgeCNNError

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
        check_args=lambda args: check_run_args(args, Path.cwd(), model=str(model)),
    )
    if unit.path is None:
        typer.echo(unit.text, nl=False)
    else:
        typer.echo(f"wrote {unit.path}", err=True)
    typer.echo(unit.instructions(), err=True)


def check_run_args(args: list[str], cwd: Path, model: str = "model.tflite") -> list[str]:
    """Checks ``edgecnn run`` options for a unit with ``run``'s own parser; makes input paths absolute.

    ``--opt=value`` is split in two; values of input-file options (``--config``, ``--labels``) become absolute
    (they must exist), a ``--source`` that names an existing path too; everything else stays as given. Then
    ``run``'s parser reads ``MODEL ARGS`` (the ``--config`` file included) and the options are validated as
    ``edgecnn run`` would, without opening anything.

    Raises:
        EdgeCNNError: For an option ``run`` refuses, a missing input file, or ``--display`` (a service has no
            screen).
    """
    run = app_command("run")
    declared = declarations(run)
    values = {}  # flag -> (takes a value, path role)
    for param in run.params:
        flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
        role = getattr(declared.get(param.name), "role", None)
        values.update({opt: (not flag, role) for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-")})
    out: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        flag, has_inline, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        if not has_inline and len(flag) > 2 and not flag.startswith("--") and flag[:2] in values:
            flag, has_inline, inline = flag[:2], "=", flag[2:]  # -s0: a short option with its value attached
        takes_value, role = values.get(flag, (False, None))
        if not takes_value or not (has_inline or i + 1 < len(args)):
            out.append(token)  # run's parser judges it below
            i += 1
            continue
        value = inline if has_inline else args[i + 1]
        i += 1 if has_inline else 2
        out += [flag, _absolute(value, role, flag, cwd) if role else value]
    options = parse_run_options([model, *out])
    if options.display:
        raise EdgeCNNError("--display cannot work in a service (no screen); use --http or --save-video")
    return out


def _absolute(value: str, role: str, flag: str, cwd: Path) -> str:
    """An input path made absolute against ``cwd`` (it must exist); a maybe-path only where it exists."""
    path = cwd / Path(value).expanduser()
    if role == INPUT:
        if not path.is_file():
            raise EdgeCNNError(f"{flag} file not found: {value}")
        return str(path.resolve())
    if role == INPUT_OR_NAME and not Path(value).is_absolute() and path.exists():
        return str(path.resolve())
    return value

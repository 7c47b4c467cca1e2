"""The Typer application object, its global options and the command class every edgecnn command uses.

Command modules register themselves with ``@app.command(...)`` (or add a sub-app) and keep heavy imports
(TensorFlow, OpenCV, LiteRT) inside the command body so that ``edgecnn --help`` stays instant. The app's callback
sets up logging once for every command (:mod:`edgecnn.core.logs`); a command's own ``--quiet`` means the global one.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from edgecnn import __version__
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.logs import configure_logging, logging_configured


def report_error(message: str) -> None:
    """Prints one ``error: ...`` line on stderr."""
    typer.echo(f"error: {message}", err=True)


def flag_for(command: Any, name: str) -> str | None:
    """The long flag of ``command``'s option called ``name`` (its parameter name or its flag without dashes)."""
    wanted = "--" + name.replace("_", "-")
    for param in getattr(command, "params", ()):
        longs = [opt for opt in param.opts if opt.startswith("--")]
        if longs and (param.name == name or wanted in longs):
            return longs[0]
    return None


def cli_message(exc: EdgeCNNError, command: Any) -> str:
    """The message of a library error with each parameter it names shown as ``command``'s flag.

    ``threads must be >= 1. Received threads=0`` becomes ``--threads must be >= 1. Received threads=0``: a name
    is replaced where it stands as a word (not inside a path, not in ``name=value``).
    """
    message = str(exc)
    for name in exc.params:
        flag = flag_for(command, name)
        if flag:
            message = re.sub(rf"(?<![^\s(]){re.escape(name)}(?=[\s,;:)]|$)", flag, message)
    return message


def _invoke_reporting_errors(invoke, ctx: typer.Context):
    try:
        return invoke(ctx)
    except EdgeCNNError as exc:
        report_error(cli_message(exc, ctx.command))
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


class EdgeCommand(TyperCommand):
    """A command that reports :class:`EdgeCNNError` as one line on stderr and exits with code 2.

    A command with a ``quiet`` parameter (its own ``--quiet``) that is set quiets the log like the global ``-q``.
    """

    def invoke(self, ctx: typer.Context):
        if ctx.params.get("quiet"):
            configure_logging(quiet=True)
        return _invoke_reporting_errors(super().invoke, ctx)


class EdgeGroup(TyperGroup):
    """A command group whose own callback and subcommands report errors like :class:`EdgeCommand`."""

    def invoke(self, ctx: typer.Context):
        return _invoke_reporting_errors(super().invoke, ctx)


def make_app(**kwargs) -> typer.Typer:
    """A Typer app (or sub-app) with edgecnn's defaults."""
    kwargs.setdefault("no_args_is_help", True)
    kwargs.setdefault("add_completion", False)
    kwargs.setdefault("pretty_exceptions_enable", False)
    kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
    return typer.Typer(cls=EdgeGroup, **kwargs)


app = make_app(help="Train, quantize and run CNN image classifiers on edge devices.")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"edgecnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Log warnings only: no info or progress lines."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug lines too."),
) -> None:
    """Train, quantize and run CNN image classifiers on edge devices."""
    # Until the command ends: log lines on stderr (stdout stays for --json and JSON lines).
    ctx.with_resource(logging_configured(quiet=quiet, verbose=verbose))


def command(*args, **kwargs):
    """``app.command`` with :class:`EdgeCommand` as the command class."""
    kwargs.setdefault("cls", EdgeCommand)
    return app.command(*args, **kwargs)


def echo_json(obj: object) -> None:
    """Prints one JSON document on stdout (for ``--json``)."""
    import json

    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")

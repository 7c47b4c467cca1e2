"""The ``edgecnn`` command line: one module per command, each a thin wrapper over an importable function."""
# ruff: noqa: I001  (the command modules are imported in the order of the help listing)

from __future__ import annotations

from edgecnn.cli._app import app

# Importing a command module registers its command; none of them imports TensorFlow at module level.
from edgecnn.cli import (  # noqa: E402,F401  (registration side effects, in help order)
    models_cmd,
    info_cmd,
    train_cmd,
    eval_cmd,
    export_cmd,
    inspect_cmd,
    run_cmd,
    bench_cmd,
    service_cmd,
    sweep_cmd,
)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="edgecnn")

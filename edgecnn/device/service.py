"""A systemd unit that runs ``edgecnn run`` at boot and restarts it on failure (``edgecnn service install``).

We only write the unit file and print how to enable it; we never call ``systemctl`` ourselves.

Device side: the standard library only.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_text_atomic

UNIT_DIR = Path("/etc/systemd/system")


@dataclass
class ServiceUnit:
    """A rendered unit: its text and where it was written (None with ``--print``)."""

    name: str
    text: str
    path: Path | None

    def instructions(self) -> str:
        """How to install (where needed), enable and follow the service."""
        steps = []
        target = UNIT_DIR / f"{self.name}.service"
        if self.path is not None and self.path.resolve() != target:
            steps.append(f"sudo cp {self.path} {target}")
        elif self.path is None:
            steps.append(f"save the unit above as {target}")
        steps.append(f"sudo systemctl daemon-reload && sudo systemctl enable --now {self.name}.service")
        steps.append(f"journalctl -u {self.name} -f    # follow its log")
        return "\n".join(["to run it at boot:", *[f"  {step}" for step in steps]])


def systemd_quote(argument: str) -> str:
    """Quotes one ExecStart argument for systemd (``%`` and ``$`` escaped; quoted when it has spaces)."""
    escaped = argument.replace("%", "%%").replace("$", "$$")
    if escaped and not re.search(r'[\s"\'\\;]', escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def edgecnn_executable() -> list[str]:
    """The absolute command that starts edgecnn: the console script beside this Python, on PATH, or ``-m``."""
    beside = Path(sys.executable).parent / "edgecnn"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which("edgecnn")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "edgecnn"]


def render_unit(
    model: Path,
    run_args: list[str],
    *,
    user: str,
    working_dir: Path,
    executable: list[str],
    name: str = "edgecnn",
    restart_sec: int = 5,
) -> str:
    """The text of the systemd unit."""
    command = [*executable, "run", str(model), *run_args]
    return "\n".join(
        [
            "[Unit]",
            f"Description=edgecnn image classifier ({model.name})",
            "After=network-online.target",
            "Wants=network-online.target",
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "Type=simple",
            f"User={user}",
            f"WorkingDirectory={working_dir}",
            "ExecStart=" + " ".join(systemd_quote(part) for part in command),
            "Restart=on-failure",
            f"RestartSec={restart_sec}",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=10",
            "Environment=PYTHONUNBUFFERED=1",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def install(
    model: str | os.PathLike,
    run_args: list[str] | None = None,
    *,
    user: str | None = None,
    working_dir: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    print_only: bool = False,
    name: str = "edgecnn",
    restart_sec: int = 5,
    check_args: Callable[[list[str]], list[str]] | None = None,
) -> ServiceUnit:
    """Renders the unit for ``edgecnn run MODEL RUN_ARGS`` and writes it (atomically) unless ``print_only``.

    Args:
        model: The ``.tflite`` model (made absolute).
        run_args: Further ``edgecnn run`` options, as on the command line.
        user: The account the service runs as (default: the invoking user, ``$SUDO_USER`` under sudo).
        working_dir: Its working directory (default: the current one); relative output paths land there.
        output: Where to write the unit (default ``/etc/systemd/system/NAME.service``).
        print_only: Do not write anything (the caller prints :attr:`ServiceUnit.text`).
        name: Unit name.
        restart_sec: Seconds systemd waits before restarting a failed run.
        check_args: Checks ``run_args`` and returns them as the unit should hold them (the CLI passes
            ``run``'s own parser: :func:`edgecnn.cli.service_cmd.check_run_args`); None uses them as given.

    Raises:
        EdgeCNNError: For a missing model or working directory, bad run options, or an unwritable output.
    """
    cwd = Path.cwd()
    model_path = Path(model).expanduser()
    if not model_path.is_file():
        raise EdgeCNNError(f"model file not found: {model}")
    if not re.fullmatch(r"[A-Za-z0-9_.@-]+", name):
        raise EdgeCNNError(f"unit name may hold letters, digits and _.@- only. Received name={name!r}")
    if restart_sec < 0:
        raise EdgeCNNError(f"restart_sec must be >= 0. Received restart_sec={restart_sec}", param="restart_sec")
    workdir = Path(working_dir).expanduser().resolve() if working_dir else cwd
    if not workdir.is_dir():
        raise EdgeCNNError(f"working directory not found: {working_dir}")
    account = user or os.environ.get("SUDO_USER") or getpass.getuser()
    text = render_unit(
        model_path.resolve(),
        check_args(list(run_args or [])) if check_args else list(run_args or []),
        user=account,
        working_dir=workdir,
        executable=edgecnn_executable(),
        name=name,
        restart_sec=restart_sec,
    )
    if print_only:
        return ServiceUnit(name, text, None)
    destination = Path(output).expanduser() if output else UNIT_DIR / f"{name}.service"
    if destination.is_dir():
        destination = destination / f"{name}.service"
    try:
        write_text_atomic(destination, text)
        destination.chmod(0o644)
    except PermissionError:
        raise EdgeCNNError(
            f"cannot write {destination}: permission denied; run with sudo, or use --output PATH or --print"
        ) from None
    except OSError as exc:
        raise EdgeCNNError(f"cannot write {destination}: {exc.strerror or exc}") from None
    return ServiceUnit(name, text, destination)

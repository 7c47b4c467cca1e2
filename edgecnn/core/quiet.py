"""Silences a noisy block at the OS level and keeps what it printed in a log file.

Native code prints straight to file descriptors 1 and 2: the TFLite converter hundreds of ``Saved artifact``/
``TensorSpec`` lines and absl/MLIR warnings, LiteRT ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``
when an interpreter first allocates its tensors. Redirecting ``sys.stdout`` is not enough, so the block runs with
fds 1 and 2 pointing at a log file (plus Python-level redirection and recorded warnings for test runners that
swap ``sys.stdout``). The log is kept for error messages and removed when the caller says so.

Standard library only: both sides use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CapturedOutput:
    """Where a quiet block's output went.

    Attributes:
        log_path: The log file (kept until :meth:`discard`).
        terminal_fd: A duplicate of the original stderr, open while the block runs (for progress bars).
    """

    log_path: Path
    terminal_fd: int | None = None

    def text(self) -> str:
        """Everything the block printed."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def discard(self) -> None:
        """Deletes the log file."""
        with contextlib.suppress(OSError):
            self.log_path.unlink()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()


@contextlib.contextmanager
def quiet(prefix: str = "edgecnn-export-") -> Iterator[CapturedOutput]:
    """Runs the block with stdout/stderr (fds 1 and 2, ``sys.stdout``/``sys.stderr``, warnings) sent to a log file.

    The file descriptors are restored on any exit, KeyboardInterrupt included. The log file stays in the system
    temporary directory until :meth:`CapturedOutput.discard`.
    """
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    captured = CapturedOutput(Path(name))
    _flush()
    saved = {target: os.dup(target) for target in (1, 2)}
    captured.terminal_fd = saved[2]
    log = os.fdopen(fd, "w", buffering=1, errors="replace")
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        with (
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                yield captured
            finally:
                for warning in caught:
                    log.write(f"{warning.category.__name__}: {warning.message}\n")
    finally:
        _flush()
        with contextlib.suppress(Exception):
            log.flush()
        for target, copy in saved.items():
            os.dup2(copy, target)
            os.close(copy)
        captured.terminal_fd = None
        _rebind_log_handlers(log, sys.stderr)
        log.close()


def _rebind_log_handlers(old_stream, new_stream) -> None:
    """Points every ``logging.StreamHandler`` that a quiet block created on ``old_stream`` at ``new_stream``.

    A library that sets up its logger inside the block (TensorFlow's ``tf_logging`` does on first use, with the
    ``sys.stderr`` of that moment) would otherwise keep writing to the closed log file and print ``--- Logging
    error ---`` tracebacks for every later warning.
    """
    loggers = [logging.root, *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is old_stream:
                handler.setStream(new_stream)

"""The one logging set-up of every command, and the progress lines long commands print.

Every module logs to a child of the ``edgecnn`` logger (``logging.getLogger(__name__)``). The CLI calls
:func:`configure_logging` once per command (the global ``--quiet``/``--verbose``, or the command's own ``--quiet``),
which sends those records to stderr as ``edgecnn: message`` (``edgecnn: warning: message`` above INFO, and so
on). stdout stays free for ``--json`` documents and JSON lines.

A command's own running account (export steps, training and sweep progress) is not a log record but its output:
:func:`echo` prints it unprefixed on stderr, unless the log is quiet. TensorFlow's C++ start-up chatter is kept
out by ``TF_CPP_MIN_LOG_LEVEL`` where TensorFlow is imported (:mod:`edgecnn.training._tf`) and by an OS-level
redirection around the converter (:mod:`edgecnn.core.quiet`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

LOGGER = "edgecnn"
"""The parent logger of every edgecnn module."""

FORMAT = "edgecnn: %(tag)s%(message)s"
"""The one log line format; ``tag`` is empty for INFO, else the level name (``warning: ``, ``debug: ``...)."""


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.tag = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(*, quiet: bool = False, verbose: bool = False) -> None:
    """Sends the ``edgecnn`` log to stderr in the one format, at INFO, WARNING (``quiet``) or DEBUG (``verbose``).

    Idempotent: the handler is added once, later calls only change the level. ``quiet`` wins over ``verbose``
    and also silences :func:`echo`.
    """
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_Formatter(FORMAT))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


@contextlib.contextmanager
def logging_configured(*, quiet: bool = False, verbose: bool = False) -> Iterator[None]:
    """:func:`configure_logging` for the block only: the logger's handlers and level are put back at its end.

    The CLI wraps each command in it, so that one command's ``--quiet`` does not outlive it in a process that
    runs several (tests, notebooks).
    """
    logger = logging.getLogger(LOGGER)
    saved_level, saved_handlers = logger.level, list(logger.handlers)
    configure_logging(quiet=quiet, verbose=verbose)
    try:
        yield
    finally:
        logger.setLevel(saved_level)
        logger.handlers[:] = saved_handlers


def is_quiet() -> bool:
    """Whether the ``edgecnn`` log is set to skip INFO (``--quiet``); unconfigured it is not."""
    return logging.getLogger(LOGGER).level > logging.INFO


def echo(message: str) -> None:
    """Prints one progress line of a long command on stderr, unprefixed, unless the log is quiet.

    When tqdm is loaded (so a progress bar may be on screen) the line goes through ``tqdm.write``, which redraws
    the bar below it instead of breaking it.
    """
    if is_quiet():
        return
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        tqdm.tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr)
    sys.stderr.flush()

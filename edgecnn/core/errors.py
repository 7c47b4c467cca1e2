"""The one exception type for user mistakes and unusable inputs.

The CLI prints an :class:`EdgeCNNError` as a single ``error: ...`` line on stderr and exits with code 2; every
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class EdgeCNNError(Exception):
    """A bad argument, a missing or unreadable file, or an input the tool cannot use.

    Library code names its parameters in the message (``threads must be >= 1. Received threads=0``) and lists
    them in ``param``; the CLI shows each such name as the command's flag (``--threads must be >= 1...``).

    Args:
        message: One line.
        param: The parameter (or parameters) the message names, as the library spells them.
    """

    def __init__(self, message: str = "", *, param: str | Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.params: tuple[str, ...] = (param,) if isinstance(param, str) else tuple(param or ())

"""The one exception type for user mistakes and unusable inputs.

The CLI prints an :class:`EdgeCNNError` as a single ``error: ...`` line on stderr and exits with code 2; every
other exception is a bug and keeps its traceback.
"""


class EdgeCNNError(Exception):
    """A bad argument, a missing or unreadable file, or an input the tool cannot use."""

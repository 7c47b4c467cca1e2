"""The options of ``edgecnn run`` as one typed container, with their defaults and range checks.

This is what library callers pass to :func:`edgecnn.device.daemon.run`. The command line declares the same
options once (``edgecnn/cli/run_cmd.py``: flags, help, types) and takes its defaults from this class; a
``--config FILE`` feeds that declaration (see :mod:`edgecnn.core.config` for the file's rules). Errors name the
parameters (``top_k must be >= 1. Received top_k=0``); the CLI shows them as flags.

Device side: the standard library only at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.errors import EdgeCNNError


@dataclass
class RunOptions:
    """Everything ``edgecnn run`` does, with the command's defaults. See ``edgecnn run --help``."""

    model: str | None = None
    source: str = "0"
    threads: int | None = None
    delegate: str | None = None
    interpreter: str | None = None
    labels: str | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    bgr: bool = False
    resize_mode: str | None = None
    top_k: int = 3
    threshold: float = 0.0
    smooth: float | None = None
    jsonl: str | None = None
    http: str | None = None
    save_video: str | None = None
    display: bool = False
    max_frames: int | None = None
    duration: float | None = None
    realtime: bool = False
    loop: bool = False
    wait_for_source: bool = False
    json: bool = False

    def __post_init__(self) -> None:
        for name in ("mean", "std"):  # one value or one per channel, as a list (the CLI parses a tuple)
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, [float(v) for v in (value if isinstance(value, list | tuple) else [value])])

    def validate(self) -> RunOptions:
        """Checks values that need no file access; returns self.

        Raises:
            EdgeCNNError: For a missing model, out-of-range numbers or conflicting outputs.
        """
        from edgecnn.core.preprocessing import RESIZE_MODES
        from edgecnn.device.postprocess import check_selection, check_smoothing

        if not self.model:
            raise EdgeCNNError("model must be a .tflite file. Received model=None", param="model")
        check_selection(self.top_k, self.threshold)
        if self.smooth is not None:
            check_smoothing(self.smooth)
        checks = [
            (self.threads is None or self.threads >= 1, "threads", ">= 1"),
            (self.max_frames is None or self.max_frames >= 1, "max_frames", ">= 1"),
            (self.duration is None or self.duration > 0, "duration", "> 0"),
            (self.resize_mode in (None, *RESIZE_MODES), "resize_mode", " or ".join(RESIZE_MODES)),
        ]
        for ok, name, rule in checks:
            if not ok:
                raise EdgeCNNError(f"{name} must be {rule}. Received {name}={getattr(self, name)!r}", param=name)
        for name in ("mean", "std"):
            values = getattr(self, name)
            if values is not None and len(values) not in (1, 3):
                raise EdgeCNNError(
                    f"{name} takes 1 or 3 values (one per channel). Received {name}={values!r}", param=name
                )
        if self.json and self.jsonl == "-":
            raise EdgeCNNError("json and jsonl '-' both write to stdout; give jsonl a file", param=("json", "jsonl"))
        return self

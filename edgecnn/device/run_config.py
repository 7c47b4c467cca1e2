"""The options of ``edgecnn run`` as one dataclass, read from ``--config FILE`` (JSON or TOML) and the CLI.

A config file holds the same options as the command line, named like the flags (``top_k`` or ``top-k``), flat
or under a ``[run]`` table. Command-line options override the file. Relative paths in a file (model, labels,
JSON lines, video, a source that exists) are relative to the file's directory, so a service can point at a
config anywhere.

Example ``edgecnn.toml``::

    model = "fashion_int8.tflite"
    source = "/dev/video0"
    top_k = 3
    smooth = 0.3
    jsonl = "predictions.jsonl"
    http = "127.0.0.1:8080"

Device side: the standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    @classmethod
    def field_types(cls) -> dict[str, str]:
        """Option name -> its type as written in the annotation (``int | None``...)."""
        return {f.name: str(f.type) for f in dataclasses.fields(cls)}

    def validate(self) -> RunOptions:
        """Checks values that need no file access; returns self.

        Raises:
            EdgeCNNError: For a missing model, out-of-range numbers or conflicting outputs.
        """
        if not self.model:
            raise EdgeCNNError("no model given: pass MODEL.tflite or set 'model' in the --config file")
        checks = [
            (self.threads is None or self.threads >= 1, f"--threads must be >= 1. Received threads={self.threads}"),
            (self.top_k >= 1, f"--top-k must be >= 1. Received top_k={self.top_k}"),
            (0.0 <= self.threshold <= 1.0, f"--threshold must be in [0, 1]. Received threshold={self.threshold}"),
            (
                self.smooth is None or 0.0 < self.smooth <= 1.0,
                f"--smooth must be in (0, 1]. Received smooth={self.smooth}",
            ),
            (
                self.max_frames is None or self.max_frames >= 1,
                f"--max-frames must be >= 1. Received max_frames={self.max_frames}",
            ),
            (self.duration is None or self.duration > 0, f"--duration must be > 0. Received duration={self.duration}"),
            (not (self.json and self.jsonl == "-"), "--json and --jsonl - both write to stdout; give --jsonl a file"),
            (
                self.resize_mode in (None, "stretch", "crop"),
                f"--resize-mode must be stretch or crop. Received resize_mode={self.resize_mode!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise EdgeCNNError(message)
        return self


def flag_of(name: str) -> str:
    """The command-line flag of an option (``top_k`` -> ``--top-k``)."""
    return "--" + name.replace("_", "-")


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(RunOptions))
PATH_OPTIONS = ("model", "labels", "jsonl", "save_video")


def parse_floats(value: Any, name: str) -> list[float]:
    """A number, a list of numbers or a comma-separated string (``"123.7,116.3,103.5"``) as floats."""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    try:
        floats = [float(item) for item in items]
    except (TypeError, ValueError):
        raise EdgeCNNError(f"{name} must be a number or a list of numbers. Received {name}={value!r}") from None
    if len(floats) not in (1, 3):
        raise EdgeCNNError(f"{name} takes 1 or 3 values (one per channel). Received {name}={value!r}")
    return floats


def _coerce(name: str, value: Any, type_text: str, origin: str) -> Any:
    if value is None:
        return None
    if name in ("mean", "std"):
        return parse_floats(value, name)
    try:
        if type_text.startswith("bool"):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if type_text.startswith("int"):
            if isinstance(value, bool) or not float(value).is_integer():
                raise TypeError
            return int(value)
        if type_text.startswith("float"):
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if isinstance(value, list | dict):
            raise TypeError
        return str(value)
    except (TypeError, ValueError):
        kind = type_text.split(" ")[0]
        raise EdgeCNNError(f"{origin}: {name} must be {kind}. Received {name}={value!r}") from None


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a JSON (``.json``) or TOML (any other suffix) config file into validated option values.

    Raises:
        EdgeCNNError: For a missing or unparsable file, unknown options or wrongly typed values.
    """
    path = Path(path)
    if not path.is_file():
        raise EdgeCNNError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EdgeCNNError(f"cannot parse config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise EdgeCNNError(f"config file {path} must hold a table of options, got {type(data).__name__}")
    if isinstance(data.get("run"), dict):
        data = data["run"]
    types = RunOptions.field_types()
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in types:
            raise EdgeCNNError(f"unknown option {key!r} in config file {path}; known: {', '.join(OPTION_NAMES)}")
        values[name] = _coerce(name, value, types[name], f"config file {path}")
    base = path.resolve().parent
    for name in PATH_OPTIONS:
        if isinstance(values.get(name), str) and values[name] != "-":
            values[name] = str(base / Path(values[name]).expanduser())
    source = values.get("source")
    if isinstance(source, str) and not Path(source).is_absolute() and (base / source).exists():
        values["source"] = str(base / source)
    return values


def build_options(cli_values: dict[str, Any], config: str | os.PathLike | None = None) -> RunOptions:
    """Merges defaults, the config file and the command line (which wins), then validates.

    Args:
        cli_values: Option values from the command line; None means "not given".
        config: The ``--config`` file, or None.
    """
    merged: dict[str, Any] = load_config(config) if config else {}
    types = RunOptions.field_types()
    for name, value in cli_values.items():
        if name not in types:
            raise EdgeCNNError(f"unknown run option {name!r}")
        if value is not None:
            merged[name] = _coerce(name, value, types[name], "command line")
    return RunOptions(**merged).validate()

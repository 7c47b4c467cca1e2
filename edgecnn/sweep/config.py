"""What a sweep explores: the grid (architectures x widths x input sizes x quantization schemes) and the
fixed settings every trial shares, read from command-line values or a ``sweep.toml`` / ``sweep.json`` file.

A *trial* is one trained network, ``(arch, alpha, size)``; each quantization scheme exported from it is one
*row* of the results. Trials are named ``<arch>_a<alpha>_s<size>`` and live in ``SWEEP_DIR/trials/<name>``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.export.schemes import SCHEMES as _EXPORT_SCHEMES

SCHEMES = tuple(_EXPORT_SCHEMES)  # the exporter's table: float32, float16, dynamic, int8, int16x8
EXECUTORS = ("local", "ray")
SELECT_BY = ("size", "latency")

DEFAULT_ARCHS = ("mobilenet_v1", "mobilenet_v2", "squeezenet_1_1")
DEFAULT_ALPHAS = (0.25, 0.5, 0.75, 1.0)
DEFAULT_SIZES = (32, 64)
DEFAULT_SCHEMES = ("float32", "float16", "dynamic", "int8")

# Settings that change what a finished trial or row means; a resumed sweep must use the same values.
FIXED_SETTINGS = (
    "data",
    "channels",
    "epochs",
    "batch_size",
    "lr",
    "max_samples",
    "val_split",
    "seed",
    "train_options",
    "eval_samples",
    "calib_samples",
    "threads",
    "bench_runs",
    "bench_warmup",
)
# Trainer arguments the sweep sets itself (from its own settings or the grid), refused in train_options.
SWEEP_TRAIN_ARGS = (
    "arch",
    "data",
    "out",
    "alpha",
    "size",
    "channels",
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "max_samples",
    "val_split",
    "progress",
    "resume",
    "force",
)


@dataclass(frozen=True)
class Trial:
    """One network to train: the grid point ``(arch, alpha, size)`` and the schemes to export from it."""

    arch: str
    alpha: float
    size: int
    schemes: tuple[str, ...]

    @property
    def name(self) -> str:
        """The trial's folder name, e.g. ``mobilenet_v2_a0.5_s32``."""
        return trial_name(self.arch, self.alpha, self.size)


def trial_name(arch: str, alpha: float, size: int) -> str:
    """``<arch>_a<alpha>_s<size>`` with the shortest exact spelling of alpha (``0.5``, ``1``)."""
    return f"{arch}_a{float(alpha):g}_s{int(size)}"


@dataclass(frozen=True)
class SweepConfig:
    """The grid and the settings shared by every trial.

    Attributes:
        data: Dataset source, as ``edgecnn train --data`` takes it (folder, IDX files, ``fashion_mnist``...).
        archs: Architecture names from the zoo.
        alphas: Width multipliers.
        sizes: Square input sizes in pixels.
        schemes: Quantization schemes (:data:`SCHEMES`); ``float32`` is the unquantized export.
        channels: Input channels (None: what the dataset has).
        epochs: Training epochs per trial.
        batch_size: Training batch size.
        lr: Learning rate (None: the trainer's default).
        max_samples: Use at most this many training images (None: all).
        val_split: Validation fraction (None: the trainer's default).
        seed: Random seed for data shuffling and weight initialisation.
        train_options: Further keyword arguments for :func:`edgecnn.training.train.train` (``optimizer``, ``schedule``,
            ``augment``, ``label_smoothing``...), the same for every trial.
        eval_samples: Evaluate on at most this many test images (None: the whole test split).
        calib_samples: Calibration images for int8/int16x8 (None: the exporter's default).
        threads: Interpreter threads for the latency benchmark.
        bench_runs: Timed benchmark runs per model.
        bench_warmup: Untimed warm-up runs per model.
        executor: ``local`` (sequential, in this process) or ``ray`` (one Ray task per trial).
        ray_address: Address of an existing Ray cluster (None: start a local one on loopback).
        ray_cpus: CPUs of the local Ray instance started when no address is given.
    """

    data: str
    archs: tuple[str, ...] = DEFAULT_ARCHS
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    sizes: tuple[int, ...] = DEFAULT_SIZES
    schemes: tuple[str, ...] = DEFAULT_SCHEMES
    channels: int | None = None
    epochs: int = 3
    batch_size: int = 64
    lr: float | None = None
    max_samples: int | None = None
    val_split: float | None = None
    seed: int = 0
    train_options: dict[str, Any] = field(default_factory=dict)
    eval_samples: int | None = None
    calib_samples: int | None = None
    threads: int = 1
    bench_runs: int = 100
    bench_warmup: int = 10
    executor: str = "local"
    ray_address: str | None = None
    ray_cpus: int = 2

    def __post_init__(self) -> None:
        if not self.data:
            raise EdgeCNNError("a sweep needs --data (a dataset folder, IDX files or a dataset name)")
        for name in ("archs", "alphas", "sizes", "schemes"):
            if not getattr(self, name):
                raise EdgeCNNError(f"the sweep grid needs at least one value for {name}")
        for name in ("archs", "alphas", "sizes", "schemes"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise EdgeCNNError(f"{name} lists a value twice. Received {','.join(map(str, values))}")
        for alpha in self.alphas:
            if not alpha > 0:
                raise EdgeCNNError(f"alpha must be > 0. Received alpha={alpha:g}")
        for size in self.sizes:
            if size < 1:
                raise EdgeCNNError(f"size must be a positive number of pixels. Received size={size}")
        for scheme in self.schemes:
            if scheme not in SCHEMES:
                raise EdgeCNNError(f"unknown quantization scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
        if self.executor not in EXECUTORS:
            raise EdgeCNNError(f"executor must be one of {', '.join(EXECUTORS)}. Received {self.executor!r}")
        positive = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "threads": self.threads,
            "bench_runs": self.bench_runs,
            "ray_cpus": self.ray_cpus,
        }
        for name in ("max_samples", "eval_samples", "calib_samples"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        for name, value in positive.items():
            if value < 1:
                raise EdgeCNNError(f"{name.replace('_', '-')} must be >= 1. Received {value}")
        if self.bench_warmup < 0:
            raise EdgeCNNError(f"bench-warmup must be >= 0. Received {self.bench_warmup}")
        if not isinstance(self.train_options, dict):
            raise EdgeCNNError(f"train options must be a table of trainer arguments. Received {self.train_options!r}")
        taken = sorted(set(self.train_options) & set(SWEEP_TRAIN_ARGS))
        if taken:
            option = taken[0].replace("_", "-")
            raise EdgeCNNError(f"train option {taken[0]!r} is a sweep setting; set it with --{option} (or the grid)")
        if self.channels not in (None, 1, 3):
            raise EdgeCNNError(f"channels must be 1 or 3. Received channels={self.channels}")

    def trials(self) -> list[Trial]:
        """The grid expanded in a stable order: arch, then alpha, then size (each with every scheme)."""
        return [
            Trial(arch, float(alpha), int(size), tuple(self.schemes))
            for arch in self.archs
            for alpha in self.alphas
            for size in self.sizes
        ]

    @property
    def num_rows(self) -> int:
        """Rows the finished sweep will hold: trials x schemes."""
        return len(self.archs) * len(self.alphas) * len(self.sizes) * len(self.schemes)

    def fixed_settings(self) -> dict[str, Any]:
        """The settings a resumed sweep must share with the one it continues (see :data:`FIXED_SETTINGS`)."""
        return {name: getattr(self, name) for name in FIXED_SETTINGS}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for the grid axes); :func:`config_from_mapping` reads it back."""
        data = asdict(self)
        for name in ("archs", "alphas", "sizes", "schemes"):
            data[name] = list(data[name])
        return data

    def command(self, out: str | Path) -> str:
        """The ``edgecnn sweep`` command line that runs this sweep into ``out``."""
        parts = [
            "edgecnn",
            "sweep",
            "--data",
            self.data,
            "--arch",
            ",".join(self.archs),
            "--alpha",
            ",".join(f"{a:g}" for a in self.alphas),
            "--size",
            ",".join(str(s) for s in self.sizes),
            "--quantize",
            ",".join(self.schemes),
        ]
        defaults = SweepConfig(data=self.data)
        for name, option in _OPTION_NAMES.items():
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts += [option, f"{value:g}" if isinstance(value, float) else str(value)]
        for key, value in self.train_options.items():
            parts += ["--train-opt", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
        parts += ["--out", str(out)]
        return shlex.join(parts)


# Scalar settings and their command-line spelling (grid axes and --out are handled separately).
_OPTION_NAMES = {
    "channels": "--channels",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "max_samples": "--max-samples",
    "val_split": "--val-split",
    "seed": "--seed",
    "eval_samples": "--eval-samples",
    "calib_samples": "--calib-samples",
    "threads": "--threads",
    "bench_runs": "--bench-runs",
    "bench_warmup": "--bench-warmup",
    "executor": "--executor",
    "ray_address": "--ray-address",
    "ray_cpus": "--ray-cpus",
}

# Config-file keys that name a grid axis, as the command line spells them, and the field they fill.
_AXIS_KEYS = {
    "arch": "archs",
    "archs": "archs",
    "alpha": "alphas",
    "alphas": "alphas",
    "size": "sizes",
    "sizes": "sizes",
    "quantize": "schemes",
    "scheme": "schemes",
    "schemes": "schemes",
}
_AXIS_TYPES = {"archs": str, "alphas": float, "sizes": int, "schemes": str}

# Keys that a config file may carry besides the SweepConfig fields (they steer the run, not the grid).
RUN_KEYS = (
    "out",
    "resume",
    "min_accuracy",
    "select",
    "select_by",
    "select_to",
    "select_scheme",
    "max_ram_kb",
    "max_flash_kb",
)


def parse_list(value: str | list | tuple | float | int, kind: type, name: str) -> tuple:
    """A grid axis from ``"a,b,c"``, a list, or a single value, converted to ``kind``.

    Raises:
        EdgeCNNError: On an empty item or a value that does not convert.
    """
    items = (
        value.split(",") if isinstance(value, str) else (list(value) if isinstance(value, list | tuple) else [value])
    )
    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            raise EdgeCNNError(f"--{name} has an empty item. Received {value!r}")
        try:
            if kind is int:
                number = float(text)
                if number != int(number):
                    raise ValueError(text)
                out.append(int(number))
            else:
                out.append(kind(text))
        except ValueError:
            raise EdgeCNNError(f"--{name} takes {kind.__name__} values. Received {text!r}") from None
    return tuple(out)


def parse_train_options(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["optimizer=sgd", "augment=false", "label_smoothing=0"]`` as a dict; values are read as JSON when they
    parse (numbers, booleans, null), else kept as strings.

    Raises:
        EdgeCNNError: On an item without ``=``.
    """
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            raise EdgeCNNError(f"--train-opt takes KEY=VALUE. Received {item!r}")
        try:
            options[key.strip().replace("-", "_")] = json.loads(text)
        except ValueError:
            options[key.strip().replace("-", "_")] = text
    return options


def normalize_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Settings keyed by their canonical names, ``None`` values dropped.

    Grid axes may be spelled as on the command line (``arch``, ``alpha``, ``size``, ``quantize``) or as fields
    (``archs``...), dashes in keys are read as underscores; :data:`RUN_KEYS` are kept as they are.

    Raises:
        EdgeCNNError: On an unknown key.
    """
    known = {f.name for f in fields(SweepConfig)}
    out: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = str(raw_key).replace("-", "_")
        key = _AXIS_KEYS.get(key, key)
        if key not in known and key not in RUN_KEYS:
            raise EdgeCNNError(
                f"unknown sweep setting {raw_key!r}; known: "
                f"{', '.join(sorted(known | set(_AXIS_KEYS) | set(RUN_KEYS)))}"
            )
        if value is not None:
            out[key] = value
    return out


def config_from_mapping(values: dict[str, Any]) -> SweepConfig:
    """A :class:`SweepConfig` from config-file or command-line settings (see :func:`normalize_settings`).

    Grid axes may be comma-separated strings or lists. Keys in :data:`RUN_KEYS` are ignored here.

    Raises:
        EdgeCNNError: On unknown keys or invalid values.
    """
    settings = {k: v for k, v in normalize_settings(values).items() if k not in RUN_KEYS}
    for axis, kind in _AXIS_TYPES.items():
        if axis in settings:
            settings[axis] = parse_list(settings[axis], kind, axis)
    if "data" not in settings:
        raise EdgeCNNError("a sweep needs --data (a dataset folder, IDX files or a dataset name)")
    return SweepConfig(**settings)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The settings of a ``.toml`` or ``.json`` sweep file (a flat table; a ``[sweep]`` table also works).

    Raises:
        EdgeCNNError: If the file is missing, unreadable or not a table.
    """
    path = Path(path)
    if not path.is_file():
        raise EdgeCNNError(f"sweep config file not found: {path}")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise EdgeCNNError(f"sweep config must be a .toml or .json file. Received {path}")
    except (ValueError, UnicodeDecodeError) as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise EdgeCNNError(f"cannot read sweep config {path}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("sweep"), dict) and len(data) == 1:
        data = data["sweep"]
    if not isinstance(data, dict):
        raise EdgeCNNError(f"sweep config {path} must hold a table of settings, got {type(data).__name__}")
    return data

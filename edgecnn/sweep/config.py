"""What a sweep explores: the grid (architectures x widths x input sizes x quantization schemes) and the
fixed settings every trial shares.

:class:`SweepConfig` is the typed container library callers build; ``edgecnn sweep`` declares the same settings
once as options (``edgecnn/cli/sweep_cmd.py``), takes its defaults from this class and reads ``--config
sweep.toml`` with the one config loader (:mod:`edgecnn.core.config`). Errors name the parameters
(``alpha must be > 0. Received alpha=-1``); the CLI shows them as flags.

A *trial* is one trained network, ``(arch, alpha, size)``; each quantization scheme exported from it is one
*row* of the results. Trials are named ``<arch>_a<alpha>_s<size>`` and live in ``SWEEP_DIR/trials/<name>``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from edgecnn.core.config import flag_of
from edgecnn.core.errors import EdgeCNNError
from edgecnn.training.export.schemes import SCHEMES as _EXPORT_SCHEMES

#: Sweep schemes that are an export scheme with an export option: name -> (export scheme, export keyword arguments).
SCHEME_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {"int8_per_tensor": ("int8", {"per_tensor": True})}
# The exporter's table (float32, float16, dynamic, int8, int16x8), then the variants.
SCHEMES = tuple(_EXPORT_SCHEMES) + tuple(SCHEME_VARIANTS)
EXECUTORS = ("local", "ray")
SELECT_BY = ("size", "latency")

DEFAULT_ARCHS = ("mobilenet_v1", "mobilenet_v2", "squeezenet_1_1")
DEFAULT_ALPHAS = (0.25, 0.5, 0.75, 1.0)
DEFAULT_SIZES = (32, 64)
DEFAULT_SCHEMES = ("float32", "float16", "dynamic", "int8")
#: The grid's axes, as :class:`SweepConfig` names them.
GRID_AXES = ("archs", "alphas", "sizes", "schemes")
#: The sweep's distillation flags (``--teacher``, ``--distill-*``): kept among the train options, which every trial
#: passes to the trainer.
DISTILL_OPTIONS = ("teacher", "distill_temperature", "distill_weight")

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


def export_arguments(scheme: str) -> tuple[str, dict[str, Any]]:
    """The export scheme and options of a sweep scheme: ``int8_per_tensor`` is ``int8`` with ``per_tensor=True``."""
    return SCHEME_VARIANTS.get(scheme, (scheme, {}))


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
            raise EdgeCNNError("a sweep needs data (a dataset folder, IDX files or a dataset name)", param="data")
        for name in GRID_AXES:
            if not getattr(self, name):
                raise EdgeCNNError(f"the sweep grid needs at least one value for {name}", param=name)
        for name in GRID_AXES:
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise EdgeCNNError(f"{name} lists a value twice. Received {','.join(map(str, values))}", param=name)
        for alpha in self.alphas:
            if not alpha > 0:
                raise EdgeCNNError(f"alpha must be > 0. Received alpha={alpha:g}", param="alpha")
        for size in self.sizes:
            if size < 1:
                raise EdgeCNNError(f"size must be a positive number of pixels. Received size={size}", param="size")
        for scheme in self.schemes:
            if scheme not in SCHEMES:
                raise EdgeCNNError(f"unknown quantization scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
        if self.executor not in EXECUTORS:
            raise EdgeCNNError(
                f"executor must be one of {', '.join(EXECUTORS)}. Received executor={self.executor!r}",
                param="executor",
            )
        positive = ["epochs", "batch_size", "threads", "bench_runs", "ray_cpus"]
        positive += [n for n in ("max_samples", "eval_samples", "calib_samples") if getattr(self, n) is not None]
        for name in positive:
            if getattr(self, name) < 1:
                raise EdgeCNNError(f"{name} must be >= 1. Received {name}={getattr(self, name)}", param=name)
        if self.bench_warmup < 0:
            raise EdgeCNNError(
                f"bench_warmup must be >= 0. Received bench_warmup={self.bench_warmup}", param="bench_warmup"
            )
        if not isinstance(self.train_options, dict):
            raise EdgeCNNError(
                f"train_options must be a table of trainer arguments. Received {self.train_options!r}",
                param="train_options",
            )
        taken = sorted(set(self.train_options) & set(SWEEP_TRAIN_ARGS))
        if taken:
            option = taken[0].replace("_", "-")
            raise EdgeCNNError(f"train option {taken[0]!r} is a sweep setting; set it with --{option} (or the grid)")
        if self.channels not in (None, 1, 3):
            raise EdgeCNNError(f"channels must be 1 or 3. Received channels={self.channels}", param="channels")

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
        for name in GRID_AXES:
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
        for name in (f.name for f in fields(self) if f.name not in ("data", "train_options", *GRID_AXES)):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts += [flag_of(name), _flag_value(value)]
        for key, value in self.train_options.items():
            if key in DISTILL_OPTIONS:
                parts += [flag_of(key), _flag_value(value)]
            else:
                parts += ["--train-opt", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
        parts += ["--out", str(out)]
        return shlex.join(parts)


def _flag_value(value: Any) -> str:
    """A setting as :meth:`SweepConfig.command` writes it after its flag (floats in ``%g``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)

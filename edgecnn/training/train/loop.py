"""The training loop: data source -> prepared pixels -> zoo model -> run directory.

One call of :func:`train` builds (or resumes) a run: it draws deterministic splits, prepares every image with
:func:`edgecnn.core.preprocessing.prepare`, trains with a warm-up + cosine (or one-cycle) schedule, keeps the run
directory current after every epoch and finally scores the best model on the test split.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn import __version__
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_json_atomic
from edgecnn.core.labels import write_labels
from edgecnn.core.logs import echo
from edgecnn.core.preprocessing import RESIZE_MODES, Preprocessing
from edgecnn.core.timestamps import utc_now
from edgecnn.training import runs
from edgecnn.training._tf import import_tf
from edgecnn.training.data import data_config, make_splits, open_source, prepare_split, resolve_split
from edgecnn.training.data.images import prepare_files
from edgecnn.training.data.pipeline import Augment, FileLoader, memory_dataset, stream_dataset
from edgecnn.training.data.sources import SplitData
from edgecnn.training.train.checkpoint import RunCheckpoint, load_model, read_history
from edgecnn.training.train.schedules import OPTIMIZERS, SCHEDULES, default_lr, make_optimizer, make_schedule
from edgecnn.training.train.validation import PreciseBNValidation

tf, keras = import_tf()
log = logging.getLogger(__name__)

#: Folders whose prepared pixels fit in this many bytes are decoded once into memory; bigger ones are streamed.
IN_MEMORY_BYTES = 2 << 30
#: Files of a run directory, removed by ``force=True`` before a new run starts there.
#: Training batches averaged for the precise BatchNorm statistics before each validation.
BN_BATCHES = 50
RUN_FILES = (runs.CONFIG, runs.LABELS, runs.BEST, runs.LAST, runs.STATE, runs.HISTORY, runs.METRICS, runs.CURVES)


@dataclass
class _Inputs:
    """The datasets of one run and what the loop needs to know about them."""

    train: Any
    val: Any | None
    n_train: int
    n_val: int
    steps_per_epoch: int
    loader: FileLoader | None
    bn_images: np.ndarray | None


def _check_options(
    epochs: int,
    batch_size: int,
    lr: float | None,
    schedule: str,
    optimizer: str,
    label_smoothing: float,
    resize_mode: str,
) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise EdgeCNNError(f"epochs must be an integer >= 1. Received epochs={epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EdgeCNNError(f"batch_size must be an integer >= 1. Received batch_size={batch_size!r}")
    if lr is not None and not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise EdgeCNNError(f"lr must be a number > 0. Received lr={lr!r}")
    if schedule not in SCHEDULES:
        raise EdgeCNNError(f"schedule must be one of {', '.join(SCHEDULES)}. Received schedule={schedule!r}")
    if optimizer not in OPTIMIZERS:
        raise EdgeCNNError(f"optimizer must be one of {', '.join(OPTIMIZERS)}. Received optimizer={optimizer!r}")
    if not 0.0 <= label_smoothing < 1.0:
        raise EdgeCNNError(f"label_smoothing must be in [0, 1). Received label_smoothing={label_smoothing!r}")
    if resize_mode not in RESIZE_MODES:
        raise EdgeCNNError(f"resize_mode must be one of {', '.join(RESIZE_MODES)}. Received {resize_mode!r}")


def _check_recipe(
    augment: bool,
    translate: float | None,
    crop_pad: int | None,
    erase: float | None,
    warmup_epochs: float | None,
    weight_decay: float | None,
    schedule: str,
) -> None:
    given = {"translate": translate, "crop_pad": crop_pad, "erase": erase}
    if not augment and any(v for v in given.values()):
        name = next(k for k, v in given.items() if v)
        raise EdgeCNNError(f"--{name.replace('_', '-')} needs augmentation on (it was turned off with --no-augment)")
    Augment(**{k: v for k, v in given.items() if v is not None})  # validates the values
    if warmup_epochs is not None:
        if not (isinstance(warmup_epochs, int | float) and math.isfinite(warmup_epochs) and warmup_epochs >= 0):
            raise EdgeCNNError(f"warmup_epochs must be a number >= 0. Received warmup_epochs={warmup_epochs!r}")
        if schedule != "cosine":
            raise EdgeCNNError(f"warmup_epochs applies to the cosine schedule, not {schedule}")
    if weight_decay is not None and not (
        isinstance(weight_decay, int | float) and math.isfinite(weight_decay) and weight_decay >= 0
    ):
        raise EdgeCNNError(f"weight_decay must be a number >= 0. Received weight_decay={weight_decay!r}")


def _check_run_dir(out: Path, *, resume: bool, force: bool) -> None:
    if resume:
        for name in (runs.CONFIG, runs.LAST, runs.STATE):
            if not (out / name).is_file():
                raise EdgeCNNError(f"cannot resume {out}: {name} is missing (no interrupted or finished run there)")
        return
    if out.exists() and not out.is_dir():
        raise EdgeCNNError(f"--out {out} is a file, not a run directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise EdgeCNNError(f"run directory {out} is not empty; pass --resume to continue it or --force to start over")


def _reset_run_dir(out: Path) -> None:
    """Removes a previous run's files (``force``) and creates the directory."""
    if out.is_dir():
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def apply_freeze(model, head_layers: tuple[str, ...], *, freeze_backbone: bool, fine_tune_at: int | str | None):
    """Marks layers non-trainable: everything before the classifier head, or the layers before ``fine_tune_at``.

    Args:
        model: The zoo model.
        head_layers: Names of the classifier head's weight layers (``edgecnn.training.zoo.transfer.HEAD_LAYERS``).
        freeze_backbone: Train only the head.
        fine_tune_at: Layer index or name; the layers before it are frozen (Keras' fine-tuning recipe).

    Returns:
        The number of frozen layers.
    """
    names = [layer.name for layer in model.layers]
    if fine_tune_at is not None:
        if isinstance(fine_tune_at, str) and not fine_tune_at.lstrip("-").isdigit():
            if fine_tune_at not in names:
                raise EdgeCNNError(f"fine_tune_at names no layer of the model. Received fine_tune_at={fine_tune_at!r}")
            cut = names.index(fine_tune_at)
        else:
            cut = int(fine_tune_at)
            if not 0 <= cut < len(names):
                raise EdgeCNNError(
                    f"fine_tune_at must be a layer index in [0, {len(names) - 1}] or a layer name. "
                    f"Received fine_tune_at={fine_tune_at!r}"
                )
    elif freeze_backbone:
        heads = [names.index(n) for n in head_layers if n in names]
        if not heads:
            raise EdgeCNNError(f"cannot find the classifier head ({', '.join(head_layers)}) to freeze before")
        cut = min(heads)
    else:
        return 0
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= cut
    return cut


def _estimated_bytes(splits: dict[str, SplitData], spec: Preprocessing) -> int:
    return sum(len(s) for s in splits.values()) * int(np.prod(spec.shape))


def _build_inputs(
    splits: dict[str, SplitData],
    spec: Preprocessing,
    *,
    num_classes: int,
    batch_size: int,
    augment: Augment | None,
    seed: int,
    stream: bool | None,
    where: str,
    progress: bool,
) -> _Inputs:
    in_memory = all(s.images is not None for s in splits.values()) or (
        not stream if stream is not None else _estimated_bytes(splits, spec) <= IN_MEMORY_BYTES
    )
    train_split, val_split = splits["train"], splits.get("val")
    loader = None
    if in_memory:
        x, y = prepare_split(train_split, spec, where=f"{where} (train)", progress=progress)
        train = memory_dataset(
            x, y, num_classes=num_classes, batch_size=batch_size, training=True, augment=augment, seed=seed
        )
        n_train = len(x)
        bn_images = x
        val, n_val = None, 0
        if val_split is not None:
            xv, yv = prepare_split(val_split, spec, where=f"{where} (val)", progress=progress)
            val = memory_dataset(xv, yv, num_classes=num_classes, batch_size=batch_size, training=False)
            n_val = len(xv)
    else:
        loader = FileLoader(spec)
        train = stream_dataset(
            train_split.files,
            train_split.labels,
            spec,
            num_classes=num_classes,
            batch_size=batch_size,
            training=True,
            augment=augment,
            seed=seed,
            loader=loader,
        )
        n_train = len(train_split)
        val = (
            None
            if val_split is None
            else stream_dataset(
                val_split.files,
                val_split.labels,
                spec,
                num_classes=num_classes,
                batch_size=batch_size,
                training=False,
                loader=loader,
            )
        )
        n_val = 0 if val_split is None else len(val_split)
        sample = np.random.default_rng([seed, 7]).permutation(len(train_split))[: BN_BATCHES * batch_size]
        bn_images, _, _ = prepare_files([train_split.files[i] for i in np.sort(sample)], spec)
    drop = n_train > batch_size
    steps = n_train // batch_size if drop else 1
    return _Inputs(
        train=train,
        val=val,
        n_train=n_train,
        n_val=n_val,
        steps_per_epoch=max(steps, 1),
        loader=loader,
        bn_images=bn_images,
    )


class _ThroughputClock(keras.callbacks.Callback):
    """Training time per epoch without the validation pass (for images/s)."""

    def __init__(self) -> None:
        super().__init__()
        self.train_seconds = 0.0
        self._start = 0.0
        self._counted = True

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._counted = False

    def _count(self) -> None:
        if not self._counted:
            self.train_seconds += time.perf_counter() - self._start
            self._counted = True

    def on_test_begin(self, logs=None):
        self._count()

    def on_epoch_end(self, epoch, logs=None):
        self._count()


class _SkippedFilesWarning(keras.callbacks.Callback):
    """Logs once, after the first epoch, how many streamed image files could not be read."""

    def __init__(self, loader: FileLoader, where: str) -> None:
        super().__init__()
        self.loader = loader
        self.where = where
        self.done = False

    def on_epoch_end(self, epoch, logs=None):
        if not self.done and self.loader.skipped:
            from edgecnn.training.data.images import warn_skipped

            warn_skipped(sorted(self.loader.skipped), self.where)
            self.done = True


def _model_record(
    info, height: int, width: int, channels: int, classes: int, alpha: float, dropout, separable, knobs: dict
):
    return {
        "arch": info.name,
        "alpha": float(alpha),
        "size": [height, width],
        "channels": channels,
        "classes": classes,
        "dropout": float(info.default_dropout if dropout is None else dropout),
        "separable": bool(info.default_separable if separable is None else separable),
        **knobs,
    }


def build_from_record(model: dict[str, Any]):
    """Builds the (untrained) zoo model a run's ``config["model"]`` describes.

    Knobs a run recorded before they existed (``stem_stride``, ``head_width``, ``scale_head``, ``depth``) take
    their defaults, the architecture those runs trained.
    """
    from edgecnn.training.zoo import ARCH_KNOBS, build_model

    return build_model(
        model["arch"],
        alpha=model["alpha"],
        size=tuple(model["size"]),
        channels=model["channels"],
        classes=model["classes"],
        dropout=model["dropout"],
        separable=model["separable"],
        **{key: model.get(key, default) for key, default in ARCH_KNOBS.items()},
    )


def _files_of(out: Path) -> dict[str, tuple[int, int]]:
    """``(inode, mtime)`` of the run files in ``out``: what tells a file written since apart from an old one."""
    found = {}
    for name in RUN_FILES:
        try:
            stat = (out / name).stat()
        except OSError:
            continue
        found[name] = (stat.st_ino, stat.st_mtime_ns)
    return found


def _nothing_left_on_early_failure(func):
    """Makes a new run that fails before its first checkpoint remove what it wrote into ``out``.

    A start that fails (no network for ``--weights imagenet``, an unreadable teacher, an error in the first
    epoch) would otherwise leave ``config.json`` and ``labels.txt`` behind, and the retry would be refused as a
    non-empty run directory. Files the call did not write, and every file of a resumed run, are kept.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = inspect.signature(func).bind(*args, **kwargs)
        out, resume = Path(bound.arguments["out"]), bound.arguments.get("resume", False)
        existed = out.is_dir()
        before = _files_of(out)
        try:
            return func(*args, **kwargs)
        except BaseException:
            after = _files_of(out)
            wrote_checkpoint = runs.LAST in after and after[runs.LAST] != before.get(runs.LAST)
            if not resume and not wrote_checkpoint:
                for name, stamp in after.items():
                    if before.get(name) != stamp:
                        (out / name).unlink(missing_ok=True)
                if not existed and out.is_dir() and not any(out.iterdir()):
                    out.rmdir()
            raise

    return wrapper


@_nothing_left_on_early_failure
def train(
    arch: str,
    data: str,
    out: str | Path,
    *,
    alpha: float = 1.0,
    size: int | str | tuple[int, int] = 32,
    channels: int | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float | None = None,
    schedule: str = "cosine",
    optimizer: str = "adamw",
    label_smoothing: float = 0.1,
    weights: str | None = None,
    freeze_backbone: bool = False,
    fine_tune_at: int | str | None = None,
    resume: bool = False,
    seed: int = 0,
    max_samples: int | None = None,
    val_split: float = 0.1,
    resize_mode: str = "stretch",
    augment: bool = True,
    flip: bool | None = None,
    dropout: float | None = None,
    separable: bool | None = None,
    stem_stride: int = 2,
    head_width: int | None = None,
    scale_head: bool = False,
    depth: float = 1.0,
    progress: bool = True,
    force: bool = False,
    callbacks: list | None = None,
    stream: bool | None = None,
    translate: float | None = None,
    crop_pad: int | None = None,
    erase: float | None = None,
    warmup_epochs: float | None = None,
    weight_decay: float | None = None,
    teacher: str | Path | None = None,
    distill_temperature: float | None = None,
    distill_weight: float | None = None,
) -> dict[str, Any]:
    """Trains a zoo model on a data source and writes a run directory.

    Args:
        arch: Registered architecture (``edgecnn models``).
        data: Folder of class sub-folders, IDX directory or dataset name (see :mod:`edgecnn.training.data`).
        out: Run directory; must be empty or missing unless ``resume`` or ``force``.
        alpha: Width multiplier.
        size: Input side, ``"WIDTHxHEIGHT"`` or a ``(height, width)`` pair (see ``edgecnn.training.zoo.input_size``).
        channels: 1 or 3; None for the data's own (grey data -> 1).
        epochs: Total epochs (on resume: the new total, counting those already done).
        batch_size: Images per step.
        lr: Peak learning rate; None for the optimizer's default scaled by ``batch_size / 128``.
        schedule: "cosine" (1-epoch warm-up, cosine decay) or "onecycle".
        optimizer: "adamw", "adam", "sgd" or "rmsprop".
        label_smoothing: Cross-entropy label smoothing.
        weights: "imagenet" or a local weights file to start from; None trains from scratch.
        freeze_backbone: Train only the classifier head.
        fine_tune_at: Freeze the layers before this layer index or name.
        resume: Continue the run in ``out`` from ``last.keras`` (its saved options win over the arguments here,
            except ``epochs``).
        seed: Seed of splits, shuffling, augmentation and initialisation (TF op determinism is enabled).
        max_samples: Cap every split at this many images (stratified), for quick runs.
        val_split: Fraction of the training split held out for validation when the source has no ``val``.
        resize_mode: "stretch" or "crop" (see :class:`edgecnn.core.preprocessing.Preprocessing`).
        augment: Random flips, shifts, zoom, brightness and contrast on training batches.
        flip: Horizontal flips on or off; None for the data's default (off for digits).
        dropout: Dropout before the classifier; None for the architecture's default.
        separable: Depthwise-separable convolutions; None for the architecture's default.
        stem_stride: Stride of the first convolution: 2 (the papers) or 1 (small inputs; 4x the MACs, see
            :func:`edgecnn.training.zoo.build_model`).
        head_width: Channels of the architecture's head layer (e.g. MobileNetV2's 1280-channel ``Conv_1``); None
            for the paper's.
        scale_head: Scale the head with ``alpha`` at every width.
        depth: Depth multiplier in (0, 1]: each stage keeps ``ceil(repeats * depth)`` blocks.
        progress: Print progress on stderr: a Keras progress bar per epoch and a line per stage (through
            :func:`edgecnn.core.logs.echo`, so ``--quiet`` also silences them).
        force: Start over in a non-empty ``out`` (removes the previous run's files).
        callbacks: Extra Keras callbacks.
        stream: Decode image folders on the fly (True), into memory (False) or by size (None).
        translate: Largest random shift as a fraction of the side; None for the data's default (folders 0.1,
            curated sets 0). Needs ``augment``.
        crop_pad: Random crop after zero-padding every side by this many pixels; None for the default (off).
        erase: Random-erasing probability; None for the default (off).
        warmup_epochs: Linear warm-up of the cosine schedule in epochs; None for one epoch (at most 10% of the run).
        weight_decay: Decoupled weight decay (not on biases/BatchNorm); None for the optimizer's (adamw 0.02).
        teacher: Distil from this run directory or ``.keras`` model (see :mod:`edgecnn.training.train.distill`);
            recorded in ``config.json`` and reloaded on resume.
        distill_temperature: Softmax temperature of the distillation term (default 3, Keras').
        distill_weight: Weight of the distillation term; the labels' loss gets the rest (default 0.5).

    Returns:
        The content of ``metrics.json``.

    Raises:
        EdgeCNNError: For bad arguments or unusable data.
        KeyboardInterrupt: After writing a resumable ``last.keras`` when interrupted.
    """
    from edgecnn.training.zoo import get_arch_info, load_pretrained, validate_build_args, validate_knobs
    from edgecnn.training.zoo.transfer import HEAD_LAYERS

    def say(message: str) -> None:
        if progress:
            echo(message)

    out = Path(out)
    _check_run_dir(out, resume=resume, force=force)
    state: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    loaded_teacher = None
    if resume:
        run = runs.load_run(out)
        config = run.config
        saved_arch = config["model"]["arch"]
        if get_arch_info(arch).name != saved_arch:
            raise EdgeCNNError(f"{out} holds a {saved_arch} run; cannot resume it as {arch}")
        state = run.state
        history = read_history(out)[: int(state.get("epoch", 0))]
        opts = config["train"]
        config["train"]["epochs"] = epochs
        data, seed, val_split, max_samples = (
            config["data"]["source"],
            config["data"]["seed"],
            config["data"]["val_split"],
            config["data"]["max_samples"],
        )
        batch_size, schedule, optimizer = opts["batch_size"], opts["schedule"], opts["optimizer"]
        lr, label_smoothing, augment_cfg = opts["lr"], opts["label_smoothing"], opts["augment"]
        # Options recorded since the run's edgecnn version may be missing: today's defaults (None) apply.
        warmup_epochs, weight_decay, distill_cfg = (
            opts.get("warmup_epochs"),
            opts.get("weight_decay"),
            opts.get("distill"),
        )
        spec = Preprocessing.from_dict(config["preprocessing"])
        model_record = config["model"]
        if state.get("epoch", 0) >= epochs:
            raise EdgeCNNError(
                f"{out} has already trained {state.get('epoch')} epoch(s); pass --epochs above that to continue"
            )
    else:
        _check_options(epochs, batch_size, lr, schedule, optimizer, label_smoothing, resize_mode)
        _check_recipe(augment, translate, crop_pad, erase, warmup_epochs, weight_decay, schedule)
        if teacher is None and (distill_temperature is not None or distill_weight is not None):
            raise EdgeCNNError("--distill-temperature and --distill-weight need --teacher")
        info, (height, width) = validate_build_args(arch, alpha, size, channels or 1, stem_stride=stem_stride)
        knobs = validate_knobs(info, stem_stride=stem_stride, head_width=head_width, scale_head=scale_head, depth=depth)
        if weights and knobs["depth"] != 1.0:
            # Fewer blocks renumber the layers, so a transfer by name would pair the wrong blocks.
            raise EdgeCNNError(f"pretrained weights need depth=1 (the paper's blocks). Received depth={depth!r}")
        if freeze_backbone and fine_tune_at is not None:
            raise EdgeCNNError("use either freeze_backbone or fine_tune_at, not both")

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    source = open_source(data)
    splits = make_splits(source, val_split=val_split, seed=seed, max_samples=max_samples)
    if not resume:
        channels = channels or source.channels
        info, (height, width) = validate_build_args(
            arch, alpha, size, channels, source.num_classes, stem_stride=stem_stride
        )
        spec = Preprocessing.for_model((height, width), channels, resize_mode)
        lr = float(lr) if lr is not None else default_lr(optimizer, batch_size, info.name)
        augment_cfg = (
            Augment.for_source(source.kind, flip=source.flip if flip is None else flip)
            .with_options(translate=translate, crop_pad=crop_pad, erase=erase)
            .to_dict()
            if augment
            else None
        )
        distill_cfg = None
        if teacher is not None:
            from edgecnn.training.train.distill import DEFAULT_TEMPERATURE, DEFAULT_WEIGHT, load_teacher

            loaded_teacher = load_teacher(teacher, list(source.labels))
            distill_cfg = {
                "teacher": loaded_teacher.record,
                "temperature": float(DEFAULT_TEMPERATURE if distill_temperature is None else distill_temperature),
                "weight": float(DEFAULT_WEIGHT if distill_weight is None else distill_weight),
            }
        model_record = _model_record(
            info, height, width, channels, source.num_classes, alpha, dropout, separable, knobs
        )
        config = {
            "edgecnn_version": __version__,
            "created": utc_now(),
            "model": model_record,
            "preprocessing": spec.to_dict(),
            "data": data_config(source, val_split=val_split, seed=seed, max_samples=max_samples),
            "labels": list(source.labels),
            "train": {
                "epochs": epochs,
                "batch_size": batch_size,
                "lr": lr,
                "schedule": schedule,
                "optimizer": optimizer,
                "label_smoothing": label_smoothing,
                "weights": weights,
                "freeze_backbone": freeze_backbone,
                "fine_tune_at": fine_tune_at,
                "augment": augment_cfg,
                "warmup_epochs": warmup_epochs,
                "weight_decay": weight_decay,
                "distill": distill_cfg,
                "seed": seed,
            },
        }
        _reset_run_dir(out)
        write_labels(out / runs.LABELS, source.labels)
    elif list(source.labels) != list(config["labels"]):
        raise EdgeCNNError(f"the classes of {source.location} changed since {out} was started")
    write_json_atomic(out / runs.CONFIG, config)

    augment_obj = Augment.from_dict(augment_cfg) if augment_cfg else None
    say(f"data: {source.describe()}; input {spec.height}x{spec.width}x{spec.channels}")
    inputs = _build_inputs(
        splits,
        spec,
        num_classes=source.num_classes,
        batch_size=batch_size,
        augment=augment_obj,
        seed=seed,
        stream=stream,
        where=source.location,
        progress=progress,
    )
    total_steps = inputs.steps_per_epoch * epochs

    model = build_from_record(model_record)
    family = get_arch_info(model_record["arch"]).family
    if not resume and weights:
        report = load_pretrained(model, model_record["arch"], model_record["alpha"], weights)
        say(
            f"weights: {len(report.copied)} layers from {weights}"
            + (f", {', '.join(report.skipped)} re-initialised" if report.skipped else ""),
        )
    frozen = apply_freeze(
        model,
        HEAD_LAYERS[family],
        freeze_backbone=config["train"]["freeze_backbone"],
        fine_tune_at=config["train"]["fine_tune_at"],
    )
    if frozen:
        say(f"frozen: the first {frozen} layers")
    model.compile(
        optimizer=make_optimizer(
            optimizer, make_schedule(schedule, lr, total_steps, inputs.steps_per_epoch, warmup_epochs), weight_decay
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    trained = model
    if distill_cfg:
        trained = _distiller(model, loaded_teacher, distill_cfg, label_smoothing, say)
    initial_epoch = 0
    if resume:
        initial_epoch = _restore(model, out / runs.LAST, int(state.get("epoch", 0)), inputs.steps_per_epoch)
        say(f"resuming {out} at epoch {initial_epoch + 1}/{epochs}")

    bare = keras.models.clone_model(model)
    monitor = "val_accuracy" if inputs.val is not None else "accuracy"
    checkpoint = RunCheckpoint(
        out,
        monitor=monitor,
        state=state,
        history=history,
        bare_model=bare,
        steps_per_epoch=inputs.steps_per_epoch,
        images_per_epoch=inputs.n_train,
        student=model if trained is not model else None,
    )
    clock = _ThroughputClock()
    extra = [_SkippedFilesWarning(inputs.loader, source.location)] if inputs.loader else []
    verbose = (1 if sys.stderr.isatty() else 2) if progress else 0
    try:
        validation = PreciseBNValidation(
            inputs.bn_images, inputs.val, batch_size=batch_size, max_batches=BN_BATCHES, seed=seed, model=model
        )
        with warnings.catch_warnings():
            # Streamed folders have an unknown number of batches (unreadable files are dropped on the fly);
            # Keras warns when it first runs out of them, which is how it learns the epoch length.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            trained.fit(
                inputs.train,
                epochs=epochs,
                initial_epoch=initial_epoch,
                shuffle=False,
                verbose=verbose,
                callbacks=[clock, validation, checkpoint, *extra, *(callbacks or [])],
            )
    except KeyboardInterrupt:
        checkpoint.save_last(interrupted=True)
        log.warning(
            "interrupted after epoch %d; continue with: edgecnn train %s --out %s --resume --epochs %d",
            checkpoint.state["epoch"],
            model_record["arch"],
            out,
            epochs,
        )
        raise

    metrics = _final_metrics(
        out, splits, spec, source, inputs, checkpoint, clock, epochs - initial_epoch, model_record["arch"], batch_size
    )
    write_json_atomic(out / runs.METRICS, metrics)
    say(
        f"done: val accuracy {metrics['val_accuracy']}, {metrics['eval_split']} accuracy "
        f"{metrics['test_accuracy']} -> {out}",
    )
    return metrics


def _restore(model, last_path: Path, epochs_done: int, steps_per_epoch: int) -> int:
    """Copies weights and optimizer state from ``last.keras``; puts the step counter at the epoch boundary."""
    saved = load_model(last_path, compile=True)
    model.set_weights(saved.get_weights())
    model.optimizer.build(model.trainable_variables)
    if saved.optimizer is not None and len(saved.optimizer.variables) == len(model.optimizer.variables):
        for target, value in zip(model.optimizer.variables, saved.optimizer.variables, strict=True):
            target.assign(value)
    else:
        log.warning("%s holds no matching optimizer state; continuing with a fresh optimizer", last_path)
    # An interrupted epoch is run again from its start: the schedule restarts at that epoch's first step.
    model.optimizer.iterations.assign(epochs_done * steps_per_epoch)
    return epochs_done


def _distiller(model, teacher, distill_cfg: dict[str, Any], label_smoothing: float, say: Callable[[str], None]):
    """Wraps ``model`` and the teacher (loaded now from the run's record when None) in a compiled Distiller.

    It shares ``model``'s optimizer, so ``last.keras`` (the student, saved with that optimizer) resumes it.
    """
    from edgecnn.training.train.distill import make_distiller, reload_teacher

    teacher = teacher or reload_teacher(distill_cfg["teacher"])
    record = teacher.record
    accuracy = f", {100 * record['accuracy']:.2f}% {record['accuracy_split']}" if record.get("accuracy") else ""
    say(
        f"teacher: {record['arch']} from {record['path']}{accuracy}; temperature {distill_cfg['temperature']:g}, "
        f"weight {distill_cfg['weight']:g}",
    )
    distiller = make_distiller(
        model, teacher.model, temperature=distill_cfg["temperature"], weight=distill_cfg["weight"]
    )
    distiller.compile(
        optimizer=model.optimizer,
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return distiller


def _final_metrics(
    out: Path,
    splits,
    spec,
    source,
    inputs: _Inputs,
    checkpoint: RunCheckpoint,
    clock: _ThroughputClock,
    session_epochs: int,
    arch: str,
    batch_size: int,
) -> dict[str, Any]:
    from edgecnn.training.evaluate import keras_probabilities, score

    best_model = load_model(out / runs.BEST)
    eval_split = resolve_split(splits, "test", source.location) if ("test" in splits or "val" in splits) else "train"
    x, y = prepare_split(splits[eval_split], spec, where=f"{source.location} ({eval_split})")
    probs = keras_probabilities(best_model, x, batch_size)
    scores = score(probs, y, source.labels)
    state = checkpoint.state
    images_per_s = inputs.n_train * session_epochs / clock.train_seconds if clock.train_seconds > 0 else None
    has_val = state.get("best") is not None and state["monitor"] == "val_accuracy"
    return {
        "arch": arch,
        "val_accuracy": round(state["best"], 4) if has_val else None,
        "best_epoch": state.get("best_epoch"),
        "test_accuracy": round(scores["top1"], 4),
        "test_top5": round(scores["top5"], 4),
        "eval_split": eval_split,
        "n_test": scores["n"],
        "n_train": inputs.n_train,
        "n_val": inputs.n_val,
        "epochs": state["epoch"],
        "train_time_s": round(state["train_time_s"], 1),
        "images_per_s": None if images_per_s is None else round(images_per_s, 1),
        "per_class_accuracy": scores["per_class"],
    }

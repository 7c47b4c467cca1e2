"""`edgecnn train`: train a zoo model on an image folder, IDX files or a named dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli import _options
from edgecnn.cli._app import command, echo_json
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.logs import is_quiet


@command("train")
def train_command(
    arch: str = typer.Argument(..., help="Architecture (see `edgecnn models`), e.g. mobilenet_v2."),
    data: str = typer.Option(
        None,
        "--data",
        "-d",
        help="Folder of class sub-folders (optionally train/ val/ test/), a directory of IDX "
        "files, or fashion_mnist | mnist | cifar10. Not needed with --resume.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create (or continue with --resume)."),
    alpha: float = typer.Option(1.0, help="Width multiplier."),
    size: str = typer.Option("32", help="Input side, or WIDTHxHEIGHT (such as 160x120)."),
    channels: int = typer.Option(None, help="1 (grey) or 3 (colour); default: the data's own."),
    epochs: int = typer.Option(10, help="Total epochs (with --resume: the new total)."),
    batch_size: int = typer.Option(128, "--batch-size", help="Images per step."),
    lr: float = typer.Option(None, help="Peak learning rate; default: the optimizer's, scaled by batch/128."),
    schedule: str = typer.Option("cosine", help="cosine (1-epoch warm-up + cosine decay) or onecycle."),
    optimizer: str = typer.Option("adamw", help="adamw, adam, sgd or rmsprop."),
    label_smoothing: float = typer.Option(0.1, "--label-smoothing", help="Cross-entropy label smoothing."),
    weights: str = typer.Option(None, help="Start from 'imagenet' or a local .h5/.keras weights file."),
    freeze_backbone: bool = typer.Option(False, "--freeze-backbone", help="Train only the classifier head."),
    fine_tune_at: str = typer.Option(None, "--fine-tune-at", help="Freeze the layers before this index or name."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    force: bool = typer.Option(False, "--force", help="Start over in a non-empty --out."),
    seed: int = typer.Option(0, help="Seed of splits, shuffling, augmentation and initialisation."),
    max_samples: int = typer.Option(None, "--max-samples", help="Cap every split at N images (stratified)."),
    val_split: float = typer.Option(0.1, "--val-split", help="Validation fraction when the data has no val split."),
    resize_mode: str = typer.Option("stretch", "--resize-mode", help="stretch or crop (keep aspect, centre crop)."),
    augment: bool = typer.Option(True, "--augment/--no-augment", help="Augment training batches."),
    flip: bool = typer.Option(
        None, "--flip/--no-flip", help="Random horizontal flips; default: on, off for digits (mnist, plain IDX)."
    ),
    dropout: float = typer.Option(None, help="Dropout before the classifier; default: the architecture's."),
    separable: bool = typer.Option(
        None, "--separable/--no-separable", help="Depthwise-separable convolutions; default: the architecture's."
    ),
    stem_stride: int = _options.STEM_STRIDE,
    head_width: int = _options.HEAD_WIDTH,
    scale_head: bool = _options.SCALE_HEAD,
    depth: float = _options.DEPTH,
    translate: float = typer.Option(
        None, "--translate", help="Random shifts up to this fraction of the side; default: folders 0.1, curated sets 0."
    ),
    crop_pad: int = typer.Option(
        None, "--crop-pad", help="Random crop after zero-padding each side by N pixels (0: off, the default)."
    ),
    erase: float = typer.Option(None, "--erase", help="Random-erasing probability (0: off, the default)."),
    warmup_epochs: float = typer.Option(
        None, "--warmup-epochs", help="Warm-up of the cosine schedule in epochs; default: 1 (at most 10% of the run)."
    ),
    weight_decay: float = typer.Option(
        None, "--weight-decay", help="Decoupled weight decay, not on biases/BatchNorm; default: adamw 0.02, others 0."
    ),
    teacher: str = typer.Option(
        None, "--teacher", help="Distil from this run directory or .keras model (keras.distillation, logits)."
    ),
    distill_temperature: float | None = _options.DISTILL_TEMPERATURE,
    distill_weight: float | None = _options.DISTILL_WEIGHT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (like the global --quiet)."),
    json_out: bool = typer.Option(False, "--json", help="Print metrics.json on stdout when done."),
) -> None:
    """Train ARCH on --data and write a run directory (best.keras, last.keras, config.json, curves...).

    Ctrl-C stops after writing a resumable checkpoint; continue with --resume.
    """
    if data is None and not resume:
        raise EdgeCNNError("--data is required (except with --resume)")
    from edgecnn.training.train import train

    metrics = train(
        arch,
        data,
        out,
        alpha=alpha,
        size=size,
        channels=channels,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        schedule=schedule,
        optimizer=optimizer,
        label_smoothing=label_smoothing,
        weights=weights,
        freeze_backbone=freeze_backbone,
        fine_tune_at=fine_tune_at,
        resume=resume,
        force=force,
        seed=seed,
        max_samples=max_samples,
        val_split=val_split,
        resize_mode=resize_mode,
        augment=augment,
        flip=flip,
        dropout=dropout,
        separable=separable,
        stem_stride=stem_stride,
        head_width=head_width,
        scale_head=scale_head,
        depth=depth,
        translate=translate,
        crop_pad=crop_pad,
        erase=erase,
        warmup_epochs=warmup_epochs,
        weight_decay=weight_decay,
        teacher=teacher,
        distill_temperature=distill_temperature,
        distill_weight=distill_weight,
        progress=not is_quiet(),  # the command's --quiet or the global one
    )
    if json_out:
        echo_json(metrics)

"""One sweep trial: train ``(arch, alpha, size)`` once, export every scheme, evaluate and benchmark each file.

Everything lives in the trial folder so that a killed sweep resumes where it stopped::

    trials/<arch>_a<alpha>_s<size>/
        run/                  the training run (edgecnn.training.train; resumable from its last epoch)
        train.json            marker: training finished; params, MACs, Keras test accuracy, training time
        model_<scheme>.tflite the exports (labels.txt beside them; export.log: the exporter's step lines)
        row_<scheme>.json     marker: this row finished (measurements, or the error that stopped it)
        errors.log            full tracebacks of the failures recorded in the rows

A failure is recorded in the affected rows (``error`` column) and never stops the sweep; only
KeyboardInterrupt (a kill) escapes, leaving no marker behind for the unfinished step.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_json_atomic
from edgecnn.core.timestamps import utc_now
from edgecnn.sweep.config import SweepConfig, Trial, export_arguments
from edgecnn.sweep.results import empty_row, is_ok, read_row, write_row

TRAIN_MARKER = "train.json"
#: Export schemes whose rows get the TFLite Micro columns (``arena_bytes``, ``flash_bytes``); ``int8_per_tensor``
#: rows export ``int8`` too.
MICRO_SCHEMES = ("int8",)
RUN_DIR = "run"


def model_file(scheme: str) -> str:
    """The export's file name inside the trial folder."""
    return f"model_{scheme}.tflite"


def finished_rows(trial: Trial, trial_dir: Path) -> dict[str, dict[str, Any]]:
    """The rows of ``trial`` already completed without error, by scheme."""
    rows = {}
    for scheme in trial.schemes:
        row = read_row(trial_dir, scheme)
        if row is not None and is_ok(row) and (Path(trial_dir) / model_file(scheme)).is_file():
            rows[scheme] = row
    return rows


def run_trial(
    trial: Trial, trial_dir: str | Path, config: SweepConfig, on_stage: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Trains, exports, evaluates and benchmarks one trial; skips the rows already finished.

    Args:
        trial: The grid point and its schemes.
        trial_dir: The trial folder (``SWEEP_DIR/trials/<trial.name>``).
        config: The sweep's shared settings.
        on_stage: Called with a short description of each step as it starts (for progress display).

    Returns:
        One row per scheme of the trial, in ``trial.schemes`` order; failed rows carry their ``error``.
    """
    trial_dir = Path(trial_dir)
    trial_dir.mkdir(parents=True, exist_ok=True)
    stage = on_stage or (lambda _text: None)
    rows = finished_rows(trial, trial_dir)
    pending = [scheme for scheme in trial.schemes if scheme not in rows]
    if not pending:
        return [rows[scheme] for scheme in trial.schemes]

    relative = f"{trial_dir.parent.name}/{trial_dir.name}"
    try:
        trained = ensure_trained(trial, trial_dir, config, stage)
    except Exception as exc:  # recorded in the rows; the sweep goes on
        error = _record_error(trial_dir, "train", exc)
        for scheme in pending:
            row = _base_row(trial, scheme, relative, config)
            row["error"] = error
            write_row(trial_dir, row)
            rows[scheme] = row
        return [rows[scheme] for scheme in trial.schemes]

    for scheme in pending:
        row = _base_row(trial, scheme, relative, config)
        row.update(
            params=trained.get("params"),
            macs=trained.get("macs"),
            keras_top1=trained.get("keras_top1"),
            train_seconds=trained.get("train_seconds"),
        )
        try:
            measure_scheme(trial_dir, scheme, config, row, stage)
        except Exception as exc:  # recorded in the row; the sweep goes on
            row["error"] = _record_error(trial_dir, scheme, exc)
        write_row(trial_dir, row)
        rows[scheme] = row
    return [rows[scheme] for scheme in trial.schemes]


def ensure_trained(trial: Trial, trial_dir: Path, config: SweepConfig, stage: Callable[[str], None]) -> dict[str, Any]:
    """Trains the trial's network unless ``train.json`` says it is done; returns that marker's content.

    A run killed half-way (``last.keras`` and ``state.json`` but no ``metrics.json``) is resumed by the trainer
    from its last finished epoch; a run that finished but was not yet scored is only scored.
    """
    from edgecnn.training import runs

    marker = trial_dir / TRAIN_MARKER
    run_dir = trial_dir / RUN_DIR
    if marker.is_file() and (run_dir / runs.BEST).is_file():
        try:
            return json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # damaged marker: score the run again

    if not (run_dir / runs.METRICS).is_file():
        from edgecnn.training.train import train

        resumable = all((run_dir / name).is_file() for name in (runs.CONFIG, runs.LAST, runs.STATE))
        epochs_done = int(runs.load_run(run_dir).state.get("epoch", 0)) if resumable else 0
        if epochs_done < config.epochs or not (run_dir / runs.BEST).is_file():
            # (else every epoch is done and only the trainer's final scoring was missed: the sweep scores below)
            stage(f"resuming training at epoch {epochs_done + 1}" if resumable else "training")
            kwargs = {"resume": True} if resumable else {**_train_kwargs(config), "force": True}
            train(
                trial.arch,
                config.data,
                run_dir,
                alpha=trial.alpha,
                size=trial.size,
                epochs=config.epochs,
                progress=False,
                **kwargs,
            )
    run = runs.load_run(run_dir)

    stage("scoring the keras model")
    from edgecnn.training.evaluate import evaluate
    from edgecnn.training.train.checkpoint import load_model
    from edgecnn.training.zoo import profile_model

    profile = profile_model(load_model(run.best_model_path))
    keras_eval = evaluate(run.best_model_path, config.data, split="test", **_eval_kwargs(config))
    train_seconds = run.metrics.get("train_time_s", run.state.get("train_time_s"))
    trained = {
        "params": int(profile.params),
        "macs": int(profile.macs),
        "keras_top1": float(keras_eval["top1"]),
        "test_samples": keras_eval.get("n"),
        "train_seconds": train_seconds,
        "train_metrics": run.metrics,
        "finished": utc_now(),
    }
    write_json_atomic(marker, trained)
    return trained


def measure_scheme(
    trial_dir: Path, scheme: str, config: SweepConfig, row: dict[str, Any], stage: Callable[[str], None]
) -> None:
    """Exports one scheme, evaluates the ``.tflite`` on the test split and benchmarks it; fills ``row``."""
    from edgecnn.device.bench import benchmark
    from edgecnn.training.evaluate import evaluate
    from edgecnn.training.export import export

    path = trial_dir / model_file(scheme)
    stage(f"exporting {scheme}")
    quantize, options = export_arguments(scheme)
    if config.calib_samples:
        options = {**options, "calib_samples": config.calib_samples}
    with open(trial_dir / "export.log", "a", encoding="utf-8") as log:
        export(
            trial_dir / RUN_DIR,
            path,
            quantize=quantize,
            verify=False,
            log=lambda line: log.write(line + "\n"),
            **options,
        )
    row["file_bytes"] = path.stat().st_size

    stage(f"evaluating {scheme}")
    result = evaluate(path, config.data, split="test", **_eval_kwargs(config))
    row["tflite_top1"] = float(result["top1"])
    row["test_samples"] = result.get("n")
    if row.get("keras_top1") is not None:
        row["delta_top1"] = row["tflite_top1"] - row["keras_top1"]

    stage(f"benchmarking {scheme}")
    bench = benchmark(path, threads=(config.threads,), runs=config.bench_runs, warmup=config.bench_warmup)[0]
    row["latency_ms"] = float(bench.latency["median_ms"])
    row["latency_p90_ms"] = float(bench.latency["p90_ms"])
    if quantize in MICRO_SCHEMES:
        measure_micro(path, row, stage)


def measure_micro(path: Path, row: dict[str, Any], stage: Callable[[str], None]) -> None:
    """Fills ``flash_bytes`` (the file) and, when TFLite Micro is installed and runs it, ``arena_bytes``.

    A model TFLM cannot run, or a probe that fails, leaves ``arena_bytes`` empty (the reason is in ``errors.log``);
    the row's other figures stand.
    """
    from edgecnn.device.micro import tflm_version

    row["flash_bytes"] = path.stat().st_size
    if tflm_version() == "not installed":
        return
    from edgecnn.device.micro_probe import probe

    stage("TFLite Micro arena")
    try:
        result = probe(path)
    except EdgeCNNError as exc:  # the LiteRT figures stand; the probe's failure goes to errors.log
        _record_error(path.parent, "TFLite Micro probe", exc)
        return
    if not result.loads:
        from edgecnn.device.micro_inspect import not_loading_error

        _record_error(path.parent, "TFLite Micro probe", not_loading_error(result.to_dict()))
    row["arena_bytes"] = result.arena_bytes


def _train_kwargs(config: SweepConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {**config.train_options, "batch_size": config.batch_size, "seed": config.seed}
    for name in ("channels", "lr", "max_samples", "val_split"):
        if getattr(config, name) is not None:
            kwargs[name] = getattr(config, name)
    return kwargs


def _eval_kwargs(config: SweepConfig) -> dict[str, Any]:
    return {"limit": config.eval_samples} if config.eval_samples else {}


def _base_row(trial: Trial, scheme: str, relative: str, config: SweepConfig) -> dict[str, Any]:
    row = empty_row(trial.arch, trial.alpha, trial.size, scheme)
    row.update(threads=config.threads, trial_dir=relative, model=f"{relative}/{model_file(scheme)}")
    return row


def _record_error(trial_dir: Path, step: str, exc: BaseException) -> str:
    """Appends the traceback to ``errors.log``; returns the one-line summary stored in the row."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = "" if isinstance(exc, EdgeCNNError) else f"{type(exc).__name__}: "
    summary = f"{step}: {kind}{message}".rstrip(": ")
    with open(trial_dir / "errors.log", "a", encoding="utf-8") as log:
        log.write(f"--- {utc_now()} {step}\n{''.join(traceback.format_exception(exc))}\n")
    return summary

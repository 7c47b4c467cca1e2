"""Runs a sweep: prepares (or resumes) the sweep folder, hands the unfinished trials to an executor, keeps
``results.*`` and ``report.md`` current as trials finish, and draws the plots at the end.

Executors: ``local`` runs trials one after the other in this process; ``ray`` runs each trial as a Ray task
(``ray.remote``) on an existing cluster or on a local one bound to loopback. Ray workers write into the same
sweep folder, so on a multi-node cluster it must be on a shared filesystem.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_json_atomic
from edgecnn.core.logs import echo
from edgecnn.core.timestamps import utc_now
from edgecnn.sweep.config import SWEEP_TRAIN_ARGS, SweepConfig, Trial
from edgecnn.sweep.outputs import write_outputs
from edgecnn.sweep.results import RESULTS_FORMAT, empty_row, is_ok
from edgecnn.sweep.trial import finished_rows, run_trial

SWEEP_FILE = "sweep.json"
TRIALS_DIR = "trials"

TrialDone = tuple[Trial, list[dict[str, Any]]]


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Runs every unfinished trial of the grid and writes the sweep's outputs into ``out``.

    Args:
        config: The grid and shared settings.
        out: The sweep folder (created if missing).
        resume: Continue the sweep already in ``out``, skipping finished rows (failed rows are retried).
        progress: Show a progress bar with trials done / total and an ETA.
        log: Where one-line progress messages go (default: :func:`~edgecnn.core.logs.echo`, on stderr beside the
            progress bar).

    Returns:
        All rows of the grid in grid order (failed rows carry their ``error``).

    Raises:
        EdgeCNNError: On an unknown architecture, a folder that holds another sweep (without ``resume``), or
            settings that differ from the sweep being resumed.
    """
    from edgecnn.training.zoo import get_arch_info

    for arch in config.archs:
        get_arch_info(arch)  # unknown names are a user mistake: fail before any work
    if config.train_options:
        check_train_options(config.train_options)
    out = Path(out)
    meta = prepare_folder(config, out, resume=resume)
    trials = config.trials()
    results: dict[str, list[dict[str, Any]]] = {}
    pending: list[Trial] = []
    for trial in trials:
        done = finished_rows(trial, out / TRIALS_DIR / trial.name)
        if len(done) == len(trial.schemes):
            results[trial.name] = [done[s] for s in trial.schemes]
        else:
            pending.append(trial)

    def all_rows() -> list[dict[str, Any]]:
        return [row for trial in trials for row in results.get(trial.name, [])]

    bar = _progress_bar(len(trials), len(trials) - len(pending), progress)
    say = log or echo
    if len(pending) < len(trials):
        say(f"resuming: {len(trials) - len(pending)} of {len(trials)} trials already finished")
    started = time.perf_counter()
    finished_now = 0
    try:
        for trial, rows in _execute(pending, out, config, lambda text: bar.set_postfix_str(text, refresh=True)):
            results[trial.name] = rows
            finished_now += 1
            bar.update(1)
            remaining = len(pending) - finished_now
            eta = (time.perf_counter() - started) / finished_now * remaining
            say(
                f"[{len(trials) - remaining}/{len(trials)}] {trial.name}: {_summary(rows)}"
                + (f"; ETA {_duration(eta)}" if remaining else "")
            )
            write_outputs(out, all_rows(), meta, plots=False)
    finally:
        bar.close()
    rows = [row for trial in trials for row in results.get(trial.name) or _unfinished(trial)]
    write_outputs(out, rows, meta, plots=True)
    return rows


def check_train_options(options: dict[str, Any]) -> None:
    """Refuses train options that :func:`edgecnn.training.train.train` does not take (before any trial runs)."""
    import inspect

    from edgecnn.training.train import train

    known = set(inspect.signature(train).parameters)
    unknown = sorted(set(options) - known)
    if unknown:
        raise EdgeCNNError(
            f"unknown train option {unknown[0]!r}; the trainer takes "
            f"{', '.join(sorted(known - set(SWEEP_TRAIN_ARGS) - {'callbacks'}))}"
        )


def prepare_folder(config: SweepConfig, out: Path, *, resume: bool) -> dict[str, Any]:
    """Creates or checks the sweep folder and (re)writes ``sweep.json``; returns the results' metadata.

    Raises:
        EdgeCNNError: If ``out`` holds a sweep and ``resume`` is off, or holds one with other fixed settings.
    """
    sweep_file = out / SWEEP_FILE
    if out.exists() and not out.is_dir():
        raise EdgeCNNError(f"out must be a folder. Received out={str(out)!r}", param="out")
    previous = None
    if sweep_file.is_file() or (out / TRIALS_DIR).is_dir():
        if not resume:
            raise EdgeCNNError(f"{out} already holds a sweep; pass --resume to continue it or choose another --out")
        try:
            previous = json.loads(sweep_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EdgeCNNError(f"cannot resume: {sweep_file} is missing or unreadable ({exc})") from exc
        stored = previous.get("config", {})
        now = config.fixed_settings()
        changed = [f"{k}={stored.get(k)!r} -> {v!r}" for k, v in now.items() if _differs(stored.get(k), v)]
        if changed:
            raise EdgeCNNError(
                f"cannot resume {out} with different settings ({'; '.join(changed)}); "
                "use the original values or another --out"
            )
    meta = {"config": config.to_dict(), "command": config.command(out), "host": host_info()}
    record = {
        "format": RESULTS_FORMAT,
        **meta,
        "started": previous.get("started") if previous else utc_now(),
        "resumed": utc_now() if previous else None,
    }
    write_json_atomic(sweep_file, record)
    return meta


def host_info() -> dict[str, str]:
    """Where the latencies were measured: CPU model, machine type, OS and the LiteRT version."""
    from importlib import metadata

    info = {"machine": platform.machine(), "system": f"{platform.system()} {platform.release()}"}
    try:
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and value.strip():
                fields.setdefault(key.strip().lower(), value.strip())
        # x86: "model name"; a Raspberry Pi: "Model" (the board) and "Hardware"; other ARM boards: "Hardware".
        cpu = fields.get("model name") or fields.get("hardware")
        if fields.get("model", "").lower().startswith("raspberry"):
            cpu = fields["model"]
        if cpu:
            info["cpu"] = cpu
    except OSError:
        pass
    info["cpus"] = str(os.cpu_count())
    for package in ("ai-edge-litert", "tflite-runtime"):
        try:
            info["runtime"] = f"{package} {metadata.version(package)}"
            break
        except metadata.PackageNotFoundError:
            continue
    return info


def _execute(
    trials: list[Trial], out: Path, config: SweepConfig, on_stage: Callable[[str], None]
) -> Iterator[TrialDone]:
    if not trials:
        return iter(())
    if config.executor == "ray":
        from edgecnn.sweep.ray_executor import run_on_ray

        return run_on_ray(trials, out / TRIALS_DIR, config, on_stage)
    return _run_locally(trials, out / TRIALS_DIR, config, on_stage)


def _run_locally(
    trials: list[Trial], trials_dir: Path, config: SweepConfig, on_stage: Callable[[str], None]
) -> Iterator[TrialDone]:
    for trial in trials:
        on_stage(f"{trial.name}: starting")
        yield (
            trial,
            run_trial(
                trial,
                trials_dir / trial.name,
                config,
                on_stage=lambda text, name=trial.name: on_stage(f"{name}: {text}"),
            ),
        )


def _unfinished(trial: Trial) -> list[dict[str, Any]]:
    rows = []
    for scheme in trial.schemes:
        row = empty_row(trial.arch, trial.alpha, trial.size, scheme)
        row["error"] = "not run (the sweep stopped before this trial)"
        rows.append(row)
    return rows


def _summary(rows: list[dict[str, Any]]) -> str:
    parts = []
    for row in rows:
        if is_ok(row):
            parts.append(
                f"{row['scheme']} {100 * row['tflite_top1']:.1f}% {row['file_bytes'] / 1024:.0f}KB"
                + (f" {row['latency_ms']:.2f}ms" if row.get("latency_ms") is not None else "")
            )
        else:
            parts.append(f"{row['scheme']} failed ({row.get('error')})")
    return ", ".join(parts)


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    # tqdm's rate (hence its ETA) counts only the trials run now, not those skipped on resume.
    return tqdm(
        total=total, initial=initial, unit="trial", desc="sweep", disable=not enabled, smoothing=0, dynamic_ncols=True
    )


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) != float(b)
    return a != b


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"

"""The results table of a sweep: one row per exported model, its columns, and where rows are stored.

Every finished row is written atomically to ``trials/<trial>/row_<scheme>.json`` (the marker ``--resume``
looks for), and the whole table to ``results.json`` and ``results.csv`` in the sweep folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_json_atomic, write_text_atomic

RESULTS_FORMAT = "edgecnn-sweep/1"

# (column, description); the order is the CSV's.
COLUMN_DOCS = (
    ("arch", "architecture"),
    ("alpha", "width multiplier"),
    ("size", "input size in pixels (square)"),
    ("scheme", "quantization scheme of the exported .tflite"),
    ("params", "parameters of the Keras model"),
    ("macs", "multiply-accumulates per image"),
    ("file_bytes", "size of the .tflite file in bytes"),
    ("keras_top1", "top-1 accuracy of the float Keras model on the test split"),
    ("tflite_top1", "top-1 accuracy of the .tflite model on the test split (LiteRT interpreter)"),
    ("delta_top1", "tflite_top1 - keras_top1"),
    ("latency_ms", "median single-image latency in milliseconds (LiteRT, `threads` threads)"),
    ("latency_p90_ms", "90th percentile latency in milliseconds"),
    (
        "arena_bytes",
        "int8 rows: smallest TFLite Micro tensor arena in which the .tflite loads and runs (TFLM reference kernels, "
        "measured on the sweep host; empty without edgecnn[micro] or when TFLM cannot run it)",
    ),
    ("flash_bytes", "int8 rows: flash the model takes on a microcontroller (the .tflite, metadata included)"),
    ("threads", "interpreter threads of the latency benchmark"),
    ("test_samples", "test images evaluated"),
    ("train_seconds", "wall-clock training time of the trial"),
    ("error", "empty when the row is complete, else what failed"),
    ("trial_dir", "the trial's folder, relative to the sweep folder"),
    ("model", "the .tflite file, relative to the sweep folder"),
)
COLUMNS = tuple(name for name, _ in COLUMN_DOCS)
# Computed when the table is rendered (not stored in the row markers).
PARETO_COLUMNS = ("pareto_size", "pareto_latency")
ALL_COLUMNS = COLUMNS + PARETO_COLUMNS


def empty_row(arch: str, alpha: float, size: int, scheme: str) -> dict[str, Any]:
    """A row with its identity set and every measurement missing (None)."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(arch=arch, alpha=float(alpha), size=int(size), scheme=scheme, error="")
    return row


def row_key(row: dict[str, Any]) -> tuple[str, float, int, str]:
    """``(arch, alpha, size, scheme)``: what identifies a row."""
    return (row["arch"], float(row["alpha"]), int(row["size"]), row["scheme"])


def is_ok(row: dict[str, Any]) -> bool:
    """Whether the row finished without error and has an accuracy."""
    return not row.get("error") and row.get("tflite_top1") is not None


def marker_path(trial_dir: Path, scheme: str) -> Path:
    """The per-row marker file of ``scheme`` in a trial folder."""
    return Path(trial_dir) / f"row_{scheme}.json"


def write_row(trial_dir: Path, row: dict[str, Any]) -> None:
    """Writes a finished (or failed) row's marker atomically."""
    write_json_atomic(marker_path(trial_dir, row["scheme"]), {k: row.get(k) for k in COLUMNS})


def read_row(trial_dir: Path, scheme: str) -> dict[str, Any] | None:
    """The row stored in a trial folder for ``scheme``, or None if there is none (or it is unreadable)."""
    path = marker_path(trial_dir, scheme)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("scheme") != scheme:
        return None
    return {k: data.get(k) for k in COLUMNS}


def write_results(out: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Writes ``results.json`` (rows plus ``meta``: config, command, Pareto fronts) and ``results.csv``."""
    doc = {
        "format": RESULTS_FORMAT,
        **meta,
        "columns": list(ALL_COLUMNS),
        "rows": [{k: row.get(k) for k in ALL_COLUMNS} for row in rows],
    }
    write_json_atomic(Path(out) / "results.json", _json_safe(doc))
    write_text_atomic(Path(out) / "results.csv", rows_to_csv(rows))


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text with a header of :data:`ALL_COLUMNS` (missing values empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ALL_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in ALL_COLUMNS})
    return buffer.getvalue()


def read_results(sweep_dir: str | Path) -> dict[str, Any]:
    """The ``results.json`` document of a sweep folder.

    Raises:
        EdgeCNNError: If the folder has no readable results.json.
    """
    path = Path(sweep_dir) / "results.json"
    if not path.is_file():
        raise EdgeCNNError(f"no results.json in {sweep_dir}; is it a sweep folder (edgecnn sweep --out)?")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EdgeCNNError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != RESULTS_FORMAT or not isinstance(doc.get("rows"), list):
        raise EdgeCNNError(f"{path} is not an edgecnn sweep result (format {RESULTS_FORMAT})")
    return doc


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def _json_safe(obj: Any) -> Any:
    """NaN and infinities become None (JSON has no spelling for them)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj

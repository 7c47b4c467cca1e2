"""``--select``: pick the smallest (or fastest) model above an accuracy floor and ship it with a model card."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_bytes_atomic, write_text_atomic
from edgecnn.core.labels import LABELS_FILE, write_labels
from edgecnn.modelfile.inspect import knobs_text
from edgecnn.modelfile.metadata import read_metadata_from_bytes, read_model_bytes
from edgecnn.sweep.config import SELECT_BY
from edgecnn.sweep.results import COLUMNS, is_ok, read_results

DEFAULT_NAME = "{arch}_{alpha}_{size}_{scheme}.tflite"


def check_min_accuracy(min_accuracy: float) -> float:
    """The floor as a fraction of 1, or a one-line error (``90`` is rejected: write ``0.9``)."""
    if not 0.0 <= min_accuracy <= 1.0:
        raise EdgeCNNError(f"min-accuracy is a fraction between 0 and 1 (e.g. 0.9 for 90%). Received {min_accuracy:g}")
    return float(min_accuracy)


def check_limit_kb(value: float | None, name: str) -> float | None:
    """A ``--max-ram-kb`` / ``--max-flash-kb`` value (positive KB, 1 KB = 1024 bytes), or a one-line error."""
    if value is not None and not value > 0:
        raise EdgeCNNError(f"--{name} must be > 0 (kilobytes of 1024 bytes). Received {value:g}")
    return value


def fits_limits(row: dict[str, Any], max_ram_kb: float | None = None, max_flash_kb: float | None = None) -> bool:
    """Whether a row's TFLite Micro arena and flash are within the limits (a missing figure never fits a limit)."""
    for column, limit in (("arena_bytes", max_ram_kb), ("flash_bytes", max_flash_kb)):
        if limit is not None and (row.get(column) is None or row[column] > limit * 1024):
            return False
    return True


def _eligible(
    row: dict[str, Any],
    min_accuracy: float,
    schemes: tuple[str, ...] | None,
    max_ram_kb: float | None,
    max_flash_kb: float | None,
) -> bool:
    return (
        is_ok(row)
        and row["tflite_top1"] >= min_accuracy
        and (not schemes or row["scheme"] in schemes)
        and fits_limits(row, max_ram_kb, max_flash_kb)
    )


def select_row(
    rows: list[dict[str, Any]],
    min_accuracy: float,
    by: str = "size",
    schemes: tuple[str, ...] | None = None,
    *,
    max_ram_kb: float | None = None,
    max_flash_kb: float | None = None,
) -> dict[str, Any]:
    """The smallest (``by="size"``) or fastest (``by="latency"``) model with TFLite top-1 >= ``min_accuracy``.

    Ties go to the more accurate model.

    Args:
        rows: Result rows.
        min_accuracy: Accuracy floor, a fraction of 1.
        by: ``size`` or ``latency``.
        schemes: Consider only these quantization schemes (None: all), e.g. ``("int8",)`` for an Edge TPU.
        max_ram_kb: Only models whose TFLite Micro arena (``arena_bytes``) is at most this many KB (1024 bytes).
        max_flash_kb: Only models whose ``flash_bytes`` is at most this many KB.

    Raises:
        EdgeCNNError: If ``by`` is unknown or no model reaches the floor within the limits.
    """
    if by not in SELECT_BY:
        raise EdgeCNNError(f"select-by must be one of {', '.join(SELECT_BY)}. Received {by!r}")
    check_min_accuracy(min_accuracy)
    check_limit_kb(max_ram_kb, "max-ram-kb")
    check_limit_kb(max_flash_kb, "max-flash-kb")
    cost = "file_bytes" if by == "size" else "latency_ms"
    ok = [
        row
        for row in rows
        if is_ok(row)
        and row.get(cost) is not None
        and (not schemes or row["scheme"] in schemes)
        and fits_limits(row, max_ram_kb, max_flash_kb)
    ]
    eligible = [row for row in ok if row["tflite_top1"] >= min_accuracy]
    if not eligible:
        best = max((row["tflite_top1"] for row in ok), default=None)
        best_text = f"the best reaches {100 * best:.2f}%" if best is not None else "no model finished"
        among = f" among {','.join(schemes)} models" if schemes else ""
        limits = [
            f"{name} <= {limit:g} KB"
            for name, limit in (("TFLite Micro arena", max_ram_kb), ("flash", max_flash_kb))
            if limit is not None
        ]
        within = f" within {' and '.join(limits)}" if limits else ""
        if limits and best is None:
            best_text = "no model has TFLite Micro figures within the limits (int8 rows, edgecnn[micro] installed)"
        raise EdgeCNNError(f"no model reaches min-accuracy {min_accuracy:g}{among}{within} ({best_text})")
    return min(eligible, key=lambda row: (row[cost], -row["tflite_top1"]))


def destination_path(row: dict[str, Any], select_to: str | Path) -> Path:
    """Where the selected model goes.

    ``select_to`` is a ``.tflite`` path (``{arch}``, ``{alpha}``, ``{size}``, ``{scheme}`` are filled in) or
    a folder, which gets ``<arch>_<alpha>_<size>_<scheme>.tflite``.
    """
    text = str(select_to)
    fields = {
        "arch": row["arch"],
        "alpha": f"{float(row['alpha']):g}",
        "size": int(row["size"]),
        "scheme": row["scheme"],
    }
    if text.endswith(".tflite"):
        try:
            return Path(text.format(**fields))
        except (KeyError, IndexError, ValueError) as exc:
            raise EdgeCNNError(
                f"select-to may only use {{arch}} {{alpha}} {{size}} {{scheme}}. Received {text!r}"
            ) from exc
    if Path(text).is_file():
        raise EdgeCNNError(f"select-to must be a .tflite path or a folder. Received {text}")
    return Path(text) / DEFAULT_NAME.format(**fields)


def select_command(
    sweep_dir: str | Path,
    min_accuracy: float,
    by: str,
    select_to: str | Path,
    schemes: tuple[str, ...] | None = None,
    max_ram_kb: float | None = None,
    max_flash_kb: float | None = None,
) -> str:
    """The ``edgecnn sweep select`` command line that makes this selection."""
    return shlex.join(
        [
            "edgecnn",
            "sweep",
            "select",
            str(sweep_dir),
            "--min-accuracy",
            f"{min_accuracy:g}",
            "--select-by",
            by,
            *(["--select-scheme", ",".join(schemes)] if schemes else []),
            *(["--max-ram-kb", f"{max_ram_kb:g}"] if max_ram_kb is not None else []),
            *(["--max-flash-kb", f"{max_flash_kb:g}"] if max_flash_kb is not None else []),
            "--select-to",
            str(select_to),
        ]
    )


def select_model(
    sweep_dir: str | Path,
    min_accuracy: float,
    *,
    by: str = "size",
    select_to: str | Path = ".",
    schemes: tuple[str, ...] | None = None,
    max_ram_kb: float | None = None,
    max_flash_kb: float | None = None,
) -> dict[str, Any]:
    """Copies the chosen model of a finished sweep, with ``<stem>.labels.txt`` and a ``<stem>.md`` model card.

    Args:
        sweep_dir: The sweep folder (with results.json and the trial folders).
        min_accuracy: Accuracy floor, a fraction of 1 (TFLite top-1 on the test split).
        by: ``size`` (smallest file) or ``latency`` (fastest median latency).
        select_to: Destination ``.tflite`` path (may hold ``{arch}``-style fields) or folder.
        schemes: Consider only these quantization schemes (None: all).
        max_ram_kb: Only models whose TFLite Micro arena is at most this many KB.
        max_flash_kb: Only models whose flash (the .tflite) is at most this many KB.

    Returns:
        ``{"row": chosen row, "model": path, "labels": path, "card": path}``.

    Raises:
        EdgeCNNError: If no model qualifies or the chosen file is missing.
    """
    sweep_dir = Path(sweep_dir)
    doc = read_results(sweep_dir)
    rows = [{k: row.get(k) for k in (*COLUMNS, "pareto_size", "pareto_latency")} for row in doc["rows"]]
    row = select_row(rows, min_accuracy, by, schemes, max_ram_kb=max_ram_kb, max_flash_kb=max_flash_kb)
    source = sweep_dir / row["model"]
    model_bytes = read_model_bytes(source)
    metadata = read_metadata_from_bytes(model_bytes)
    labels = list(metadata.labels) if metadata and metadata.labels else []

    dest = destination_path(row, select_to)
    write_bytes_atomic(dest, model_bytes)
    labels_path = write_labels(dest.with_name(f"{dest.stem}.{LABELS_FILE}"), labels)
    card_path = dest.with_suffix(".md")
    eligible = sum(1 for r in rows if _eligible(r, min_accuracy, schemes, max_ram_kb, max_flash_kb))
    card = render_model_card(
        row,
        dest,
        model_bytes,
        metadata,
        doc,
        eligible=eligible,
        min_accuracy=min_accuracy,
        by=by,
        schemes=schemes,
        select=select_command(sweep_dir, min_accuracy, by, select_to, schemes, max_ram_kb, max_flash_kb),
    )
    write_text_atomic(card_path, card)
    return {"row": row, "model": dest, "labels": labels_path, "card": card_path}


def render_model_card(
    row: dict[str, Any],
    dest: Path,
    model_bytes: bytes,
    metadata,
    doc: dict[str, Any],
    *,
    eligible: int,
    min_accuracy: float,
    by: str,
    select: str,
    schemes: tuple[str, ...] | None = None,
) -> str:
    """The Markdown model card of a selected model."""
    config = doc.get("config", {})
    host = doc.get("host", {})
    threads = row.get("threads") or config.get("threads")
    quant = dict(metadata.quantization) if metadata else {}
    lines = [f"# {dest.name}", ""]
    lines += [
        f"{row['arch']} (alpha {row['alpha']:g}) image classifier, {row['size']}x{row['size']} input, "
        f"{row['scheme']} quantization, trained on `{config.get('data')}`. Selected from a sweep of "
        f"{len(doc.get('rows', []))} models as the {'smallest' if by == 'size' else 'fastest'} of the "
        f"{eligible} {'/'.join(schemes) + ' ' if schemes else ''}models reaching {100 * min_accuracy:g}% "
        "test top-1.",
        "",
    ]
    lines += [
        "| | |",
        "|---|---|",
        f"| architecture | {row['arch']} |",
        f"| width multiplier (alpha) | {row['alpha']:g} |",
        *(f"| knob | {knob} |" for knob in (knobs_text(metadata.extra) if metadata else [])),
        f"| input | {_input_text(metadata, row)} |",
        f"| quantization | {row['scheme']} |",
        f"| file size | {len(model_bytes):,} bytes ({len(model_bytes) / 1024:.1f} KB) |",
        f"| sha256 | `{hashlib.sha256(model_bytes).hexdigest()}` |",
    ]
    if row.get("params") is not None:
        lines.append(f"| parameters | {int(row['params']):,} |")
    if row.get("macs") is not None:
        lines.append(f"| multiply-accumulates | {int(row['macs']):,} ({row['macs'] / 1e6:.2f} M) |")
    lines.append(
        f"| test top-1 (this .tflite, LiteRT) | {100 * row['tflite_top1']:.2f}% on "
        f"{row.get('test_samples') or '?'} images |"
    )
    if row.get("keras_top1") is not None:
        lines.append(
            f"| test top-1 (float Keras model) | {100 * row['keras_top1']:.2f}% "
            f"({100 * (row.get('delta_top1') or 0):+.2f} pt after export) |"
        )
    if row.get("latency_ms") is not None:
        where = host.get("cpu") or host.get("machine") or "the sweep machine"
        lines.append(
            f"| latency (median / p90) | {row['latency_ms']:.3f} / {row['latency_p90_ms']:.3f} ms, "
            f"{threads} thread(s), {where} |"
        )
    if row.get("train_seconds") is not None:
        lines.append(f"| training | {config.get('epochs')} epoch(s), {row['train_seconds']:.0f} s |")
    if row.get("arena_bytes") is not None:
        from edgecnn.device.boards import boards_fitting

        lines += [
            f"| TFLite Micro tensor arena | {int(row['arena_bytes']):,} bytes (smallest that runs; TFLM reference "
            "kernels on the sweep host, not a microcontroller) |",
            f"| flash (the .tflite) | {int(row['flash_bytes']):,} bytes, plus TFLM's runtime |",
            f"| fits (docs/micro.md) | {', '.join(boards_fitting(row['arena_bytes'], row['flash_bytes'])) or 'none'} |",
        ]
    lines.append("")

    labels = list(metadata.labels) if metadata else []
    lines += ["## Labels", "", f"`{dest.stem}.labels.txt`, in output order:", ""]
    lines += [f"{i}. {label}" for i, label in enumerate(labels)] or ["(none embedded)"]
    lines.append("")
    lines += ["## Preprocessing", ""]
    if metadata:
        spec = metadata.preprocessing
        lines += [
            f"- Resize the frame to {spec.width}x{spec.height} ({spec.resize_mode}; when shrinking, bilinear "
            "to an integer multiple of the size, then OpenCV INTER_AREA; bilinear when enlarging), convert to "
            f"{spec.color_order} ({spec.channels} channel(s)).",
            "- Normalisation: "
            + (
                "inside the model: feed raw 0..255 pixels."
                if spec.normalization == "in-model"
                else f"(pixel - {list(spec.mean)}) / {list(spec.std)}."
            ),
        ]
        if quant:
            lines.append(
                f"- Input tensor: {quant.get('input_dtype', '?')}"
                + (
                    f", scale {quant['input_scale']:g}, zero point {quant.get('input_zero_point')}"
                    if quant.get("input_scale")
                    else ""
                )
                + f"; output: {quant.get('output_dtype', '?')} {metadata.output}."
            )
        lines.append(
            "- The same `edgecnn.core.preprocessing.prepare` function was used for training, calibration and "
            "evaluation; the spec is embedded in the file (`edgecnn inspect`)."
        )
    else:
        lines.append("(no edgecnn metadata in the file)")
    lines.append("")
    lines += [
        "## Use",
        "",
        "```python",
        "from edgecnn.device.runtime import Classifier",
        "",
        f'classifier = Classifier("{dest.name}", threads={threads or 1})',
        "probabilities = classifier.classify(frame_bgr)  # an OpenCV BGR frame of any size",
        "```",
        "",
    ]
    lines += ["## Reproduce", "", "```sh"]
    if doc.get("command"):
        lines.append(doc["command"])
    lines += [select, "```", ""]
    if host:
        lines += [f"Measured on {', '.join(f'{k} {v}' for k, v in host.items())}.", ""]
    return "\n".join(lines)


def _input_text(metadata, row: dict[str, Any]) -> str:
    if metadata is None:
        return f"{row['size']}x{row['size']}"
    spec = metadata.preprocessing
    return f"{spec.height}x{spec.width}x{spec.channels} {spec.color_order}"

"""What a ``.tflite`` file contains: metadata, I/O tensors, operators, and whether it is fully integer.

Reads the flatbuffer with :mod:`edgecnn.modelfile.tflite_file` and names builtin operators with the schema's own
``BuiltinOperator`` enum; no TensorFlow, no interpreter. Works on any ``.tflite`` file, with or without edgecnn
metadata. Export reuses :func:`analyse` to check its own output.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.modelfile.metadata import read_metadata_document, read_model_bytes
from edgecnn.modelfile.schema import builtin_operator_names, load_schema
from edgecnn.modelfile.standard_metadata import read_standard_metadata
from edgecnn.modelfile.tflite_file import TFLiteFile, parse_tflite

FLOAT_TYPES = ("float32", "float16", "float64", "bfloat16")
#: Training metrics shown in the text report (``--json`` has them all).
TRAINING_KEYS = ("val_accuracy", "test_accuracy", "test_top5", "epochs", "best_epoch")


def operator_name(builtin_code: int, custom_code: str | None) -> str:
    """The display name of one operator code: builtin name, ``CUSTOM:<name>`` or ``BUILTIN_<code>``."""
    if custom_code or builtin_code == load_schema().BuiltinOperator.CUSTOM:
        return f"CUSTOM:{custom_code or '?'}"
    return builtin_operator_names().get(builtin_code, f"BUILTIN_{builtin_code}")


def _tensor_summary(model: TFLiteFile, index: int) -> dict[str, Any]:
    tensor = model.tensors[index]
    per_tensor = len(tensor.scales) == 1
    quantized = per_tensor and tensor.scales[0] != 0.0
    zero_point = (int(tensor.zero_points[0]) if tensor.zero_points else 0) if quantized else None
    return {
        "name": tensor.name,
        "dtype": tensor.dtype,
        "shape": list(tensor.shape),
        "scale": float(tensor.scales[0]) if quantized else None,
        "zero_point": zero_point,
    }


def analyse(model: TFLiteFile) -> dict[str, Any]:
    """Operators, I/O tensors and the integer-only verdict of a parsed model (no metadata, no file).

    An operator "runs in float" when any tensor it reads or writes is a float type, except a QUANTIZE reading a
    model input and a DEQUANTIZE writing a model output (float I/O converted at the edges of an integer model).
    """
    names = [operator_name(code.builtin_code, code.custom_code) for code in model.operator_codes]
    graph_inputs, graph_outputs = set(model.inputs), set(model.outputs)
    counts: Counter[str] = Counter()
    float_ops: Counter[str] = Counter()
    for op in model.operators:
        name = names[op.opcode_index] if op.opcode_index < len(names) else f"OPCODE_{op.opcode_index}"
        counts[name] += 1
        at_edge = (name == "QUANTIZE" and set(op.inputs) <= graph_inputs) or (
            name == "DEQUANTIZE" and set(op.outputs) <= graph_outputs
        )
        touches_float = any(model.tensors[i].dtype in FLOAT_TYPES for i in (*op.inputs, *op.outputs) if i >= 0)
        if touches_float and not at_edge:
            float_ops[name] += 1
    return {
        "inputs": [_tensor_summary(model, i) for i in model.inputs],
        "outputs": [_tensor_summary(model, i) for i in model.outputs],
        "operators": dict(counts.most_common()),
        "num_operators": sum(counts.values()),
        "float_operators": dict(float_ops.most_common()),
        "custom_operators": sorted({n for n in names if n.startswith("CUSTOM:") or n.startswith("Flex")}),
        "fully_integer": not float_ops and bool(counts),
        "subgraphs": model.num_subgraphs,
    }


def inspect_model(path: str | os.PathLike) -> dict[str, Any]:
    """Everything ``edgecnn inspect`` reports about the ``.tflite`` file at ``path``, JSON-ready.

    Raises:
        EdgeCNNError: If the file is missing, empty or not a TFLite model.
    """
    path = Path(path)
    data = read_model_bytes(path)
    try:
        parsed = parse_tflite(data)
    except EdgeCNNError as exc:
        raise EdgeCNNError(f"{path}: {exc}") from None
    report: dict[str, Any] = {"path": str(path), "size_bytes": len(data)}
    try:
        report["metadata"] = read_metadata_document(data)
    except EdgeCNNError as exc:
        report["metadata"], report["metadata_error"] = None, str(exc)
    try:
        standard = read_standard_metadata(data)
        report["standard_metadata"] = standard.to_dict() if standard else None
    except EdgeCNNError as exc:
        report["standard_metadata"], report["standard_metadata_error"] = None, str(exc)
    report.update(analyse(parsed))
    return report


def _fmt_tensor(role: str, tensor: dict[str, Any]) -> str:
    quant = (
        f"scale {tensor['scale']:.6g}, zero point {tensor['zero_point']}"
        if tensor["scale"] is not None
        else "not quantised"
    )
    return f"  {role:<6} {tensor['dtype']:<8} {str(tensor['shape']):<18} {quant}  ({tensor['name']})"


def knobs_text(meta: dict[str, Any]) -> list[str]:
    """The architecture knobs a metadata document records away from their defaults, as words (``stem stride 1``)."""
    knobs = []
    if meta.get("stem_stride", 2) != 2:
        knobs.append(f"stem stride {meta['stem_stride']}")
    if meta.get("head_width") is not None:
        knobs.append(f"head width {meta['head_width']}")
    if meta.get("scale_head"):
        knobs.append("scaled head")
    if meta.get("depth", 1.0) != 1.0:
        knobs.append(f"depth {meta['depth']:g}")
    return knobs


def _fmt_metadata(meta: dict[str, Any]) -> list[str]:
    lines = [
        f"metadata: {meta.get('format')} written by edgecnn {meta.get('edgecnn_version')}"
        + (f" on {meta['created']}" if meta.get("created") else "")
    ]
    if meta.get("arch"):
        lines.append(
            f"  model        {meta['arch']} alpha {meta.get('alpha')} separable {meta.get('separable')}"
            + "".join(f" {knob}" for knob in knobs_text(meta))
        )
    labels = meta.get("labels") or []
    shown = ", ".join(labels[:10]) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    lines.append(f"  labels       {len(labels)}: {shown}")
    pre = meta.get("preprocessing") or {}
    if pre:
        if pre.get("normalization") == "in-model":  # format 1 stored these as mean/std
            mean, std = pre.get("in_model_mean", pre.get("mean")), pre.get("in_model_std", pre.get("std"))
            normalisation = f"in the model (raw pixels in; inside: mean {mean}, std {std})"
        else:
            normalisation = f"(x - mean) / std, mean {pre.get('mean')}, std {pre.get('std')}"
        lines.append(
            f"  input        {pre.get('height')}x{pre.get('width')}x{pre.get('channels')} "
            f"{pre.get('color_order')}, resize {pre.get('resize_mode')} (algorithm v{pre.get('version', 1)}), "
            f"normalisation {normalisation}"
        )
    folded = meta.get("input_conversion")
    if folded:
        lines.append(f"  input conv.  {folded.get('description')}")
    quant = meta.get("quantization") or {}
    if quant:
        lines.append(
            f"  quantisation {quant.get('scheme')}: weights {quant.get('weights')}, activations "
            f"{quant.get('activations')}, I/O {quant.get('input_dtype')}/{quant.get('output_dtype')}"
        )
    metrics = meta.get("metrics") or {}
    verification = metrics.get("verification") or {}
    if verification:
        v = verification
        lines.append(
            f"  verified     on {v.get('samples')} {v.get('split')} images: "
            f"keras {v.get('keras_accuracy'):.4f}, tflite {v.get('tflite_accuracy'):.4f}, "
            f"agreement {v.get('agreement'):.4f}, "
            f"max |dp| {v.get('max_abs_diff'):.4f}"
        )
    training = metrics.get("training") or {}
    if training:
        shown = ", ".join(
            f"{k} {training[k]:.4f}" if isinstance(training[k], float) else f"{k} {training[k]}"
            for k in TRAINING_KEYS
            if k in training
        )
        lines.append(f"  training     {shown}")
    return lines


def _fmt_values(values: list[float] | None) -> str:
    return "none" if values is None else "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _fmt_standard(meta: dict[str, Any]) -> list[str]:
    inp, out = meta["input"], meta["output"]
    lines = [f"standard metadata: {meta['entry']} (min parser version {meta.get('min_parser_version') or '?'})"]
    lines.append(f"  name         {meta['name'] or '(none)'}, version {meta['version'] or '(none)'}")
    if meta["description"]:
        lines.append(f"  description  {meta['description']}")
    lines.append(f"  author       {meta['author'] or '(not set)'}; licence {meta['license'] or '(not set)'}")
    norm = inp["normalization"]
    norm_text = f"mean {_fmt_values(norm['mean'])}, std {_fmt_values(norm['std'])}" if norm else "none"
    value_range = inp["range"]
    range_text = f", range {_fmt_values(value_range['min'])}..{_fmt_values(value_range['max'])}" if value_range else ""
    lines.append(
        f"  input        {inp['name'] or '?'}: {inp['color_space'] or 'colour space not given'}, "
        f"normalisation {norm_text}{range_text}"
    )
    labels = out["labels"]
    label_text = (
        f"labels {out['labels_file']} (TENSOR_AXIS_LABELS, {len(labels)} packed)"
        if labels is not None
        else ("no labels" if not out["labels_file"] else f"labels {out['labels_file']} (not packed)")
    )
    lines.append(f"  output       {out['name'] or '?'}: {label_text}")
    lines += [f"  problem      {problem}" for problem in meta.get("problems") or []]
    return lines


def format_report(report: dict[str, Any]) -> str:
    """The human-readable text of :func:`inspect_model`'s report."""
    size = report["size_bytes"]
    lines = [f"{report['path']}: {size / 1e6:.2f} MB ({size} bytes)"]
    entries = (
        ("metadata", "metadata", _fmt_metadata, "none (not an edgecnn export)"),
        ("standard_metadata", "standard metadata", _fmt_standard, "none"),
    )
    for key, title, fmt, none_text in entries:
        if report.get(key):
            lines += fmt(report[key])
        else:
            error = report.get(f"{key}_error")
            lines.append(f"{title}: unreadable ({error})" if error else f"{title}: {none_text}")
    if not report.get("metadata") and not report.get("standard_metadata"):
        lines.append("  (no labels or preprocessing in the file: pass --labels, --mean/--std to run it)")
    lines.append("tensors:")
    lines += [_fmt_tensor("input", t) for t in report["inputs"]] + [_fmt_tensor("output", t) for t in report["outputs"]]
    ops = ", ".join(f"{name} x{n}" for name, n in report["operators"].items())
    lines.append(f"operators: {report['num_operators']} ({ops})")
    if report["custom_operators"]:
        lines.append(f"custom/Flex operators: {', '.join(report['custom_operators'])}")
    floats = ", ".join(f"{name} x{n}" for name, n in report["float_operators"].items())
    lines.append(f"float operators: {floats or 'none'}")
    lines.append(f"fully integer: {'yes' if report['fully_integer'] else 'no'}")
    return "\n".join(lines)

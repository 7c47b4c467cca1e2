"""TFLite Micro against LiteRT on real images: top-1 agreement, output differences, and which operator makes them.

LiteRT runs the file as the Pi does (``Classifier``: XNNPACK delegate by default); TFLM runs it with its reference
kernels. Outputs are compared in quantisation steps of the output tensor. :func:`trace_operators` then finds where
the differences come from, in two views:

- *local*: every operator alone in LiteRT (a one-operator model) on the exact inputs TFLM gave it, against TFLM's
  output: the difference that kernel itself makes;
- *propagated*: both full runs with every intermediate tensor visible (TFLM ``kPreserveAllTensors``; for LiteRT a
  copy of the model whose every operator output is also a graph output, so that XNNPACK has to write them out,
  which ``experimental_preserve_all_tensors`` cannot make it do), per operator the largest difference at its
  inputs and at its output: where differences grow.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.device.micro import MicroInterpreter, describe_steps, micro_scores, output_step
from edgecnn.modelfile.metadata import read_model_bytes

#: Top-1 agreement with LiteRT below which ``--micro`` verification fails.
MIN_AGREEMENT = 0.995
#: Images traced operator by operator (the costly part: one LiteRT interpreter per operator).
TRACE_SAMPLES = 50
#: Differences above this many steps are what the trace explains.
STEP_TOLERANCE = 2


def _ties(scores: np.ndarray) -> np.ndarray:
    top2 = np.sort(scores, axis=1)[:, -2:] if scores.shape[1] > 1 else np.zeros((len(scores), 2))
    return top2[:, 0] == top2[:, 1]


def compare_scores(
    litert: np.ndarray, micro: np.ndarray, output_scale: float | None, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Compares two runtimes' class scores (``N x classes``, dequantised); JSON-ready.

    Returns:
        ``samples``, ``agreement``, ``disagreements``, ``ties`` (images whose top two scores are equal in either
        runtime, where top-1 is decided by index order), ``disagreements_at_ties``, ``output_scale``,
        ``max_abs_diff``, ``steps`` (see :func:`~edgecnn.device.micro.describe_steps`; None for a float output),
        ``min_agreement``, ``passed`` (agreement >= :data:`MIN_AGREEMENT`) and, with labels,
        ``litert_accuracy`` and ``micro_accuracy``.
    """
    diff = np.abs(litert.astype(np.float64) - micro.astype(np.float64))
    steps = np.rint(diff / output_scale) if output_scale else None
    agree = litert.argmax(axis=1) == micro.argmax(axis=1)
    ties = _ties(litert) | _ties(micro)
    result: dict[str, Any] = {
        "samples": len(litert),
        "agreement": float(agree.mean()) if len(agree) else 1.0,
        "disagreements": int((~agree).sum()),
        "ties": int(ties.sum()),
        "disagreements_at_ties": int((~agree & ties).sum()),
        "output_scale": output_scale,
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "steps": describe_steps(steps) if steps is not None else None,
        "min_agreement": MIN_AGREEMENT,
    }
    result["passed"] = result["agreement"] >= MIN_AGREEMENT
    if labels is not None:
        labels = np.asarray(labels)
        result["litert_accuracy"] = float((litert.argmax(axis=1) == labels).mean())
        result["micro_accuracy"] = float((micro.argmax(axis=1) == labels).mean())
    return result


def compare_runtimes(
    model: str | os.PathLike,
    pixels: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    arena_bytes: int | None = None,
    trace_samples: int = TRACE_SAMPLES,
    keep_scores: bool = False,
) -> dict[str, Any]:
    """Runs ``pixels`` through LiteRT and TFLM and compares (:func:`compare_scores`), then traces the operators.

    Args:
        model: A ``.tflite`` file with edgecnn metadata (or one the device runtime can read).
        pixels: ``uint8`` model pixels, ``NxHxWxC`` (as ``prepare()`` makes them).
        labels: Class ids, for the accuracy of each runtime.
        arena_bytes: TFLM arena (default: generous; the model must be known to load, see ``micro_probe``).
        trace_samples: Images traced operator by operator (0: no trace).
        keep_scores: Also return TFLM's scores (``micro_scores``, an array: not JSON-ready).

    Returns:
        :func:`compare_scores`' keys plus ``litert_backend`` and ``operators`` (see :func:`trace_operators`).
    """
    from edgecnn.device.runtime import Classifier

    path = Path(model)
    model_bytes = read_model_bytes(path)
    classifier = Classifier(path)
    pixels = np.asarray(pixels)
    litert = classifier.predict_pixels(pixels)
    micro = micro_scores(classifier, model_bytes, pixels, arena_bytes)
    result = compare_scores(litert, micro, output_step(classifier), labels)
    result["litert_backend"] = f"{classifier.backend} (default delegates: XNNPACK)"
    if trace_samples and len(pixels):
        result["operators"] = trace_operators(model_bytes, classifier, pixels[:trace_samples])
    if keep_scores:
        result["micro_scores"] = micro
    return result


def _max_steps(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) if a.size else 0


def trace_operators(model_bytes: bytes, classifier, pixels: np.ndarray) -> dict[str, Any]:
    """Per operator type: the largest difference a kernel makes on identical inputs, and where differences grow.

    Args:
        model_bytes: The ``.tflite`` file's bytes.
        classifier: The file's :class:`~edgecnn.device.runtime.Classifier` (its interpreter class and input
            conversion are reused, so LiteRT runs as on the device).
        pixels: A few ``uint8`` model-pixel images.

    Returns:
        ``images``; ``by_type``: operator name -> ``count``, ``local_max_steps`` (largest output difference,
        in steps of that operator's output, when LiteRT's kernel gets exactly TFLM's inputs),
        ``local_share_differing`` (share of output values that differ then), ``max_input_steps`` /
        ``max_output_steps`` (full runs, in steps of each tensor), ``amplified_max_steps`` (the largest output
        difference on an image whose inputs to it differed by at most :data:`STEP_TOLERANCE` steps: an operator
        that turns small differences into large ones, 0 if none); ``over_tolerance_local`` (operator types whose own
        kernel differs by more than :data:`STEP_TOLERANCE` steps); ``first_over_tolerance``: on how many images some
        intermediate tensor differs by more than :data:`STEP_TOLERANCE` steps, and at which operator (in graph
        order) that first happens, earliest and median; ``exposed_outputs_match`` (the LiteRT copy with
        every tensor exposed gave the same final outputs as the file itself).
    """
    from edgecnn.modelfile.graph_edit import (
        activation_tensors,
        expose_all_outputs,
        load_model_object,
        single_operator_model,
    )
    from edgecnn.modelfile.inspect import operator_name
    from edgecnn.modelfile.tflite_file import parse_tflite

    parsed = parse_tflite(model_bytes)
    names = [operator_name(code.builtin_code, code.custom_code) for code in parsed.operator_codes]
    model = load_model_object(model_bytes)
    runtime_tensors = activation_tensors(model)
    interpreter_class = classifier._interpreter_class

    exposed_bytes, _ = expose_all_outputs(model_bytes)
    exposed = interpreter_class(model_content=exposed_bytes)
    exposed.allocate_tensors()
    exposed_input = exposed.get_input_details()[0]["index"]
    singles = []
    for index in range(len(parsed.operators)):
        single_bytes, inputs, outputs = single_operator_model(model, index)
        single = interpreter_class(model_content=single_bytes)
        single.allocate_tensors()
        in_details = single.get_input_details()
        out_details = single.get_output_details()
        singles.append((single, list(zip(inputs, (d["index"] for d in in_details), strict=True)), out_details))
    tflm = MicroInterpreter(model_bytes, preserve_all_tensors=True)

    local: dict[int, int] = defaultdict(int)
    differing: dict[int, list[float]] = defaultdict(list)
    out_steps: dict[int, int] = defaultdict(int)
    in_steps: dict[int, int] = defaultdict(int)
    amplified: dict[int, int] = defaultdict(int)
    first_over: list[int] = []
    exposed_match = True
    final = parsed.outputs[0]
    for image in classifier.to_input(np.asarray(pixels)):
        reference_out = tflm.invoke(image)
        exposed.set_tensor(exposed_input, image[np.newaxis])
        exposed.invoke()
        reference = {i: tflm.tensor(i) for i in runtime_tensors}
        reference[final] = reference_out.reshape(reference[final].shape)
        litert = {i: exposed.get_tensor(i) for i in runtime_tensors}
        exposed_match &= bool(np.array_equal(classifier.invoke(image), litert[final][0]))
        first = None
        for index, op in enumerate(parsed.operators):
            single, feeds, out_details = singles[index]
            for original, slot in feeds:
                single.set_tensor(slot, reference[original])
            single.invoke()
            produced = single.get_tensor(out_details[0]["index"])
            expected = reference[op.outputs[0]]
            delta = np.abs(produced.astype(np.int64) - expected.astype(np.int64))
            local[index] = max(local[index], int(delta.max()) if delta.size else 0)
            differing[index].append(float((delta > 0).mean()) if delta.size else 0.0)
            out_d = _max_steps(litert[op.outputs[0]], expected)
            in_d = max([0, *(_max_steps(litert[i], reference[i]) for i in op.inputs if i in runtime_tensors)])
            out_steps[index], in_steps[index] = max(out_steps[index], out_d), max(in_steps[index], in_d)
            if first is None and out_d > STEP_TOLERANCE:
                first = index
            if in_d <= STEP_TOLERANCE < out_d:
                amplified[index] = max(amplified[index], out_d)
        if first is not None:
            first_over.append(first)

    by_type: dict[str, dict[str, Any]] = {}
    for index, op in enumerate(parsed.operators):
        name = names[op.opcode_index]
        entry = by_type.setdefault(
            name,
            {
                "count": 0,
                "local_max_steps": 0,
                "local_share_differing": 0.0,
                "max_input_steps": 0,
                "max_output_steps": 0,
                "amplified_max_steps": 0,
            },
        )
        entry["count"] += 1
        entry["local_max_steps"] = max(entry["local_max_steps"], local[index])
        entry["local_share_differing"] = max(entry["local_share_differing"], float(np.mean(differing[index])))
        entry["max_input_steps"] = max(entry["max_input_steps"], in_steps[index])
        entry["max_output_steps"] = max(entry["max_output_steps"], out_steps[index])
        entry["amplified_max_steps"] = max(entry["amplified_max_steps"], amplified[index])
    first_over_tolerance = None
    if first_over:
        earliest = min(first_over)
        first_over_tolerance = {
            "images": len(first_over),
            "earliest_index": earliest,
            "earliest_operator": names[parsed.operators[earliest].opcode_index],
            "median_index": int(np.median(first_over)),
        }
    return {
        "images": len(pixels),
        "by_type": by_type,
        "over_tolerance_local": sorted(n for n, e in by_type.items() if e["local_max_steps"] > STEP_TOLERANCE),
        "operators_run": len(parsed.operators),
        "first_over_tolerance": first_over_tolerance,
        "exposed_outputs_match": exposed_match,
    }


def explain(result: dict[str, Any]) -> str:
    """One sentence on where output differences over :data:`STEP_TOLERANCE` steps come from."""
    steps = result.get("steps") or {}
    trace = result.get("operators")
    if not steps or steps.get("max", 0) <= STEP_TOLERANCE:
        return f"every output within {STEP_TOLERANCE} steps of LiteRT's"
    if not trace:
        return "not traced"
    local_max = max((e["local_max_steps"] for e in trace["by_type"].values()), default=0)
    if trace["over_tolerance_local"]:
        return f"kernels that differ by more than {STEP_TOLERANCE} steps on identical inputs: " + ", ".join(
            f"{n} ({trace['by_type'][n]['local_max_steps']})" for n in trace["over_tolerance_local"]
        )
    first = trace.get("first_over_tolerance") or {}
    rounding = sorted(n for n, e in trace["by_type"].items() if e["local_max_steps"] > 0)
    text = (
        f"no kernel differs by more than {local_max} step(s) on identical inputs "
        f"({', '.join(rounding) or 'none'}: LiteRT/XNNPACK vs TFLM reference rounding); these add up through "
        f"the {trace['operators_run']} operators"
    )
    amplifiers = {name: e for name, e in trace["by_type"].items() if e.get("amplified_max_steps", 0) > STEP_TOLERANCE}
    if amplifiers:
        text += "; " + ", ".join(
            f"{name} turns input differences of <= {STEP_TOLERANCE} steps into up to {e['amplified_max_steps']}"
            for name, e in sorted(amplifiers.items(), key=lambda item: -item[1]["amplified_max_steps"])
        )
    if first:
        text += (
            f" (past {STEP_TOLERANCE} steps first at op {first['earliest_index']} {first['earliest_operator']}, "
            f"median op {first['median_index']}, on {first['images']}/{trace['images']} traced images)"
        )
    return text

"""``export --micro``: TFLite Micro checks of a fresh export, and the record they leave in its metadata.

The checks run on the finished ``.tflite`` (in its temporary file) before anything is written:

1. TFLM loads it and runs it (:func:`edgecnn.device.micro_probe.probe`, which also finds the smallest arena);
   an operator TFLM lacks is a one-line error naming it.
2. Its op resolver can be generated (every operator has a ``MicroMutableOpResolver`` method).
3. On the validation images, TFLM's top-1 agrees with LiteRT's on at least
   :data:`~edgecnn.device.micro_compare.MIN_AGREEMENT` of them (else :class:`MicroAgreementError`), the output
   differences are counted in quantisation steps, and the operators are traced to say where differences over
   2 steps come from (:mod:`edgecnn.device.micro_compare`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError

#: Schemes ``--micro`` accepts (TFLM's kernels are integer-first; int8 is its usual convention).
MICRO_SCHEMES = ("int8",)
#: ``--io`` of a ``--micro`` export when none is given: TFLM's usual convention.
MICRO_DEFAULT_IO = "int8"


class MicroAgreementError(EdgeCNNError):
    """TFLM's top-1 agreed with LiteRT's on too few validation images."""


def micro_io(scheme_name: str, io: str | None) -> str | None:
    """The ``--io`` a ``--micro`` export uses (``int8`` unless given).

    Raises:
        EdgeCNNError: If the scheme is not one TFLM export supports.
    """
    if scheme_name not in MICRO_SCHEMES:
        raise EdgeCNNError(
            f"--micro needs a full-integer model: use --quantize {' or '.join(MICRO_SCHEMES)}. "
            f"Received --quantize {scheme_name}"
        )
    return io or MICRO_DEFAULT_IO


def check_micro(model_path: Path, pixels: np.ndarray | None = None, labels: np.ndarray | None = None) -> dict[str, Any]:
    """Runs the TFLM checks on an exported file; returns the record stored under ``micro`` in its metadata.

    Args:
        model_path: The ``.tflite`` (with its edgecnn metadata).
        pixels: Validation images (``uint8`` model pixels); None skips the comparison with LiteRT.
        labels: Their class ids.

    Raises:
        EdgeCNNError: If ``tflite_micro`` is missing, TFLM cannot run the model or an operator has no resolver
            method. The agreement check does not raise here: see ``record["verification"]["passed"]``.
    """
    from edgecnn.device.micro_inspect import not_loading_error
    from edgecnn.device.micro_probe import probe
    from edgecnn.modelfile.micro_sources import resolver_header

    model_bytes = model_path.read_bytes()
    probed = probe(model_bytes)
    if not probed.loads:
        raise not_loading_error(probed.to_dict())
    resolver_header(model_bytes, model_path.stem)  # every operator has an Add method (raises otherwise)
    record: dict[str, Any] = {
        "runtime": f"tflite-micro {probed.tflm_version} (reference kernels, Python interpreter, 64-bit host)",
        "operators": probed.operators,
        "arena_bytes": probed.arena_bytes,
        "arena_bytes_32bit_estimate": probed.arena_bytes_32bit_estimate,
        "arena_recorded_total": (probed.recorded or {}).get("total"),
        "verification": None,
    }
    if pixels is not None and len(pixels):
        from edgecnn.core.quiet import quiet
        from edgecnn.device.micro_compare import compare_runtimes, explain

        with quiet() as captured:  # LiteRT announces its XNNPACK delegate on stderr
            try:
                compared = compare_runtimes(model_path, pixels, labels, arena_bytes=probed.arena_bytes)
            finally:
                captured.discard()
        compared["explanation"] = explain(compared)
        record["verification"] = {"split": "val", **compared}
    return record


#: Verification keys kept in the file's metadata (the full trace stays in ``export --json``: flash is precious).
METADATA_KEYS = (
    "split",
    "samples",
    "agreement",
    "disagreements",
    "disagreements_at_ties",
    "passed",
    "litert_accuracy",
    "micro_accuracy",
    "steps",
    "explanation",
)


def metadata_record(record: dict[str, Any]) -> dict[str, Any]:
    """The compact part of a :func:`check_micro` record that goes into the file's metadata."""
    compact = {k: v for k, v in record.items() if k not in ("operators", "verification")}
    verification = record.get("verification")
    if verification:
        compact["verification"] = {k: verification.get(k) for k in METADATA_KEYS if k in verification}
    return compact


def summary_line(record: dict[str, Any]) -> str:
    """The export step's one line for a :func:`check_micro` record."""
    text = f"TFLM runs it; arena {record['arena_bytes']:,} bytes"
    verification = record.get("verification")
    if verification:
        steps = verification.get("steps") or {}
        text += (
            f"; {verification['samples']} val images: top-1 agreement with LiteRT "
            f"{100 * verification['agreement']:.2f}%, outputs differ by <= 2 steps on "
            f"{100 * (1 - steps.get('share_over_2', 0.0)):.1f}% (max {steps.get('max', 0)})"
        )
    return text


def agreement_error(record: dict[str, Any]) -> MicroAgreementError:
    """The one-line failure for a record whose agreement is below the threshold."""
    v = record["verification"]
    return MicroAgreementError(
        f"--micro: TFLite Micro's top-1 agrees with LiteRT's on {100 * v['agreement']:.2f}% of {v['samples']} "
        f"validation images (< {100 * v['min_agreement']:g}%; {v['disagreements_at_ties']} of the "
        f"{v['disagreements']} disagreements are ties); {v['explanation']}; nothing written (--no-verify skips "
        "this check)"
    )

"""``edgecnn inspect --micro``: does a ``.tflite`` run in TFLite Micro, how much flash and RAM, which boards.

Everything is established by loading the file in TFLM's interpreter (:func:`edgecnn.device.micro_probe.probe`),
not by a hand-kept list of operators. Flash is the file as exported (metadata included); TFLM's own code comes on
top and is stated from published figures, not measured. No figure comes from a real microcontroller.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.boards import BOARDS, FLASH_RESERVE_BYTES, RAM_RESERVE_BYTES, TFLM_CORE_RUNTIME_BYTES
from edgecnn.modelfile.metadata import read_model_bytes

HOST_NOTE = (
    "measured with TFLM's reference kernels in its Python interpreter on this 64-bit host, not on a microcontroller"
)


def micro_summary(probe_result, flash_bytes: int) -> dict[str, Any]:
    """The ``--micro`` figures of one model: a probe's result plus flash, TFLM's runtime and the board fits."""
    fits = [board.name for board in BOARDS if board.fits(probe_result.arena_bytes, flash_bytes)]
    return {
        **probe_result.to_dict(),
        "flash_bytes": flash_bytes,
        "tflm_core_runtime_bytes": TFLM_CORE_RUNTIME_BYTES,
        "ram_reserve_bytes": RAM_RESERVE_BYTES,
        "flash_reserve_bytes": FLASH_RESERVE_BYTES,
        "boards": [
            {
                "name": board.name,
                "chip": board.chip,
                "ram_bytes": board.ram_bytes,
                "flash_bytes": board.flash_bytes,
                "fits": board.name in fits,
            }
            for board in BOARDS
        ],
        "fits": fits,
        "note": HOST_NOTE,
    }


def inspect_micro(path: str | os.PathLike) -> dict[str, Any]:
    """Loads the file in TFLM (a worker process) and reports operators, arena, flash and board fits; JSON-ready.

    Raises:
        EdgeCNNError: If ``tflite_micro`` is missing (one line saying how to install it) or the file is unreadable.
    """
    from edgecnn.device.micro_probe import probe

    data = read_model_bytes(Path(path))
    return {"path": str(path), **micro_summary(probe(data), len(data))}


def not_loading_error(report: dict[str, Any]) -> EdgeCNNError:
    """The one-line error for a model TFLM does not load (names every failing operator)."""
    failing = report.get("failing_operators") or {}
    detail = "; ".join(f"{op}: {message}" for op, message in failing.items()) or report.get("error") or "unknown"
    return EdgeCNNError(f"TFLite Micro ({report.get('tflm_version')}) cannot run this model: {detail}")


def _kb(value: int | None) -> str:
    return "?" if value is None else f"{value:,} bytes ({value / 1024:.1f} KB)"


def format_micro(report: dict[str, Any]) -> str:
    """The text of :func:`inspect_micro` (appended to ``edgecnn inspect``'s report)."""
    lines = [f"TFLite Micro ({report.get('tflm_version')}; {HOST_NOTE}):"]
    ops = ", ".join(f"{name} x{count}" for name, count in (report.get("operators") or {}).items())
    if not report.get("loads"):
        lines.append("  runs in TFLM  no")
        for op, message in (report.get("failing_operators") or {}).items():
            lines.append(f"    {op}: {message}")
        if not report.get("failing_operators"):
            lines.append(f"    {report.get('error')}")
        lines.append(f"  operators     {ops}")
        return "\n".join(lines)
    lines.append(f"  runs in TFLM  yes: every operator loads ({ops})")
    lines.append(
        f"  flash         {_kb(report['flash_bytes'])}: the .tflite as exported, metadata included; TFLM itself "
        f"comes on top (core runtime about {report['tflm_core_runtime_bytes'] // 1024} KB on a Cortex-M3 per TFLM's "
        "documentation, plus the kernels registered)"
    )
    recorded = report.get("recorded") or {}
    lines.append(
        f"  tensor arena  {_kb(report['arena_bytes'])}: smallest that loads and runs (allocation report: "
        f"{recorded.get('total', '?'):,} total, {recorded.get('head', '?'):,} activations, "
        f"{recorded.get('tail', '?'):,} persistent)"
    )
    lines.append(
        f"  32-bit board  about {_kb(report['arena_bytes_32bit_estimate'])} (pointer-sized records halve); "
        "optimised kernels (CMSIS-NN, ESP-NN) may add scratch buffers"
    )
    lines.append(
        f"  boards        fits {', '.join(report['fits']) or 'none of the table'} (arena + "
        f"{report['ram_reserve_bytes'] // 1024} KB RAM, file + {report['flash_reserve_bytes'] // 1024} KB flash "
        "reserved for the firmware)"
    )
    for board in report["boards"]:
        lines.append(
            f"    {'yes' if board['fits'] else 'no ':<4}{board['name']:<26} {board['ram_bytes'] // 1024:>4} KB RAM "
            f"{board['flash_bytes'] // 1024:>5} KB flash  {board['chip']}"
        )
    return "\n".join(lines)

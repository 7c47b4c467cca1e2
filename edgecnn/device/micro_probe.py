"""Does TFLite Micro load a model, and what is the smallest tensor arena it runs in? Measured in child processes.

:func:`probe` runs this module as a worker (``python -m edgecnn.device.micro_probe MODEL``) that prints one JSON
document. The worker tries each arena size in a forked child, because TFLM can crash the whole process when the
arena is a little too small (seen with tflite-micro 0.dev20261023182759: a segfault after "All temp buffers must be
freed"). Steps:

1. Load the model with a large arena, run one inference on zeros and read TFLM's allocation report
   (``RecordingMicroAllocator``: arena total, head = activations, tail = persistent records).
2. The report's total is a lower bound only: planning needs temporary space on top of what stays allocated
   (74,464 reported, 74,984 needed for the shipped MobileNetV2 0.25/32). So search: the smallest arena in which
   the model loads *and* runs, to the byte, by bisection between the report's total and the first size that works.
3. When the model does not load, load each operator alone (a one-operator model with the same tensors) to name
   every operator TFLM lacks or refuses, with TFLM's own message.

The figures are for this 64-bit host. On a 32-bit board the interpreter's per-tensor and per-node records are
half the size (they are mostly pointers), so the measured arena is an upper bound for TFLM's reference kernels;
optimised kernel libraries (CMSIS-NN, ESP-NN) may ask for scratch buffers on top (see docs/micro.md).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError

#: First arena tried; a model that needs more is reported as not loading.
LARGE_ARENA_BYTES = 64 << 20
#: Seconds the worker may take.
TIMEOUT_S = 600
#: Allocation-report sections made of pointer-sized records (half the size on a 32-bit board).
POINTER_SECTIONS = ("TfLiteEvalTensor data", "NodeAndRegistration struct")

_TOTAL = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_SECTION = re.compile(r"'([^']+)' used (\d+) bytes with alignment overhead \(requested (\d+) bytes for (\d+) ")
_MISSING = re.compile(r"Didn't find op for (?:builtin opcode|custom op(?:code)?(?: name)?) '([^']+)'")


@dataclass
class ProbeResult:
    """What TFLM made of a model.

    Attributes:
        loads: TFLM loaded the model and ran one inference.
        error: TFLM's message when it did not (first meaningful line).
        failing_operators: Operator name -> TFLM's message, for each operator that does not load on its own.
        operators: The operators the model uses (name -> count).
        arena_bytes: Smallest arena (bytes) in which the model loads and runs, on this host.
        recorded: TFLM's allocation report with the large arena: ``total``, ``head``, ``tail`` and per-section
            ``sections`` (name -> used, requested, count).
        arena_bytes_32bit_estimate: ``arena_bytes`` minus half the pointer-record sections (an estimate).
        tflm_version: The ``tflite_micro`` package version.
    """

    loads: bool
    error: str | None = None
    failing_operators: dict[str, str] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    arena_bytes: int | None = None
    recorded: dict[str, Any] | None = None
    arena_bytes_32bit_estimate: int | None = None
    tflm_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe(model: str | os.PathLike | bytes, *, timeout: float = TIMEOUT_S) -> ProbeResult:
    """Loads ``model`` (a path or the bytes of a ``.tflite``) in TFLM in a worker process; see the module doc.

    Raises:
        EdgeCNNError: If ``tflite_micro`` is not installed (one line with the install command) or the worker
            fails for another reason than the model.
    """
    from edgecnn.device.micro import import_tflm_runtime

    import_tflm_runtime()  # the install hint, before starting a worker
    with tempfile.TemporaryDirectory(prefix="edgecnn-micro-") as tmp:
        if isinstance(model, bytes | bytearray):
            path = Path(tmp) / "model.tflite"
            path.write_bytes(bytes(model))
        else:
            path = Path(model)
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "edgecnn.device.micro_probe", str(path)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise EdgeCNNError(f"the TFLite Micro probe of {path.name} took longer than {timeout:g} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EdgeCNNError(f"the TFLite Micro probe failed (exit {proc.returncode}): {detail}")
    doc = json.loads(lines[-1])
    if doc.get("fatal"):
        raise EdgeCNNError(doc["fatal"])
    return ProbeResult(**doc)


# ---- the worker (runs in its own process) ------------------------------------------------------------------------


def _first_message(text: str) -> str:
    """TFLM's most telling line: a missing operator, else the first non-empty line that is not boilerplate."""
    missing = _MISSING.search(text)
    if missing:
        return f"TFLM has no kernel for operator {missing.group(1)}"
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("EXCEPTION")]
    crashed = [line for line in lines if line.startswith("TFLM crashed")]
    if crashed:
        return f"{crashed[0]} while loading or running it" + (f" ({lines[0]})" if lines[0] != crashed[0] else "")
    return lines[0] if lines else "TFLM failed to load the model"


class _Worker:
    def __init__(self, model_bytes: bytes) -> None:
        import numpy as np

        from edgecnn.device.micro import import_tflm_runtime
        from edgecnn.modelfile.tflite_file import parse_tflite

        self.np = np
        self.runtime = import_tflm_runtime()
        self.model_bytes = model_bytes
        self.parsed = parse_tflite(model_bytes)
        self.log = tempfile.NamedTemporaryFile(prefix="edgecnn-micro-probe-", suffix=".log", delete=False)  # noqa: SIM115
        self.log.close()

    def attempt(self, arena: int, model_bytes: bytes | None = None, record: bool = False) -> tuple[bool, str]:
        """Loads and runs the model with ``arena`` bytes in a forked child; returns (worked, what TFLM printed)."""
        data = self.model_bytes if model_bytes is None else model_bytes
        inputs = self.parsed.inputs if model_bytes is None else None
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                fd = os.open(self.log.name, os.O_WRONLY | os.O_TRUNC)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                interpreter = self.runtime.Interpreter.from_bytes(data, arena_size=arena)
                count = len(inputs) if inputs is not None else 1
                for i in range(count):
                    details = interpreter.get_input_details(i)
                    interpreter.set_input(self.np.zeros(details["shape"], details["dtype"]), i)
                interpreter.invoke()
                if record:
                    interpreter.print_allocations()
                code = 0
            except BaseException as exc:  # noqa: BLE001 - reported through the exit code and the log
                print(f"EXCEPTION: {exc}", flush=True)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                ctypes.CDLL(None).fflush(None)
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        worked = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        text = Path(self.log.name).read_text(errors="replace")
        if os.WIFSIGNALED(status):  # TFLM aborted (a failed TFLITE_CHECK) or crashed
            text += f"\nTFLM crashed ({signal.Signals(os.WTERMSIG(status)).name})"
        return worked, text

    def recorded(self, text: str) -> dict[str, Any]:
        report: dict[str, Any] = {name: int(value) for name, value in _TOTAL.findall(text)}
        report["sections"] = {
            name: {"used": int(used), "requested": int(requested), "count": int(count)}
            for name, used, requested, count in _SECTION.findall(text)
        }
        return report

    def smallest_arena(self, lower: int) -> int:
        """Bisection between ``lower - 1`` (known to fail) and the first of a few growing sizes that works."""
        failing = lower - 1
        working = None
        for candidate in (lower, lower + 1024, int(lower * 1.1) + 4096, int(lower * 1.5) + 16384, LARGE_ARENA_BYTES):
            if self.attempt(candidate)[0]:
                working = candidate
                break
            failing = candidate
        if working is None:
            raise RuntimeError("the model ran with the large arena but not with any arena tried afterwards")
        while working - failing > 1:
            middle = (working + failing) // 2
            if self.attempt(middle)[0]:
                working = middle
            else:
                failing = middle
        return working

    def failing_operators(self) -> dict[str, str]:
        """Operator name -> TFLM's message, for each operator that does not load and run alone (first use)."""
        from edgecnn.modelfile.graph_edit import load_model_object, single_operator_model
        from edgecnn.modelfile.inspect import operator_name

        model = load_model_object(self.model_bytes)
        codes = [operator_name(c.builtin_code, c.custom_code) for c in self.parsed.operator_codes]
        first_use: dict[str, int] = {}
        for index, op in enumerate(self.parsed.operators):
            first_use.setdefault(codes[op.opcode_index], index)
        failing = {}
        for name, index in first_use.items():
            single, _, _ = single_operator_model(model, index)
            worked, text = self.attempt(LARGE_ARENA_BYTES, single)
            if not worked:
                failing[name] = _first_message(text)
        return failing

    def run(self) -> dict[str, Any]:
        from edgecnn.device.micro import tflm_version
        from edgecnn.modelfile.micro_sources import used_operators

        result: dict[str, Any] = {"tflm_version": tflm_version(), "operators": used_operators(self.parsed)}
        worked, text = self.attempt(LARGE_ARENA_BYTES, record=True)
        if not worked:
            result.update(loads=False, error=_first_message(text))
            try:
                result["failing_operators"] = self.failing_operators()
            except Exception as exc:  # noqa: BLE001 - the whole-model error above still stands
                result["failing_operators"] = {"?": f"could not test operators one by one: {exc}"}
            return result
        recorded = self.recorded(text)
        arena = self.smallest_arena(int(recorded.get("total", 1)))
        pointer_bytes = sum(recorded["sections"].get(name, {}).get("used", 0) for name in POINTER_SECTIONS)
        result.update(
            loads=True,
            arena_bytes=arena,
            recorded=recorded,
            arena_bytes_32bit_estimate=arena - pointer_bytes // 2,
        )
        return result


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: prints one JSON line (the :class:`ProbeResult` fields, or ``{"fatal": ...}``)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(json.dumps({"fatal": "usage: python -m edgecnn.device.micro_probe MODEL.tflite"}))
        return 2
    worker = None
    try:
        worker = _Worker(Path(args[0]).read_bytes())
        doc = worker.run()
    except (EdgeCNNError, OSError, RuntimeError) as exc:
        doc = {"fatal": f"TFLite Micro probe: {exc}"}
    finally:
        if worker is not None:
            Path(worker.log.name).unlink(missing_ok=True)
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())

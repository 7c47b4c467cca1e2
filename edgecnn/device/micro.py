"""TensorFlow Lite for Microcontrollers (TFLM) on the host: its Python interpreter, loaded only behind ``--micro``.

``tflite-micro`` (pip) wraps TFLM's C++ interpreter with its reference kernels and all of its operators
registered. It is an optional extra (``edgecnn[micro]``, wheels for Linux x86-64 only); nothing outside the
``--micro`` code paths imports it. Loading a model in it is how edgecnn establishes that TFLM runs the model
(:mod:`edgecnn.device.micro_probe` does that, and measures the arena, in a child process: TFLM can crash the
process when an arena is too small).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError

#: The snapshot edgecnn is tested with (built from tflite-micro commit 8f6596d).
TFLM_VERSION = "0.dev20261023182759"
INSTALL_HINT = (
    f"pip install 'edgecnn[micro]' (tflite-micro=={TFLM_VERSION}; wheels exist for Linux x86-64, CPython 3.10-3.14)"
)
#: Arena used for host-side runs once the model is known to load (generous: host RAM is not the constraint).
HOST_ARENA_BYTES = 64 << 20


def import_tflm_runtime():
    """TFLM's Python ``runtime`` module.

    Raises:
        EdgeCNNError: One line saying how to install it, when ``tflite_micro`` is missing or does not load.
    """
    try:
        from tflite_micro import runtime
    except ImportError as exc:  # also a wheel built for another Python (undefined symbols)
        raise EdgeCNNError(
            f"--micro needs TFLite Micro's Python interpreter ({exc}); install it with: {INSTALL_HINT}"
        ) from None
    return runtime


def tflm_version() -> str:
    """The installed ``tflite_micro`` version string (with its git commit), or ``"not installed"``."""
    try:
        import tflite_micro
    except ImportError:
        return "not installed"
    return str(getattr(tflite_micro, "__version__", "unknown"))


class MicroInterpreter:
    """TFLM's interpreter over a model's bytes (reference kernels), one image at a time.

    Args:
        model_bytes: The ``.tflite`` flatbuffer.
        arena_bytes: Tensor arena size (default :data:`HOST_ARENA_BYTES`). Check that the model loads first
            (:func:`edgecnn.device.micro_probe.probe`): TFLM may crash the process on a too-small arena.
        preserve_all_tensors: Keep every intermediate tensor readable with :meth:`tensor` (debugging numerics).

    Raises:
        EdgeCNNError: If ``tflite_micro`` is missing or TFLM cannot load the model.
    """

    def __init__(self, model_bytes: bytes, arena_bytes: int | None = None, *, preserve_all_tensors: bool = False):
        runtime = import_tflm_runtime()
        config = (
            runtime.InterpreterConfig.kPreserveAllTensors
            if preserve_all_tensors
            else runtime.InterpreterConfig.kAllocationRecording
        )
        try:
            self._interpreter = runtime.Interpreter.from_bytes(
                bytes(model_bytes), arena_size=int(arena_bytes or HOST_ARENA_BYTES), intrepreter_config=config
            )
        except (RuntimeError, ValueError) as exc:
            raise EdgeCNNError(f"TFLite Micro cannot load the model: {exc}") from exc
        details = self._interpreter.get_input_details(0)
        self.input_dtype = np.dtype(details["dtype"])
        self.input_shape = tuple(int(d) for d in details["shape"])

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        """Runs one input (``HxWxC`` or ``1xHxWxC`` in the input dtype); returns the first output's row."""
        batch = np.ascontiguousarray(model_input, dtype=self.input_dtype).reshape(self.input_shape)
        self._interpreter.set_input(batch, 0)
        self._interpreter.invoke()
        return np.array(self._interpreter.get_output(0)[0])

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """Raw outputs (``N x classes``, the output dtype) for ``N`` inputs already in the input dtype."""
        return np.stack([self.invoke(item) for item in inputs]) if len(inputs) else np.empty((0, 0))

    def tensor(self, index: int) -> np.ndarray:
        """Tensor ``index`` of the primary subgraph after the last invoke (``preserve_all_tensors`` only)."""
        return np.array(self._interpreter.GetTensor(int(index), 0)["tensor_data"])


def micro_scores(classifier, model_bytes: bytes, pixels: np.ndarray, arena_bytes: int | None = None) -> np.ndarray:
    """TFLM's class probabilities for model pixels, with the input and output conversions of ``classifier``.

    Args:
        classifier: A :class:`edgecnn.device.runtime.Classifier` of the same file (its ``to_input`` and
            ``to_scores`` are the device's I/O contract).
        model_bytes: The file's bytes.
        pixels: ``uint8`` model pixels, ``NxHxWxC``.
        arena_bytes: Tensor arena (default: generous).
    """
    interpreter = MicroInterpreter(model_bytes, arena_bytes)
    raw = interpreter.run(classifier.to_input(np.asarray(pixels)))
    return classifier.to_scores(raw)


def output_step(classifier) -> float | None:
    """The size of one quantisation step of the output (its scale), or None for a float output."""
    return classifier.output.scale if classifier.output.quantized else None


def describe_steps(steps: np.ndarray) -> dict[str, Any]:
    """Distribution of absolute output differences counted in quantisation steps (all outputs of all images)."""
    steps = np.asarray(steps, dtype=np.int64).ravel()
    total = max(int(steps.size), 1)
    bins = {"0": steps == 0, "1": steps == 1, "2": steps == 2, "3-5": (steps >= 3) & (steps <= 5)}
    bins.update({"6-10": (steps >= 6) & (steps <= 10), "11-20": (steps >= 11) & (steps <= 20), ">20": steps > 20})
    return {
        "values": int(steps.size),
        "max": int(steps.max()) if steps.size else 0,
        "mean": float(steps.mean()) if steps.size else 0.0,
        "share_over_2": float((steps > 2).sum() / total),
        "histogram": {name: int(mask.sum()) for name, mask in bins.items()},
    }

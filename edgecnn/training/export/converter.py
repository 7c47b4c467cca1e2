"""Keras model -> ``.tflite`` bytes for one scheme of :data:`~.schemes.SCHEMES`, quietly and checked.

After conversion the bytes are checked without trusting the converter: builtin operators only (no Flex, no
custom ops), the I/O dtypes that were asked for, every operator integer for the full-integer schemes, and, for
models that take raw pixels, the input quantisation pinned to scale 1 / zero point 0 (uint8) or -128 (int8) so
the device feeds camera pixels straight in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.quiet import quiet
from edgecnn.modelfile.inspect import analyse
from edgecnn.modelfile.tflite_file import parse_tflite
from edgecnn.training.export.schemes import SCHEMES, Scheme

#: Expected (scale, zero point) of a raw-pixel input tensor per I/O dtype.
PINNED_INPUT = {"uint8": (1.0, 0), "int8": (1.0, -128)}


class ConversionError(EdgeCNNError):
    """The converter rejected the model for this scheme (for example an operator it cannot quantise)."""

    def __init__(self, message: str, log: str = "", log_path: Path | None = None) -> None:
        super().__init__(message)
        self.log = log
        self.log_path = log_path


@dataclass
class Conversion:
    """The converter's output.

    Attributes:
        model_bytes: The ``.tflite`` flatbuffer (no edgecnn metadata yet).
        quantization: Scheme, I/O dtypes and quantisation parameters, as stored in the metadata.
        log: What the converter printed (hidden from the user unless something fails).
    """

    model_bytes: bytes
    quantization: dict
    log: str


def pin_input_range(calibration: np.ndarray) -> np.ndarray:
    """A float32 copy of raw-pixel calibration images whose observed range is exactly 0..255.

    The converter quantises the input over the min/max it sees during calibration. Setting one pixel of the
    first image to 0 and another to 255 makes that range 0..255, which gives scale 1.0 and zero point 0 (uint8)
    or -128 (int8): the device then feeds raw camera pixels with no float round trip.
    """
    calibration = np.asarray(calibration, dtype=np.float32).copy()
    if calibration.ndim != 4 or len(calibration) == 0 or calibration[0].size < 2:
        raise EdgeCNNError(f"calibration images must be a non-empty NxHxWxC array. Received shape {calibration.shape}")
    if calibration.min() < 0 or calibration.max() > 255:
        raise EdgeCNNError(
            f"calibration images must be raw pixels 0..255. Received range {calibration.min():g}..{calibration.max():g}"
        )
    first = calibration[0].reshape(-1)
    first[0], first[-1] = 0.0, 255.0
    return calibration


def representative_dataset(
    calibration: np.ndarray, progress: Callable[[], None] | None = None
) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The converter's representative dataset: one float32 image per step, in order.

    Args:
        calibration: ``NxHxWxC`` float32 images.
        progress: Called once per image handed to the converter.
    """

    def generate() -> Iterator[list[np.ndarray]]:
        for i in range(len(calibration)):
            if progress is not None:
                progress()
            yield [calibration[i : i + 1]]

    return generate


def _progress_bar(total: int, fd: int | None):
    """A tqdm bar on the real terminal (``fd``: stderr saved by :func:`quiet`), or None when it is not a TTY."""
    if fd is None or not os.isatty(fd):
        return None
    from tqdm import tqdm

    return tqdm(
        total=total, desc="calibrating", unit="img", leave=False, file=os.fdopen(os.dup(fd), "w"), mininterval=0.5
    )


def _first_error_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line.lower() or "not yet supported" in line.lower():
            return line.split("error:", 1)[-1].strip()
    return lines[0] if lines else "unknown error"


def convert(
    model,
    scheme: Scheme | str,
    io: str | None = None,
    calibration: np.ndarray | None = None,
    *,
    pin_input: bool = True,
    per_channel: bool = True,
) -> Conversion:
    """Converts a Keras model to ``.tflite`` bytes with the scheme's converter settings; output hidden in a log.

    Args:
        model: A Keras model taking ``NxHxWxC`` float32 input.
        scheme: A :class:`Scheme` or its name.
        io: The input/output dtype (one of ``scheme.io``; default: the scheme's first).
        calibration: Raw-pixel calibration images (``NxHxWxC``, values 0..255), required by calibrated schemes.
        pin_input: Pin the input quantisation to raw pixels (scale 1) for integer I/O. Only for models that take
            raw 0..255 pixels (normalisation in the model), which is every edgecnn model.
        per_channel: Per-channel weight scales (the converter's default, and ours). False gives per-tensor
            scales: smaller files (no float32 scale and int64 zero point per output channel of every weight and
            bias tensor) but a known accuracy risk for depthwise convolutions (``edgecnn export --per-tensor``).

    Raises:
        ConversionError: If the converter fails (the message is one line, ``.log`` has the full output) or the
            interpreter cannot load its result.
        EdgeCNNError: If the result breaks a check (Flex/custom ops, wrong I/O, float ops, unpinned input).
    """
    from edgecnn.training._tf import import_tf
    from edgecnn.training.export.schemes import resolve

    scheme, io = resolve(scheme.name if isinstance(scheme, Scheme) else scheme, io)
    if scheme.calibrate and calibration is None:
        raise EdgeCNNError(f"{scheme.name} needs calibration images (a representative dataset)")
    tf, _ = import_tf()
    pin = pin_input and io in PINNED_INPUT
    if scheme.calibrate:
        calibration = pin_input_range(calibration) if pin else np.asarray(calibration, dtype=np.float32)
    with quiet() as captured:
        bar = _progress_bar(len(calibration), captured.terminal_fd) if scheme.calibrate else None
        try:
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            if scheme.optimize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, name) for name in scheme.ops]
            if scheme.supported_types:
                converter.target_spec.supported_types = [getattr(tf, name) for name in scheme.supported_types]
            if not per_channel:
                converter._experimental_disable_per_channel = True  # no public switch exists
            if scheme.calibrate:
                converter.representative_dataset = representative_dataset(calibration, bar.update if bar else None)
            if io != "float32":
                converter.inference_input_type = getattr(tf, io)
                converter.inference_output_type = getattr(tf, io)
            model_bytes = converter.convert()
        except Exception as exc:  # the converter raises many types (ConverterError, RuntimeError, ValueError)
            failure = exc
        except BaseException:  # Ctrl-C: no log left behind
            captured.discard()
            raise
        else:
            failure = None
        finally:
            if bar is not None:
                bar.close()
                bar.fp.close()
    if failure is not None:  # the log keeps the converter's own error text after everything it printed
        with captured.log_path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n{type(failure).__name__}: {failure}\n")
    log = captured.text()
    if failure is not None:
        reason = _first_error_line(str(failure) or log)
        raise ConversionError(
            f"conversion to {scheme.name} failed: {reason} (converter log: {captured.log_path})", log, captured.log_path
        ) from failure
    captured.discard()
    quantization = check(model_bytes, scheme, io, pinned=pin)
    if scheme.weights == "int8":
        quantization["weight_scales"] = "per-channel" if per_channel else "per-tensor"
    check_loads(model_bytes, scheme.name)
    return Conversion(model_bytes, quantization, log)


def check_loads(model_bytes: bytes, scheme_name: str) -> None:
    """Loads the bytes into the device's LiteRT interpreter and allocates its tensors.

    The converter can emit models that the interpreter then refuses to prepare (for example int16x8 depthwise
    convolutions whose rescaling would overflow); that must fail the export, with or without verification.

    Raises:
        ConversionError: If the interpreter rejects the model.
    """
    from edgecnn.device.runtime import load_interpreter_class

    interpreter_class, backend = load_interpreter_class()
    with quiet() as captured:
        try:
            interpreter_class(model_content=model_bytes).allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            failure = exc
        else:
            failure = None
        finally:
            captured.discard()
    if failure is not None:
        reason = " ".join(str(failure).split())
        raise ConversionError(
            f"conversion to {scheme_name} produced a model the {backend} interpreter cannot load: {reason}"
        )


def check(model_bytes: bytes, scheme: Scheme | str, io: str, *, pinned: bool = True) -> dict:
    """Checks converted bytes against what the scheme promises; returns the quantisation record for the metadata.

    Raises:
        EdgeCNNError: Flex/custom operators, I/O dtypes other than ``io``, float operators in a full-integer
            scheme, or (``pinned``) an integer input not quantised as raw pixels.
    """
    scheme = SCHEMES[scheme] if isinstance(scheme, str) else scheme
    report = analyse(parse_tflite(model_bytes))
    if report["custom_operators"]:
        raise EdgeCNNError(
            f"the {scheme.name} model needs non-builtin operators "
            f"({', '.join(report['custom_operators'])}); edgecnn only ships builtin-op models"
        )
    tensor_in, tensor_out = report["inputs"][0], report["outputs"][0]
    for role, tensor in (("input", tensor_in), ("output", tensor_out)):
        if tensor["dtype"] != io:
            raise EdgeCNNError(f"the converter produced a {tensor['dtype']} {role}, expected {io}")
    if scheme.fully_integer and not report["fully_integer"]:
        floats = ", ".join(f"{name} x{n}" for name, n in report["float_operators"].items())
        raise EdgeCNNError(f"the {scheme.name} model still runs operators in float ({floats})")
    if pinned and io in PINNED_INPUT:
        want_scale, want_zero = PINNED_INPUT[io]
        got = (tensor_in["scale"], tensor_in["zero_point"])
        if got[0] is None or abs(got[0] - want_scale) > 1e-6 or got[1] != want_zero:
            raise EdgeCNNError(
                f"the {io} input is quantised with scale {got[0]} / zero point {got[1]}, not "
                f"{want_scale:g} / {want_zero} (raw pixels); the calibration range was not pinned"
            )
    return {
        "scheme": scheme.name,
        "weights": scheme.weights,
        "activations": scheme.activations,
        "input_dtype": tensor_in["dtype"],
        "output_dtype": tensor_out["dtype"],
        "input_scale": tensor_in["scale"],
        "input_zero_point": tensor_in["zero_point"],
        "output_scale": tensor_out["scale"],
        "output_zero_point": tensor_out["zero_point"],
        "fully_integer": report["fully_integer"],
    }

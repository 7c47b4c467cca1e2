"""``edgecnn export``: a trained model -> one self-describing, verified ``.tflite`` file (plus ``labels.txt``).

Steps (each logged once with its time by :class:`Steps`): load the Keras model, load calibration images (the
run's own training data through the training preprocessing), convert with the scheme's settings (quietly, builtin
operators only, input pinned to raw pixels), embed the metadata, verify Keras against the ``.tflite`` on the device
runtime, and write atomically. A failure at any step leaves no output file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import atomic_path
from edgecnn.core.labels import LABELS_FILE, write_labels
from edgecnn.core.logs import echo
from edgecnn.core.timestamps import utc_now
from edgecnn.modelfile.metadata import ModelMetadata
from edgecnn.modelfile.metadata_writer import embed_metadata
from edgecnn.modelfile.standard_metadata import for_export
from edgecnn.training.export.input_rgb import fold_rgb_to_gray, folded_record, rgb_preprocessing
from edgecnn.training.export.model_card import model_card
from edgecnn.training.export.schemes import SCHEMES, Scheme, file_name, resolve
from edgecnn.training.export.source import ExportSource, load_keras_model, model_preprocessing, resolve_source
from edgecnn.training.export.verify import MAX_ACCURACY_DROP
from edgecnn.training.zoo.registry import ARCH_KNOBS

#: Schemes that can trade per-channel weight scales for per-tensor ones (``per_tensor=True``).
PER_TENSOR_SCHEMES = ("int8",)

#: Calibration images used to find out which other schemes convert after one fails (a convertibility probe).
PROBE_SAMPLES = 8


class AccuracyDropError(EdgeCNNError):
    """``--strict`` and the ``.tflite`` lost more than :data:`~.verify.MAX_ACCURACY_DROP` accuracy."""


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.2f} MB" if num_bytes >= 1e5 else f"{num_bytes / 1e3:.1f} kB"


class Steps:
    """Runs each export step inside :meth:`step`, logging one line with its outcome and time, and recording it.

    Args:
        log: Where progress lines go (default: :func:`~edgecnn.core.logs.echo`, on stderr, so ``--json`` keeps
            stdout clean).
    """

    NAMES = ("load", "calibrate", "convert", "embed metadata", "verify", "write")

    def __init__(self, log: Callable[[str], None] | None = None, names: tuple[str, ...] | None = None) -> None:
        self.log = log or echo
        self.names = names or self.NAMES
        self.records: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        """Yields a record; the body sets ``record["detail"]`` (one line) and may set ``record["skipped"]``."""
        record: dict[str, Any] = {"step": name, "detail": ""}
        index = self.names.index(name) + 1 if name in self.names else len(self.records) + 1
        start = time.perf_counter()
        try:
            yield record
        except BaseException as exc:
            record.update(
                seconds=round(time.perf_counter() - start, 3),
                failed=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            self.records.append(record)
            if not isinstance(exc, EdgeCNNError):  # user errors are reported by their own single line
                self.log(f"[{index}/{len(self.names)}] {name:<14} failed after {record['seconds']:.1f}s")
            raise
        record["seconds"] = round(time.perf_counter() - start, 3)
        self.records.append(record)
        self.log(f"[{index}/{len(self.names)}] {name:<14} {record['detail']} ({record['seconds']:.1f}s)")


@dataclass
class ExportResult:
    """What :func:`export` produced.

    Attributes:
        output: The ``.tflite`` file.
        labels_path: The ``labels.txt`` written beside it.
        scheme: Scheme name.
        io: Input/output dtype.
        size_bytes: Size of the ``.tflite`` file.
        quantization: The quantisation record stored in the metadata.
        verification: Verification numbers (None when verification was off or had no data).
        metadata: The embedded metadata document.
        standard_metadata: The embedded standard TFLite metadata (``TFLITE_METADATA``).
        steps: One record per step (name, detail, seconds).
        warnings: Loud warnings (accuracy drop, skipped verification).
        micro: The TFLite Micro record (``--micro``; also stored under ``micro`` in the metadata).
        micro_sources: The C++ files written beside the model (``--micro``): source, header, resolver.
    """

    output: Path
    labels_path: Path
    scheme: str
    io: str
    size_bytes: int
    quantization: dict[str, Any]
    verification: dict[str, Any] | None
    metadata: dict[str, Any]
    standard_metadata: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    micro: dict[str, Any] | None = None
    micro_sources: dict[str, Path] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``edgecnn export --json``)."""
        data = dataclasses.asdict(self)
        data["output"], data["labels_path"] = str(self.output), str(self.labels_path)
        if self.micro_sources:
            data["micro_sources"] = {key: str(path) for key, path in self.micro_sources.items()}
        return data


def resolve_output(output: str | os.PathLike | None, source: ExportSource, scheme: Scheme, io: str) -> Path:
    """The ``.tflite`` path: ``output`` itself, or ``<dir>/model_<scheme>.tflite`` when it is a directory (or
    when it is None: the run directory, else the ``.keras`` file's folder).

    Raises:
        EdgeCNNError: If ``output`` is a file name without the ``.tflite`` suffix.
    """
    if output is None:
        return (source.run_path or source.model_path.parent) / file_name(scheme, io)
    text = os.fspath(output)
    path = Path(text)
    if path.is_dir() or text.endswith(("/", os.sep)):
        return path / file_name(scheme, io)
    if path.suffix != ".tflite":
        raise EdgeCNNError(f"the output must be a .tflite file or a directory. Received -o {text}")
    return path


def _describe_data(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("source", data))
    return str(data)


def _check_labels(labels: list[str] | None, classes: int, where: str) -> list[str]:
    if labels is None:
        return [str(i) for i in range(classes)]
    if len(labels) != classes:
        raise EdgeCNNError(f"{len(labels)} class names ({where}) do not match the model's {classes} outputs")
    return list(labels)


def _convert_with_probe(
    model, scheme: Scheme, io: str, calibration: np.ndarray | None, pin: bool, per_channel: bool = True
):
    """Converts; when the converter rejects the model, finds out which other schemes work for it and says so."""
    from edgecnn.training.export.converter import ConversionError, convert

    try:
        return convert(model, scheme, io, calibration, pin_input=pin, per_channel=per_channel)
    except ConversionError as exc:
        working = []
        for other in SCHEMES.values():
            if other.name == scheme.name or (other.calibrate and calibration is None):
                continue
            probe = calibration[:PROBE_SAMPLES] if other.calibrate else None
            try:
                convert(model, other, None, probe, pin_input=pin)
            except ConversionError as failed:
                if failed.log_path is not None:  # only the log of the conversion the user asked for is kept
                    failed.log_path.unlink(missing_ok=True)
            except EdgeCNNError:
                pass
            else:
                working.append(other.name)
        hint = f"; schemes that convert this model: {', '.join(working)}" if working else ""
        raise EdgeCNNError(f"{exc}{hint}") from None


def export(
    source: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    quantize: str | None = None,
    io: str | None = None,
    calib_data: str | None = None,
    calib_samples: int = 300,
    verify_samples: int = 1000,
    verify: bool = True,
    strict: bool = False,
    per_tensor: bool = False,
    micro: bool = False,
    input_rgb: bool = False,
    name: str | None = None,
    description: str | None = None,
    model_version: str | None = None,
    author: str | None = None,
    license: str | None = None,
    log: Callable[[str], None] | None = None,
) -> ExportResult:
    """Exports a run directory or ``.keras`` file to a verified ``.tflite`` with embedded metadata.

    Args:
        source: A training run directory or a ``.keras`` file.
        output: The ``.tflite`` path, or a directory for ``model_<scheme>.tflite``; default: the run directory.
        quantize: Scheme name (see :data:`~edgecnn.training.export.schemes.SCHEMES`); None for float32.
        io: Input/output dtype for the scheme (None: its default, uint8 for int8).
        calib_data: Calibration data source (folder, IDX directory, dataset name); default: the run's training
            data. Required for a bare ``.keras`` file with a calibrated scheme.
        calib_samples: Calibration images, class-stratified, from the training split.
        verify_samples: Validation images for verification (class-stratified).
        verify: Compare Keras and ``.tflite`` predictions after conversion.
        strict: Raise :class:`AccuracyDropError` (and write nothing) when accuracy drops by more than 2 points.
        per_tensor: One weight scale per tensor instead of per output channel (``int8`` only). MobileNetV2 1.0
            at 224: 0.253x instead of 0.283x the float32 file, like TensorFlow's published per-tensor files;
            verification shows what it costs in accuracy for the model at hand.
        micro: TFLite Micro target (``int8`` only; ``io`` defaults to int8): check that TFLM runs the file, find
            its smallest arena, compare TFLM with LiteRT on the validation images (see
            :mod:`edgecnn.training.export.micro`) and write ``<stem>_data.cc/.h`` and ``<stem>_ops.h`` beside it.
        input_rgb: Fold a fixed RGB-to-grey conversion into a grey model so that it takes RGB (for frameworks
            that only feed RGB, such as MediaPipe); calibration and verification then use RGB images.
        name: Model name in the standard metadata (default: ``<arch>_<alpha>_<size>_<scheme>``).
        description: Its description (default: classes, network, input and scheme in one paragraph).
        model_version: Its version (default "1").
        author: Its author (default: not set).
        license: Its licence (default: not set).
        log: Receives one progress line per step (default: stderr).

    Raises:
        EdgeCNNError: Any unusable input or a conversion the scheme cannot do (one line); with ``micro``, a
            missing ``tflite_micro`` or a model TFLM cannot run.
        AccuracyDropError: With ``strict``, when verification fails.
        MicroAgreementError: With ``micro``, when TFLM's top-1 agrees with LiteRT's on too few images.
    """
    if micro:
        from edgecnn.device.micro import import_tflm_runtime
        from edgecnn.training.export.micro import micro_io

        io = micro_io(resolve(quantize, io)[0].name, io)
        import_tflm_runtime()  # fail before the conversion when TFLM is missing
    scheme, io = resolve(quantize, io)
    if per_tensor and scheme.name not in PER_TENSOR_SCHEMES:
        raise EdgeCNNError(
            f"--per-tensor applies to {', '.join(PER_TENSOR_SCHEMES)} only. Received --quantize {scheme.name}"
        )
    if calib_samples < 1:
        raise EdgeCNNError(f"--calib-samples must be >= 1. Received {calib_samples}")
    if verify and verify_samples < 1:
        raise EdgeCNNError(f"--verify-samples must be >= 1. Received {verify_samples}")
    steps = Steps(log, Steps.NAMES[:-1] + ("micro", "write") if micro else None)
    warnings: list[str] = []
    src = resolve_source(source)
    out = resolve_output(output, src, scheme, io)
    if scheme.calibrate and calib_data is None and src.data is None:
        raise EdgeCNNError(
            f"{scheme.name} needs calibration images and {src.model_path} has no training run to take "
            "them from; pass --calib-data DIR|IDX_DIR|DATASET"
        )

    with steps.step("load") as record:
        model = load_keras_model(src.model_path)
        spec = src.preprocessing or model_preprocessing(model)
        if tuple(model.input_shape[1:]) != spec.shape:
            raise EdgeCNNError(
                f"the model's input {tuple(model.input_shape[1:])} does not match the run's preprocessing {spec.shape}"
            )
        classes = int(model.output_shape[-1])
        record["detail"] = (
            f"{src.model_info.get('arch') or model.name} from {src.model_path} "
            f"({spec.height}x{spec.width}x{spec.channels}, {classes} classes, "
            f"{model.count_params():,} parameters)"
        )
        if input_rgb:
            model, spec = fold_rgb_to_gray(model), rgb_preprocessing(spec)
            record["detail"] += ", RGB-to-grey folded in: RGB input"

    calibration = None
    calib_source = calib_data if calib_data is not None else src.data
    with steps.step("calibrate") as record:
        if not scheme.calibrate:
            record["detail"] = f"not needed for {scheme.name}"
        else:
            from edgecnn.training.data import load_arrays

            calibration, _, _ = load_arrays(calib_source, spec, "train", limit=calib_samples, seed=0)
            record["detail"] = (
                f"{len(calibration)} images from {_describe_data(calib_source)} (train split, "
                f"stratified, prepared like training)"
            )
    if src.labels is None and calib_data is not None:  # a bare .keras: class names from its data, if they fit
        from edgecnn.training.data import open_source

        data_labels = open_source(calib_data).labels
        src.labels = data_labels if len(data_labels) == classes else None
    labels = _check_labels(src.labels, classes, str(src.run_path or src.model_path))
    pin = spec.normalization == "in-model"

    with steps.step("convert") as record:
        conversion = _convert_with_probe(model, scheme, io, calibration, pin, per_channel=not per_tensor)
        quant = conversion.quantization
        io_text = f"{io} I/O" + (", per-tensor weight scales" if per_tensor else "")
        if quant["input_scale"] is not None:
            io_text += f", input scale {quant['input_scale']:g} zero point {quant['input_zero_point']}"
        record["detail"] = (
            f"{scheme.name} ({io_text}, {'fully integer' if quant['fully_integer'] else 'float ops'}"
            f", builtin ops only) {_size(len(conversion.model_bytes))}"
        )

    metrics: dict[str, Any] = {"training": src.metrics} if src.metrics else {}
    extra = {
        "created": utc_now(),
        "export": {
            "source": str(src.run_path or src.model_path),
            "scheme": scheme.name,
            "io": io,
            "calibration": (
                {"source": _describe_data(calib_source), "split": "train", "samples": len(calibration)}
                if calibration is not None
                else None
            ),
        },
    }
    info = src.model_info
    extra.update({key: info[key] for key in ARCH_KNOBS if key in info})
    if input_rgb:
        extra["input_conversion"] = folded_record()
    metadata = ModelMetadata(
        labels=labels,
        preprocessing=spec,
        arch=info.get("arch"),
        alpha=info.get("alpha"),
        separable=info.get("separable"),
        quantization=quant,
        metrics=metrics,
        extra=extra,
    )
    card = model_card(
        arch=info.get("arch") or model.name,
        alpha=info.get("alpha"),
        spec=spec,
        labels=labels,
        scheme=scheme.name,
        io=io,
        input_rgb=input_rgb,
        name=name,
        description=description,
        version=model_version,
        author=author,
        license=license,
    )
    standard = for_export(
        card, spec, labels, input_dtype=quant["input_dtype"], output_dtype=quant["output_dtype"], output=metadata.output
    )

    verification = None
    micro_record = None
    x = y = None
    with atomic_path(out) as tmp:
        with steps.step("embed metadata") as record:
            model_bytes = embed_metadata(conversion.model_bytes, metadata, standard)
            tmp.write_bytes(model_bytes)
            record["detail"] = (
                f"{len(labels)} labels, preprocessing, quantisation; standard TFLite metadata "
                f"{standard.color_space} with labels.txt packed ({_size(len(model_bytes))})"
            )

        with steps.step("verify") as record:
            verify_source = src.data if src.data is not None else calib_data
            if not verify:
                record["detail"] = "skipped (--no-verify)"
            elif verify_source is None:
                record["detail"] = "skipped: no data to verify on (pass --calib-data)"
                warnings.append("not verified: no validation data (pass --calib-data)")
            else:
                from edgecnn.training.data import load_arrays
                from edgecnn.training.export.verify import verify as run_verify

                x, y, _ = load_arrays(verify_source, spec, "val", limit=verify_samples, seed=0)
                numbers = run_verify(model, tmp, x, y)  # Classifier keeps LiteRT's XNNPACK line off stderr
                verification = {"split": "val", "source": _describe_data(verify_source), **numbers}
                metrics["verification"] = verification
                drop = verification["accuracy_drop"]
                record["detail"] = (
                    f"{verification['samples']} val images: keras {verification['keras_accuracy']:.4f},"
                    f" tflite {verification['tflite_accuracy']:.4f} ({0.0 - 100 * drop:+.2f} points), "
                    f"agreement {100 * verification['agreement']:.2f}%, "
                    f"max |dp| {verification['max_abs_diff']:.4f}"
                )
                if drop > MAX_ACCURACY_DROP:
                    message = (
                        f"WARNING: {scheme.name} lost {100 * drop:.2f} accuracy points on "
                        f"{verification['samples']} validation images (keras "
                        f"{verification['keras_accuracy']:.4f} -> tflite {verification['tflite_accuracy']:.4f})"
                        "; check the calibration data"
                    )
                    warnings.append(message)
                    steps.log(message)
                    if strict:
                        raise AccuracyDropError(
                            f"--strict: {scheme.name} accuracy dropped {100 * drop:.2f} points (> "
                            f"{100 * MAX_ACCURACY_DROP:g}) on {verification['samples']} validation images; "
                            f"nothing written"
                        )

        if micro:
            from edgecnn.training.export.micro import agreement_error, check_micro, summary_line

            with steps.step("micro") as record:
                micro_record = check_micro(tmp, x, y)
                record["detail"] = summary_line(micro_record)
                if micro_record["verification"] and not micro_record["verification"]["passed"]:
                    raise agreement_error(micro_record)
                if micro_record["verification"] is None and verify:
                    warnings.append("TFLite Micro not compared with LiteRT: no validation images")
            from edgecnn.training.export.micro import metadata_record

            extra["micro"] = metadata_record(micro_record)

        with steps.step("write") as record:
            metadata.metrics = metrics
            model_bytes = embed_metadata(conversion.model_bytes, metadata, standard)
            tmp.write_bytes(model_bytes)
            record["detail"] = f"{out} ({_size(len(model_bytes))})"
    labels_path = write_labels(out.parent / LABELS_FILE, labels)
    micro_sources = None
    if micro:
        from edgecnn.modelfile.micro_sources import write_micro_sources

        micro_sources = write_micro_sources(out)
        micro_record = {**micro_record, "flash_bytes": len(model_bytes)}
    return ExportResult(
        output=out,
        labels_path=labels_path,
        scheme=scheme.name,
        io=io,
        size_bytes=len(model_bytes),
        quantization=quant,
        verification=verification,
        metadata=metadata.to_dict(),
        standard_metadata=standard.to_dict(),
        steps=steps.records,
        warnings=warnings,
        micro=micro_record,
        micro_sources=micro_sources,
    )

"""Knowledge distillation through Keras' own ``keras.distillation`` (Keras >= 3.12).

Hinton, Vinyals & Dean 2015, Distilling the Knowledge in a Neural Network (arXiv:1503.02531): the student learns
from the labels and from the teacher's temperature-softened class probabilities. :func:`make_distiller` wraps the
two models in ``keras.distillation.Distiller`` with ``LogitsDistillation``; the loss is
``(1 - weight) * CE(labels, student) + weight * T^2 * KL(softmax(teacher / T) || softmax(student / T))``.

Our zoo models end in a softmax; ``LogitsDistillation`` wants the pre-softmax logits. :func:`logits_model` gives a
view of a model that shares its layers (and so its weights) and stops before the softmax: the student is trained
through its view and stored, exported and run as the softmax model it is. The teacher sees the student's prepared
(and augmented) batch, resized and colour-converted inside the graph when its input differs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training._tf import import_tf

tf, keras = import_tf()

#: Keras' own default temperature of ``LogitsDistillation``.
DEFAULT_TEMPERATURE = 3.0
#: Weight of the distillation term; the labels' cross-entropy gets ``1 - weight`` (Keras' default split).
DEFAULT_WEIGHT = 0.5
#: RGB -> grey weights, those of OpenCV's ``COLOR_BGR2GRAY`` that :func:`edgecnn.core.preprocessing.prepare` uses.
GREY_WEIGHTS = (0.299, 0.587, 0.114)


def _is_softmax(fn) -> bool:
    return getattr(fn, "__name__", "") == "softmax"


def _is_linear(fn) -> bool:
    return fn is None or getattr(fn, "__name__", "") == "linear"


class DenseLogits(keras.layers.Layer):
    """The affine part of a ``Dense`` layer (``x @ kernel + bias``), without its activation; shares its weights."""

    def __init__(self, dense, **kwargs) -> None:
        super().__init__(name=f"{dense.name}_logits", dtype=dense.dtype_policy, **kwargs)
        self.dense = dense

    def call(self, inputs):
        logits = keras.ops.matmul(inputs, self.dense.kernel)
        return logits if self.dense.bias is None else logits + self.dense.bias


def logits_model(model):
    """A model that shares ``model``'s layers and returns the logits its softmax turns into probabilities.

    Handles the two ways a classifier ends: a ``softmax`` ``Activation`` layer (our MobileNet V1/V3 and
    SqueezeNet) or a ``Dense`` layer with a softmax activation (MobileNetV2, Keras' applications). A model whose
    output layer has no activation already returns logits and is returned as it is.

    Raises:
        EdgeCNNError: If the output is made some other way.
    """
    if len(model.outputs) != 1:
        raise EdgeCNNError(f"distillation needs a single-output classifier; {model.name} has {len(model.outputs)}")
    layer = model.outputs[0]._keras_history[0]
    activation = getattr(layer, "activation", None)
    if isinstance(layer, keras.layers.Activation) and _is_softmax(activation):
        logits = layer.input
    elif isinstance(layer, keras.layers.Dense) and _is_softmax(activation):
        logits = DenseLogits(layer)(layer.input)
    elif isinstance(layer, keras.layers.Dense | keras.layers.Activation) and _is_linear(activation):
        return model
    else:
        raise EdgeCNNError(
            f"cannot find the logits of {model.name}: its output layer {layer.name!r} ({type(layer).__name__}) is "
            "neither a softmax Activation nor a Dense layer with a softmax"
        )
    return keras.Model(model.input, logits, name=f"{model.name}_logits")


class _ToChannels(keras.layers.Layer):
    """Grey -> RGB (the grey value three times) or RGB -> grey (:data:`GREY_WEIGHTS`), like ``prepare()``."""

    def __init__(self, channels: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.channels = channels

    def call(self, inputs):
        if self.channels == 3:
            return keras.ops.repeat(inputs, 3, axis=-1)
        return keras.ops.sum(inputs * keras.ops.convert_to_tensor(GREY_WEIGHTS, inputs.dtype), axis=-1, keepdims=True)


def teacher_on_student_input(teacher, input_shape: tuple[int, int, int]):
    """The teacher's logits as a model of the student's input: resized (bilinear) and colour-converted in-graph.

    Args:
        teacher: The trained teacher (raw 0..255 pixels in, softmax out: the zoo's contract).
        input_shape: The student's ``(height, width, channels)``.
    """
    logits = logits_model(teacher)
    height, width, channels = (int(v) for v in input_shape)
    t_height, t_width, t_channels = (int(v) for v in teacher.input_shape[1:])
    inputs = keras.Input((height, width, channels), dtype="float32", name="student_pixels")
    x = inputs
    if t_channels != channels:
        x = _ToChannels(t_channels, name="teacher_channels")(x)
    if (t_height, t_width) != (height, width):
        x = keras.layers.Resizing(t_height, t_width, interpolation="bilinear", name="teacher_resize")(x)
    return keras.Model(
        inputs, logits(x, training=False), name="teacher"
    )  # frozen: BatchNorm and dropout in inference mode


class SoftmaxKL(keras.losses.KLDivergence):
    """``KLDivergence`` as ``LogitsDistillation`` must receive it to soften both sides with a softmax.

    Keras 3.15's ``LogitsDistillation`` applies the softmax (and the ``T^2`` factor) only to a ``KLDivergence``
    instance; its default ``loss="kl_divergence"`` resolves to the bare function and gets raw logits (measured:
    32.2 instead of 1.31 on a 3-class batch). Other versions (keras-team/keras at 1298d1f) look for "kl" in the
    loss's ``__name__`` instead, which this instance also has, so either way both sides are softened.
    """

    __name__ = "kl_divergence"


def make_distiller(student, teacher, *, temperature: float = DEFAULT_TEMPERATURE, weight: float = DEFAULT_WEIGHT):
    """A ``keras.distillation.Distiller`` that trains ``student``'s weights (through its logits view).

    Args:
        student: The zoo model being trained (softmax output).
        teacher: The trained teacher (softmax output; any input size, 1 or 3 channels).
        temperature: Softmax temperature of the distillation term.
        weight: Weight of the distillation term in [0, 1]; the labels' cross-entropy gets ``1 - weight``.

    Compile the result with a ``from_logits=True`` loss: its predictions are the student's logits.
    """
    check_distill_options(temperature, weight)
    if int(teacher.output_shape[-1]) != int(student.output_shape[-1]):
        raise EdgeCNNError(
            f"the teacher has {teacher.output_shape[-1]} classes and the student {student.output_shape[-1]}"
        )
    return keras.distillation.Distiller(
        teacher=teacher_on_student_input(teacher, student.input_shape[1:]),
        student=logits_model(student),
        distillation_losses=keras.distillation.LogitsDistillation(temperature=float(temperature), loss=SoftmaxKL()),
        student_loss_weight=1.0 - float(weight),
    )


def check_distill_options(temperature: float, weight: float) -> None:
    """Raises :class:`EdgeCNNError` unless ``temperature > 0`` and ``0 <= weight <= 1``."""
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not temperature > 0:
        raise EdgeCNNError(f"distill temperature must be > 0. Received temperature={temperature!r}")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise EdgeCNNError(f"distill weight must be in [0, 1]. Received weight={weight!r}")


@dataclass
class Teacher:
    """A loaded teacher and what ``config.json`` records about it."""

    model: Any
    record: dict[str, Any]


def load_teacher(path: str | os.PathLike, labels: list[str] | None = None) -> Teacher:
    """Loads ``RUN_DIR`` (its ``best.keras``) or ``MODEL.keras`` as a teacher.

    Args:
        path: A training run directory or a ``.keras`` file (one inside a run directory uses that run's records).
        labels: The student's class names; a teacher run with other classes is refused.

    Returns:
        The model and its record: ``path`` (as given, absolute), ``model`` (the ``.keras`` file), ``arch``,
        ``alpha``, ``input`` ``[h, w, c]``, ``classes`` and ``accuracy`` / ``accuracy_split`` from the run's
        ``metrics.json`` (None where unknown).

    Raises:
        EdgeCNNError: If the path is not a usable model or its classes differ from ``labels``.
    """
    from edgecnn.training.export.source import load_keras_model, resolve_source

    source = resolve_source(path)
    if source.preprocessing is not None and source.preprocessing.normalization != "in-model":
        raise EdgeCNNError(f"the teacher {path} expects {source.preprocessing.normalization} input, not raw pixels")
    model = load_keras_model(source.model_path)
    classes = int(model.output_shape[-1])
    if labels is not None:
        if classes != len(labels):
            raise EdgeCNNError(f"the teacher {path} has {classes} classes; the data has {len(labels)}")
        if source.labels is not None and list(source.labels) != list(labels):
            raise EdgeCNNError(f"the teacher {path} was trained on other classes ({', '.join(source.labels[:4])}...)")
    info, metrics = source.model_info, source.metrics
    record = {
        "path": str(Path(path).resolve()),
        "model": str(Path(source.model_path).resolve()),
        "arch": info.get("arch") or model.name,
        "alpha": info.get("alpha"),
        "input": [int(v) for v in model.input_shape[1:]],
        "classes": classes,
        "params": int(model.count_params()),
        "accuracy": metrics.get("test_accuracy"),
        "accuracy_split": metrics.get("eval_split") if metrics.get("test_accuracy") is not None else None,
    }
    return Teacher(model=model, record=record)


def reload_teacher(record: dict[str, Any]) -> Teacher:
    """The teacher a run recorded (for ``--resume``), loaded from its ``.keras`` file.

    Raises:
        EdgeCNNError: If that file is gone or unreadable.
    """
    from edgecnn.training.export.source import load_keras_model

    model_path = Path(record["model"])
    if not model_path.is_file():
        raise EdgeCNNError(f"cannot resume: the run's teacher {model_path} is gone (recorded in config.json)")
    return Teacher(model=load_keras_model(model_path), record=dict(record))

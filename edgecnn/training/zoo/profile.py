"""Parameter and multiply-accumulate counts of a built Keras model, counted the way the papers count them.

A convolution costs ``kh * kw * (cin / groups) * cout`` MACs per output position, a depthwise convolution
``kh * kw * c`` and a dense layer ``inputs * outputs``: in every case the kernel's element count times the output
positions. BatchNorm, activations, pooling, padding, additions and the SE multiply are free (the SE block's
1x1 convolutions are counted). This reproduces the MobileNet papers' "Mult-Adds" columns.

TensorFlow-free at import: the functions only read attributes of the model they are given.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

#: Layers whose cost is their kernel's element count times the output positions.
_KERNEL_LAYERS = {"Conv1D", "Conv2D", "DepthwiseConv2D", "Dense", "EinsumDense"}
#: Fixed part of a ``.tflite`` file (header, buffers table, signature, metadata) and per-tensor bookkeeping,
#: used only for the *estimated* file sizes.
_FILE_OVERHEAD_BYTES = 4096
_PER_LAYER_OVERHEAD_BYTES = 160
#: An int8 file stores a float32 scale and an int64 zero point per output channel for both the weights and the
#: int32 bias of every layer (per-channel quantisation).
_INT8_PER_CHANNEL_BYTES = 2 * (4 + 8)


@dataclass(frozen=True)
class LayerRow:
    """One layer of a profile."""

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int


@dataclass
class ModelProfile:
    """Size and cost of a model.

    Attributes:
        name: The Keras model name.
        input_shape: Input shape without the batch axis.
        output_shape: Output shape without the batch axis.
        params: All parameters, as ``model.count_params()`` (BatchNorm moving statistics included, like Keras).
        trainable_params: Trainable parameters.
        inference_params: Parameters after folding each BatchNorm into the convolution before it (what an
            exported model stores).
        macs: Multiply-accumulates of one forward pass.
        est_float32_bytes: Estimated size of a float32 ``.tflite`` file.
        est_int8_bytes: Estimated size of a full-integer ``.tflite`` file (int8 weights, int32 biases,
            per-channel scales).
        layers: Per-layer rows.
    """

    name: str
    input_shape: tuple
    output_shape: tuple
    params: int
    trainable_params: int
    inference_params: int
    macs: int
    est_float32_bytes: int
    est_int8_bytes: int
    layers: list[LayerRow] = field(default_factory=list)

    def to_dict(self, include_layers: bool = False) -> dict:
        """A JSON-ready dict; per-layer rows only when asked."""
        out = asdict(self)
        out["input_shape"] = list(self.input_shape)
        out["output_shape"] = list(self.output_shape)
        if include_layers:
            out["layers"] = [dict(asdict(r), output_shape=list(r.output_shape)) for r in self.layers]
        else:
            out.pop("layers")
        return out


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape[1:])


def _layer_macs(layer) -> int:
    kind = type(layer).__name__
    positions = math.prod(d or 1 for d in _shape(layer.output)[:-1])
    if kind in _KERNEL_LAYERS:
        return math.prod(layer.kernel.shape) * positions
    if kind == "SeparableConv2D":
        return (math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape)) * positions
    return 0


def profile_model(model) -> ModelProfile:
    """Counts parameters and MACs of a built Keras model, per layer and in total.

    Args:
        model: A built ``keras.Model`` (functional; nested models are counted as one row).

    Returns:
        The :class:`ModelProfile`.
    """
    rows: list[LayerRow] = []
    bias_like = 0  # biases and folded BatchNorm shifts: kept in int32 by an int8 export
    weight_layers = 0
    for layer in model.layers:
        kind = type(layer).__name__
        params = int(layer.count_params())
        if kind == "InputLayer":
            continue
        rows.append(LayerRow(layer.name, kind, _shape(layer.output), params, _layer_macs(layer)))
        if kind == "BatchNormalization":
            bias_like += int(layer.gamma.shape[0] if layer.gamma is not None else layer.beta.shape[0])
        elif getattr(layer, "bias", None) is not None:
            bias_like += math.prod(layer.bias.shape)
        if params:
            weight_layers += 1
    params = int(model.count_params())
    bn_params = sum(r.params for r in rows if r.type == "BatchNormalization")
    bn_channels = sum(r.params // 4 for r in rows if r.type == "BatchNormalization")
    inference_params = params - bn_params + bn_channels
    kernel_elems = inference_params - bias_like
    overhead = _FILE_OVERHEAD_BYTES + _PER_LAYER_OVERHEAD_BYTES * weight_layers
    return ModelProfile(
        name=model.name,
        input_shape=_shape(model.inputs[0]),
        output_shape=_shape(model.outputs[0]),
        params=params,
        trainable_params=int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        inference_params=inference_params,
        macs=sum(r.macs for r in rows),
        est_float32_bytes=inference_params * 4 + overhead,
        est_int8_bytes=kernel_elems + bias_like * (4 + _INT8_PER_CHANNEL_BYTES) + overhead,
        layers=rows,
    )

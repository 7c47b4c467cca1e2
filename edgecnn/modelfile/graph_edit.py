"""Derived ``.tflite`` models for debugging numerics: one operator alone, or every intermediate tensor exposed.

Used to find out where two runtimes (LiteRT and TFLite Micro) start to differ: a single-operator model runs one
kernel on inputs taken from the other runtime, and a model whose every operator output is also a graph output
lets a delegate (XNNPACK) show its intermediate tensors, which ``experimental_preserve_all_tensors`` cannot.
Built with the object API of the generated schema (:mod:`edgecnn.modelfile.schema`).
"""

from __future__ import annotations

import numpy as np

from edgecnn.modelfile.schema import FILE_IDENTIFIER, load_schema


def load_model_object(model_bytes: bytes):
    """The ``ModelT`` (mutable object API) of a ``.tflite`` flatbuffer."""
    schema = load_schema()
    return schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(model_bytes), 0))


def pack_model_object(model) -> bytes:
    """Serialises a ``ModelT`` back to ``.tflite`` bytes."""
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def activation_tensors(model) -> set[int]:
    """Indices of the primary subgraph's tensors that are computed or fed at run time (inputs, operator outputs)."""
    graph = model.subgraphs[0]
    computed = {int(i) for op in graph.operators for i in (op.outputs if op.outputs is not None else [])}
    return computed | {int(i) for i in graph.inputs}


def expose_all_outputs(model_bytes: bytes) -> tuple[bytes, list[int]]:
    """A copy whose graph outputs are the original outputs followed by every other operator output.

    Returns:
        ``(model bytes, output tensor indices in order)``; the first outputs are the original ones.
    """
    model = load_model_object(model_bytes)
    graph = model.subgraphs[0]
    outputs = [int(i) for i in graph.outputs]
    for op in graph.operators:
        outputs += [int(i) for i in op.outputs if int(i) >= 0 and int(i) not in outputs]
    graph.outputs = np.array(outputs, dtype=np.int32)
    model.signatureDefs = None  # the signature lists the old outputs only
    return pack_model_object(model), outputs


def single_operator_model(model, op_index: int) -> tuple[bytes, list[int], list[int]]:
    """A model that runs only operator ``op_index`` of ``model`` (a ``ModelT``), with its own constants.

    The operator's run-time inputs (those not backed by constant data) become the graph inputs, its outputs the
    graph outputs; tensors, quantisation and constant buffers are copied, everything else is dropped.

    Returns:
        ``(model bytes, original indices of the graph inputs, original indices of the graph outputs)``.
    """
    schema = load_schema()
    graph = model.subgraphs[0]
    op = graph.operators[op_index]
    runtime_tensors = activation_tensors(model)
    used = [int(i) for i in (*op.inputs, *op.outputs) if int(i) >= 0]
    order = list(dict.fromkeys(used))
    remap = {old: new for new, old in enumerate(order)}

    single = schema.ModelT()
    single.version = model.version
    single.description = "edgecnn single-operator model"
    single.operatorCodes = [model.operatorCodes[op.opcodeIndex]]
    single.buffers = [schema.BufferT()]
    tensors = []
    for old in order:
        source = graph.tensors[old]
        tensor = schema.TensorT()
        for attr, value in vars(source).items():
            setattr(tensor, attr, value)
        data = model.buffers[source.buffer].data if source.buffer < len(model.buffers) else None
        if old not in runtime_tensors and data is not None and len(data):
            buffer = schema.BufferT()
            buffer.data = data
            single.buffers.append(buffer)
            tensor.buffer = len(single.buffers) - 1
        else:
            tensor.buffer = 0
        tensors.append(tensor)
    new_op = schema.OperatorT()
    for attr, value in vars(op).items():
        setattr(new_op, attr, value)
    new_op.opcodeIndex = 0
    new_op.inputs = np.array([remap[int(i)] if int(i) >= 0 else -1 for i in op.inputs], dtype=np.int32)
    new_op.outputs = np.array([remap[int(i)] for i in op.outputs], dtype=np.int32)
    inputs = [int(i) for i in op.inputs if int(i) in runtime_tensors]
    outputs = [int(i) for i in op.outputs if int(i) >= 0]
    sub = schema.SubGraphT()
    sub.tensors = tensors
    sub.operators = [new_op]
    sub.inputs = np.array([remap[i] for i in inputs], dtype=np.int32)
    sub.outputs = np.array([remap[i] for i in outputs], dtype=np.int32)
    sub.name = "op"
    single.subgraphs = [sub]
    return pack_model_object(single), inputs, outputs

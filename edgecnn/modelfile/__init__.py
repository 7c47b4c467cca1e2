"""The ``.tflite`` model file: its flatbuffer schema, edgecnn's embedded metadata and TFLite's standard metadata
(read and write, with packed files) and inspection.

Pure Python over ``flatbuffers`` and the generated schema; no interpreter, no TensorFlow.
"""

"""The ``.tflite`` model file: its flatbuffer schema, edgecnn's embedded metadata (read and write) and inspection.

Pure Python over ``flatbuffers`` and the generated schema; no interpreter, no TensorFlow.
"""

"""edgecnn: train, quantize and run CNN image classifiers on edge devices.

The package is layered; each layer imports only the layers below it (enforced by import-linter, see
``pyproject.toml``)::

    edgecnn.cli        the command line (heavy imports inside each command)
    edgecnn.sweep      size/accuracy/latency grids over the training side
    edgecnn.training   zoo, data, train, export, evaluate (TensorFlow/Keras)
    edgecnn.device     runtime, frame sources, per-frame pipeline, daemon, bench (no TensorFlow)
    edgecnn.modelfile  the .tflite schema, edgecnn metadata, inspection (no TensorFlow)
    edgecnn.core       errors, atomic files, parsers, config, logging, prepare() (no TensorFlow)

Importing this package itself imports none of them.
"""

__version__ = "0.2.0"

"""Export (training side): Keras model -> quantised, verified ``.tflite`` with embedded edgecnn metadata.

TensorFlow is imported only when a conversion runs, so importing this package (the CLI does, for the scheme
table) stays light.
"""

from edgecnn.modelfile.metadata_writer import embed_metadata
from edgecnn.training.export.exporter import AccuracyDropError, ExportResult, export, resolve_output
from edgecnn.training.export.schemes import DEFAULT_QUANTIZE, SCHEMES, Scheme, resolve

__all__ = [
    "DEFAULT_QUANTIZE",
    "SCHEMES",
    "AccuracyDropError",
    "ExportResult",
    "Scheme",
    "embed_metadata",
    "export",
    "resolve",
    "resolve_output",
]

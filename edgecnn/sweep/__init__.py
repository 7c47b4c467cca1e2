"""Size-vs-accuracy sweeps: train a grid of (architecture, width, input size), export every quantization scheme,
evaluate each ``.tflite`` on the test split, benchmark it, and report the Pareto fronts.

Importing this package does not import TensorFlow (training, export and evaluation load it when a trial runs).
"""

from edgecnn.sweep.config import SCHEMES, SweepConfig, Trial, trial_name
from edgecnn.sweep.outputs import rerender, write_outputs
from edgecnn.sweep.pareto import mark_pareto, pareto_indices
from edgecnn.sweep.results import COLUMNS, read_results
from edgecnn.sweep.runner import run_sweep
from edgecnn.sweep.select import select_model, select_row
from edgecnn.sweep.trial import run_trial

__all__ = [
    "COLUMNS",
    "SCHEMES",
    "SweepConfig",
    "Trial",
    "mark_pareto",
    "pareto_indices",
    "read_results",
    "rerender",
    "run_sweep",
    "run_trial",
    "select_model",
    "select_row",
    "trial_name",
    "write_outputs",
]

"""edgecnn: train, quantize and run CNN image classifiers on edge devices.

Two sides share this package. The training side (``edgecnn.zoo``, ``edgecnn.data``, ``edgecnn.train``,
``edgecnn.export``, ``edgecnn.sweep``) may import TensorFlow/Keras. The device side (``edgecnn.device``,
``edgecnn.preprocessing``, ``edgecnn.metadata``) imports only numpy, OpenCV and a LiteRT interpreter.
Importing this package itself imports neither.
"""

__version__ = "0.1.0"

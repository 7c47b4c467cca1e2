"""Device side: runtime, sources, daemon, bench and model inspection.

Imports only numpy, OpenCV and a LiteRT interpreter; never TensorFlow or Keras.
"""

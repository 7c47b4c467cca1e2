"""The training side: model zoo, data, training, export and evaluation. May import TensorFlow/Keras."""

"""End-of-epoch validation with precise BatchNorm statistics.

BatchNorm's moving averages lag the weights: early in a from-scratch run (a few hundred steps at momentum 0.99)
they still hold much of their initial values, and the network evaluates at chance although it trains well.
Before validating, :class:`PreciseBNValidation` recomputes every trainable BatchNorm layer's statistics as the
exact average over a fixed set of training batches ("precise BN", Wu & Johnson 2021, Rethinking "Batch" in
BatchNorm, arXiv:2105.07576), so each epoch's validation accuracy, the best-epoch choice and the saved model all
use population statistics of the current weights.
"""

from __future__ import annotations

import numpy as np

from edgecnn.training._tf import import_tf

tf, keras = import_tf()


def _batchnorm_layers(model) -> list:
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found.extend(_batchnorm_layers(layer))
        elif isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
            found.append(layer)
    return found


class BatchNormRecalibrator:
    """Sets the moving mean/variance of every trainable BatchNorm layer to the exact average over some batches.

    The forward passes run as one traced ``tf.function`` (kept across calls); the layers' momentum is a variable
    only while it is traced, and their configs keep their float momentum.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.layers = _batchnorm_layers(model)
        self.momentum = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self._forward = None

    def __call__(self, batches) -> int:
        """Averages the statistics over ``batches`` (an iterable of float32 image batches); returns their count."""
        if not self.layers:
            return 0
        saved = [layer.momentum for layer in self.layers]
        for layer in self.layers:
            layer.momentum = self.momentum
        try:
            if self._forward is None:
                self._forward = tf.function(lambda batch: self.model(batch, training=True), reduce_retracing=True)
            count = 0
            for count, batch in enumerate(batches, start=1):
                # moving = moving * (1 - 1/k) + batch_stat / k: the exact mean of the k batches seen so far.
                self.momentum.assign(1.0 - 1.0 / count)
                self._forward(batch)
        finally:
            for layer, momentum in zip(self.layers, saved, strict=True):
                layer.momentum = momentum
        return count


class PreciseBNValidation(keras.callbacks.Callback):
    """Recomputes BatchNorm statistics, then validates; adds ``val_loss`` and ``val_accuracy`` to the epoch logs.

    Put it first among the callbacks so that later ones (checkpoints, progress bar, history) see the values.

    Args:
        bn_images: ``uint8`` training pixels to draw the BatchNorm batches from (not augmented).
        val_data: The validation ``tf.data.Dataset``, or None to only recompute the statistics.
        batch_size: Images per BatchNorm batch.
        max_batches: How many batches to average.
        seed: Seed of the BatchNorm batch selection.
        model: The model to recalibrate and validate when it is not the one being fitted (a distiller's student);
            None for the fitted model.
    """

    def __init__(
        self,
        bn_images: np.ndarray | None,
        val_data,
        *,
        batch_size: int,
        max_batches: int = 50,
        seed: int = 0,
        model=None,
    ) -> None:
        super().__init__()
        self.student = model
        self.val_data = val_data
        self.batches: list[np.ndarray] = []
        if bn_images is not None and len(bn_images):
            order = np.random.default_rng([seed, 7]).permutation(len(bn_images))
            size = min(batch_size, len(bn_images))
            count = min(max_batches, len(bn_images) // size)
            self.batches = [order[i * size : (i + 1) * size] for i in range(count)]
        self.bn_images = bn_images
        self._recalibrate = None

    def on_epoch_end(self, epoch, logs=None):
        model = self.student or self.model
        if self.batches:
            if self._recalibrate is None:
                self._recalibrate = BatchNormRecalibrator(model)
            self._recalibrate(tf.constant(self.bn_images[i].astype(np.float32)) for i in self.batches)
        if self.val_data is not None and logs is not None:
            result = model.evaluate(self.val_data, verbose=0, return_dict=True)
            logs["val_loss"] = float(result["loss"])
            logs["val_accuracy"] = float(result["accuracy"])

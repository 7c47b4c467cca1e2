"""Training-recipe search on Fashion-MNIST: many short trainings of zoo models, in parallel, on any Keras backend.

Each line of CONFIGS is one JSON training recipe; every recipe trains in its own process (``--jobs`` at a time),
prints validation and test accuracy after each epoch and appends its history to OUT (JSON lines). It uses the
zoo's models, the shared ``prepare()`` preprocessing, the same stratified validation split, AdamW with weight
decay off biases/BatchNorm, global norm clipping at 1 and warm-up + cosine like ``edgecnn train``, but plain
``model.fit`` on in-memory arrays with numpy flips/shifts, so that it also runs on Keras' JAX or PyTorch backend
(``KERAS_BACKEND=jax`` on a GPU machine without TensorFlow). It finds a recipe; ``edgecnn train`` then measures it.

Recipe keys (defaults in brackets): name, arch, alpha, size [32], stem_stride [2], lr, batch [128], epochs [10],
ls (label smoothing) [0.1], wd (AdamW weight decay) [0.02], dropout [the architecture's], aug ("flip", "none",
"flip_shift") ["flip"], opt ("adamw" or "sgd") ["adamw"], seed [0], limit (images per split, for smoke tests).

Usage::

    KERAS_BACKEND=jax python tools/recipe_search.py tools/recipe_search_fmnist.jsonl results.jsonl \\
        --data /usr/share/datasets/fashion-mnist --jobs 16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _keras():
    """Keras on whatever backend ``KERAS_BACKEND`` names; the zoo builders are pointed at it (not TensorFlow's)."""
    import keras

    import edgecnn.training._tf

    if keras.backend.backend() != "tensorflow":
        edgecnn.training._tf.import_tf = lambda: (None, keras)
    return keras


def load(data: Path, size: int):
    """Fashion-MNIST prepared to ``size`` and split exactly as ``edgecnn train`` does: (train, val, test) arrays."""
    from edgecnn.core.preprocessing import Preprocessing
    from edgecnn.training.data import load_arrays

    spec = Preprocessing.for_model(size, 1)
    arrays = []
    for split in ("train", "val", "test"):
        images, labels, _ = load_arrays(str(data), spec, split)
        arrays += [images, labels]
    return tuple(arrays)


def augment(images: np.ndarray, rng: np.random.Generator, mode: str) -> np.ndarray:
    """Random horizontal flips (``flip``) and shifts of up to 2 pixels (``shift``)."""
    images = images.copy()
    if "flip" in mode:
        flipped = rng.random(len(images)) < 0.5
        images[flipped] = images[flipped, :, ::-1]
    if "shift" in mode:
        pad = 2
        padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        height, width = images.shape[1:3]
        for i, (dy, dx) in enumerate(rng.integers(0, 2 * pad + 1, (len(images), 2))):
            images[i] = padded[i, dy : dy + height, dx : dx + width]
    return images


def run_recipe(recipe: dict, data: Path, out: Path) -> None:
    """Trains one recipe, printing per-epoch accuracy and appending the history to ``out``."""
    keras = _keras()
    from edgecnn.training.evaluate import keras_probabilities, top_k_accuracy
    from edgecnn.training.zoo import build_model

    size = recipe.get("size", 32)
    train_x, train_y, val_x, val_y, test_x, test_y = load(data, size)
    if recipe.get("limit"):
        n = recipe["limit"]
        train_x, train_y, val_x, val_y, test_x, test_y = (
            a[:n] for a in (train_x, train_y, val_x, val_y, test_x, test_y)
        )
    keras.utils.set_random_seed(recipe.get("seed", 0))
    model = build_model(
        recipe["arch"],
        alpha=recipe["alpha"],
        size=size,
        channels=1,
        classes=10,
        dropout=recipe.get("dropout"),
        stem_stride=recipe.get("stem_stride", 2),
    )
    batch, epochs = recipe.get("batch", 128), recipe.get("epochs", 10)
    total = int(np.ceil(len(train_x) / batch)) * epochs
    warmup = min(total // epochs, total // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, total - warmup, warmup_target=recipe["lr"], warmup_steps=warmup
    )
    if recipe.get("opt", "adamw") == "adamw":
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe.get("wd", 0.02), global_clipnorm=1.0)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)
    model.compile(
        optimizer, keras.losses.CategoricalCrossentropy(label_smoothing=recipe.get("ls", 0.1)), metrics=["accuracy"]
    )
    rng = np.random.default_rng(recipe.get("seed", 0))
    targets = keras.utils.to_categorical(train_y, 10)
    history, start = [], time.time()
    for epoch in range(epochs):
        fit = model.fit(
            augment(train_x, rng, recipe.get("aug", "flip")),
            targets,
            batch_size=batch,
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=0,
            shuffle=True,
        )
        val = top_k_accuracy(keras_probabilities(model, val_x, 1000), val_y)
        test = top_k_accuracy(keras_probabilities(model, test_x, 1000), test_y)
        history.append(
            {
                "epoch": epoch + 1,
                "train_acc": round(float(fit.history["accuracy"][-1]), 4),
                "val": round(val, 4),
                "test": round(test, 4),
            }
        )
        print(recipe["name"], history[-1], f"{time.time() - start:.0f}s", flush=True)
    with out.open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {"recipe": recipe, "final": history[-1], "history": history, "seconds": round(time.time() - start, 1)}
            )
            + "\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", type=Path, help="JSON lines, one recipe each.")
    parser.add_argument("out", type=Path, help="Results file (JSON lines, appended).")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("/usr/share/datasets/fashion-mnist"),
        help="Directory with the four Fashion-MNIST IDX files.",
    )
    parser.add_argument("--jobs", type=int, default=1, help="Recipes trained at the same time.")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a worker: train this one JSON recipe
    args = parser.parse_args(argv)
    if args.one:
        run_recipe(json.loads(args.one), args.data, args.out)
        return 0
    recipes = [line for line in args.configs.read_text(encoding="utf-8").splitlines() if line.strip()]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    running: list[subprocess.Popen] = []
    failed = 0
    for recipe in recipes:
        while len(running) >= args.jobs:
            failed += sum(p.wait() != 0 for p in running[:1])
            running = running[1:]
        running.append(
            subprocess.Popen(
                [sys.executable, __file__, str(args.configs), str(args.out), "--data", str(args.data), "--one", recipe],
                env=env,
            )
        )
    failed += sum(p.wait() != 0 for p in running)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

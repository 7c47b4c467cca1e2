"""Training end to end at tiny sizes: run directory, resume after Ctrl-C, eval, CLI errors, determinism."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training import runs

train_mod = pytest.importorskip("edgecnn.training.train.loop")
keras = train_mod.keras
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
RUN_FILES = (
    "best.keras",
    "last.keras",
    "state.json",
    "labels.txt",
    "config.json",
    "history.csv",
    "metrics.json",
    "curves.png",
)


def _history(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def trained_run(colour_folder, tmp_path_factory):
    """squeezenet_1_1 trained 3 epochs on the colour folder through the CLI."""
    out = tmp_path_factory.mktemp("runs") / "sq"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "squeezenet_1_1",
            "--data",
            str(colour_folder),
            "--out",
            str(out),
            "--size",
            "32",
            "--epochs",
            "3",
            "--batch-size",
            "4",
            "--val-split",
            "0.25",
            "--lr",
            "0.003",
            "--quiet",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_run_directory_is_complete(trained_run):
    out, metrics = trained_run
    for name in RUN_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
    run = runs.load_run(out)
    assert run.labels == ["blue", "green", "red"]
    assert run.preprocessing == Preprocessing.for_model(32, 3)
    assert run.model == {
        "arch": "squeezenet_1_1",
        "alpha": 1.0,
        "size": [32, 32],
        "channels": 3,
        "classes": 3,
        "dropout": 0.5,
        "separable": False,
        "stem_stride": 2,
        "head_width": None,
        "scale_head": False,
        "depth": 1.0,
    }
    assert run.data["val_split"] == 0.25 and run.data["kind"] == "folder"
    assert run.config["train"]["batch_size"] == 4 and run.config["edgecnn_version"]
    assert run.config["train"]["augment"]["flip"] is True and run.config["train"]["augment"]["brightness"] > 0
    assert run.state["epoch"] == 3 and run.state["interrupted"] is False
    assert metrics == run.metrics
    assert metrics["epochs"] == 3 and metrics["n_train"] == 36 and metrics["n_val"] == 12
    assert metrics["eval_split"] == "val"  # the folder has no test split
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["images_per_s"] > 0


def test_loss_falls_and_model_learns(trained_run):
    out, metrics = trained_run
    losses = [float(row["loss"]) for row in _history(out)]
    assert [int(row["epoch"]) for row in _history(out)] == [1, 2, 3]
    assert losses[-1] < losses[0]
    assert metrics["val_accuracy"] >= 0.5  # colour classes: chance is 0.33


def test_best_model_loads_without_optimizer(trained_run):
    out, metrics = trained_run
    model = keras.models.load_model(out / "best.keras", compile=False)
    assert model.output_shape == (None, 3)
    state = runs.load_run(out).state
    assert state["best_epoch"] == metrics["best_epoch"] and state["best"] == pytest.approx(
        metrics["val_accuracy"], abs=1e-4
    )


def test_eval_run_json_and_confusion(trained_run, tmp_path):
    out, metrics = trained_run
    png = tmp_path / "confusion.png"
    result = CliRunner().invoke(app, ["eval", str(out), "--json", "--confusion", str(png)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"top1", "top5", "per_class", "confusion", "n", "labels"} <= set(report)
    assert report["n"] == 12 and report["labels"] == ["blue", "green", "red"]
    assert report["top1"] == pytest.approx(metrics["test_accuracy"], abs=1e-4)
    assert report["top5"] == 1.0  # top-k with k = min(5, classes) = 3
    assert np.asarray(report["confusion"]).sum() == 12
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = CliRunner().invoke(app, ["eval", str(out / "best.keras"), "--split", "val"])
    assert text.exit_code == 0 and "top-1" in text.stdout and "green" in text.stdout


def test_eval_tflite_through_device_runtime(trained_run, tmp_path):
    from edgecnn.modelfile.metadata import ModelMetadata
    from edgecnn.modelfile.metadata_writer import embed_metadata
    from edgecnn.training.evaluate import evaluate

    out, _ = trained_run
    run = runs.load_run(out)
    model = keras.models.load_model(run.best_model_path, compile=False)
    tflite = train_mod.tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = tmp_path / "model.tflite"
    path.write_bytes(embed_metadata(tflite, ModelMetadata(labels=run.labels, preprocessing=run.preprocessing)))
    keras_result = evaluate(out)
    tflite_result = evaluate(path, run.data, "val")
    assert tflite_result["n"] == keras_result["n"] == 12
    assert tflite_result["top1"] == pytest.approx(keras_result["top1"], abs=1 / 12 + 1e-9)
    missing = CliRunner().invoke(app, ["eval", str(path)])
    assert missing.exit_code == 2 and "--data is required" in missing.stderr


class _InterruptAt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) at a given epoch and batch."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_interrupt_then_resume(colour_folder, tmp_path):
    out = tmp_path / "sq"
    kwargs = dict(alpha=1.0, size=32, batch_size=8, val_split=0.25, progress=False)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train("squeezenet_1_1", str(colour_folder), out, epochs=3, callbacks=[_InterruptAt(1, 1)], **kwargs)
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and state["interrupted"] is True
    assert [int(r["epoch"]) for r in _history(out)] == [1]
    assert not (out / "metrics.json").exists()
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]  # no half-written files

    runner = CliRunner()
    refused = runner.invoke(app, ["train", "squeezenet_1_1", "--data", str(colour_folder), "--out", str(out)])
    assert refused.exit_code == 2 and "--resume" in refused.stderr

    metrics = train_mod.train("squeezenet_1_1", None, out, epochs=3, resume=True, progress=False)
    assert [int(r["epoch"]) for r in _history(out)] == [1, 2, 3]
    assert metrics["epochs"] == 3
    last = keras.models.load_model(out / "last.keras")
    steps = json.loads((out / "state.json").read_text())["steps_per_epoch"]
    assert steps == 36 // 8
    assert int(last.optimizer.iterations.numpy()) == 3 * steps  # the schedule continued from epoch 2's start

    again = runner.invoke(app, ["train", "squeezenet_1_1", "--out", str(out), "--resume", "--epochs", "3"])
    assert again.exit_code == 2 and "already trained 3" in again.stderr


def test_same_seed_same_weights_streaming_from_files(colour_folder, tmp_path):
    kwargs = dict(size=32, epochs=1, batch_size=8, val_split=0.25, progress=False, seed=5, max_samples=24, stream=True)
    train_mod.train("squeezenet_1_1", str(colour_folder), tmp_path / "a", **kwargs)
    train_mod.train("squeezenet_1_1", str(colour_folder), tmp_path / "b", **kwargs)
    wa = keras.models.load_model(tmp_path / "a" / "last.keras").get_weights()
    wb = keras.models.load_model(tmp_path / "b" / "last.keras").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(wa, wb, strict=True))


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "mobilenet_v2", "--out", "OUT"], "--data is required"),
        (["train", "mobilenet_v9", "--data", "DATA", "--out", "OUT"], "unknown architecture"),
        (["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--alpha", "-1"], "alpha must be"),
        (["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--epochs", "0"], "epochs must be"),
        (["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--optimizer", "lion"], "optimizer must be"),
        (["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--val-split", "1.5"], "val_split must be"),
        (["train", "mobilenet_v2", "--data", "nowhere_dataset", "--out", "OUT"], "neither an existing folder"),
        (["train", "mobilenet_v2", "--data", "ONECLASS", "--out", "OUT"], "at least 2 classes"),
        (["train", "mobilenet_v2", "--out", "OUT", "--resume"], "cannot resume"),
        (["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--depth", "2"], "depth must be"),
        (["train", "squeezenet_1_1", "--data", "DATA", "--out", "OUT", "--head-width", "64"], "no head layer"),
        (
            ["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--head-width", "64", "--scale-head"],
            "use either head_width",
        ),
        (
            ["train", "mobilenet_v2", "--data", "DATA", "--out", "OUT", "--weights", "imagenet", "--depth", "0.5"],
            "pretrained weights need depth=1",
        ),
        (["eval", "DATA"], "not a run directory"),
    ],
)
def test_cli_errors_exit_2_with_one_line(colour_folder, tmp_path, args, message):
    one_class = tmp_path / "one"
    (one_class / "only").mkdir(parents=True)
    (one_class / "only" / "a.png").write_bytes((colour_folder / "red" / "000.png").read_bytes())
    subs = {"OUT": str(tmp_path / "out"), "DATA": str(colour_folder), "ONECLASS": str(one_class)}
    result = CliRunner().invoke(app, [subs.get(a, a) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_head_and_depth_knobs_are_recorded_and_rebuilt(colour_folder, tmp_path):
    out = tmp_path / "knobs"
    args = ["train", "mobilenet_v2", "--data", str(colour_folder), "--out", str(out), "--alpha", "0.35"]
    args += ["--head-width", "64", "--depth", "0.5", "--epochs", "1", "--batch-size", "8", "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run = runs.load_run(out)
    assert (run.model["head_width"], run.model["scale_head"], run.model["depth"]) == (64, False, 0.5)
    best = keras.models.load_model(out / "best.keras", compile=False)
    assert best.get_layer("Conv_1").filters == 64 and best.name.endswith("_head64_depth0.5")


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_short_training(tmp_path):
    metrics = train_mod.train(
        "mobilenet_v2",
        "fashion_mnist",
        tmp_path / "fm",
        alpha=0.35,
        size=32,
        epochs=2,
        max_samples=6000,
        progress=False,
    )
    assert metrics["eval_split"] == "test" and metrics["n_test"] == 6000
    assert metrics["test_accuracy"] > 0.6

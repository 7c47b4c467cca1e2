"""Knowledge distillation (keras.distillation under edgecnn train --teacher) and clean failed starts."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app

distill = pytest.importorskip("edgecnn.training.train.distill")
train_mod = pytest.importorskip("edgecnn.training.train.loop")
keras = distill.keras
from edgecnn.training.zoo import REGISTRY, build_model, get_arch_info  # noqa: E402


def _ce(labels, logits, smoothing=0.0):
    classes = labels.shape[1]
    target = labels * (1 - smoothing) + smoothing / classes
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return float(np.mean(-(target * logp).sum(1)))


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def tiny_pair():
    """A grey 32x32 student (softmax Activation head) and a colour 40x40 teacher (Dense softmax head)."""
    keras.utils.set_random_seed(0)
    student = build_model("mobilenet_v1", alpha=0.25, size=32, channels=1, classes=3)
    teacher = build_model("mobilenet_v2", alpha=0.35, size=40, channels=3, classes=3)
    rng = np.random.default_rng(2)
    for model, head in ((student, "conv_preds"), (teacher, "predictions")):  # untrained logits are all near 0
        kernel, bias = model.get_layer(head).get_weights()
        model.get_layer(head).set_weights([kernel * 50, rng.normal(0, 2, bias.shape).astype(np.float32)])
    x = np.random.default_rng(0).uniform(0, 255, (6, 32, 32, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    return student, teacher, x, y


@pytest.mark.parametrize("arch", sorted(REGISTRY))
def test_logits_view_shares_the_weights_of_the_softmax_model(arch):
    size = max(32, get_arch_info(arch).min_size)
    model = build_model(arch, alpha=0.25, size=size, channels=1, classes=4)
    view = distill.logits_model(model)
    x = np.random.default_rng(1).uniform(0, 255, (3, size, size, 1)).astype(np.float32)
    np.testing.assert_allclose(_softmax(view(x).numpy()), model(x).numpy(), atol=1e-5)
    assert {id(v) for v in view.trainable_variables} == {id(v) for v in model.trainable_variables}


def test_student_loss_includes_the_teacher_term_and_changes_with_temperature(tiny_pair):
    student, teacher, x, y = tiny_pair
    s_logits = distill.logits_model(student)(x).numpy()
    t_logits = distill.teacher_on_student_input(teacher, (32, 32, 1))(x).numpy()
    # The teacher saw the student's batch resized to 40x40 and turned to colour in the graph.
    colour = np.repeat(keras.ops.image.resize(x, (40, 40), interpolation="bilinear").numpy(), 3, axis=-1)
    np.testing.assert_allclose(t_logits, distill.logits_model(teacher)(colour).numpy(), rtol=1e-4, atol=1e-4)
    losses = {}
    for temperature in (1.0, 4.0):
        distiller = distill.make_distiller(student, teacher, temperature=temperature, weight=0.7)
        distiller.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
        losses[temperature] = float(distiller.compute_loss(x=x, y=y, y_pred=distiller(x)))
        p_t, p_s = _softmax(t_logits / temperature), _softmax(s_logits / temperature)
        kl = float(np.mean(np.sum(p_t * np.log(p_t / p_s), axis=1)))
        expected = 0.3 * _ce(y, s_logits) + 0.7 * temperature**2 * kl
        assert losses[temperature] == pytest.approx(expected, rel=1e-3)
        assert kl > 0  # an untrained teacher and student disagree: the teacher term is not zero
    assert losses[1.0] != pytest.approx(losses[4.0], rel=1e-3)
    plain = distill.make_distiller(student, teacher, temperature=4.0, weight=0.0)
    plain.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    assert float(plain.compute_loss(x=x, y=y, y_pred=plain(x))) == pytest.approx(_ce(y, s_logits), rel=1e-4)


def test_distill_options_are_checked(tiny_pair):
    student, teacher, _, _ = tiny_pair
    with pytest.raises(distill.EdgeCNNError, match="temperature must be > 0"):
        distill.make_distiller(student, teacher, temperature=0)
    with pytest.raises(distill.EdgeCNNError, match=r"weight must be in \[0, 1\]"):
        distill.make_distiller(student, teacher, weight=1.5)
    other = build_model("mobilenet_v1", alpha=0.25, size=32, channels=1, classes=5)
    with pytest.raises(distill.EdgeCNNError, match="5 classes"):
        distill.make_distiller(student, other)


class _InterruptAt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) after a given batch of the first epoch."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.at = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.at:
            raise KeyboardInterrupt


def _teacher_run(path, labels):
    """A run directory as edgecnn train leaves it (config, labels, metrics, best.keras), with an untrained model."""
    from edgecnn.core.preprocessing import Preprocessing

    path.mkdir()
    model = build_model("mobilenet_v1", alpha=0.25, size=40, channels=3, classes=len(labels))
    model.save(path / "best.keras")
    config = {
        "model": {"arch": "mobilenet_v1", "alpha": 0.25, "size": [40, 40], "channels": 3, "classes": len(labels)},
        "preprocessing": Preprocessing.for_model((40, 40), 3).to_dict(),
        "data": {"source": "somewhere"},
        "labels": labels,
    }
    (path / "config.json").write_text(json.dumps(config))
    (path / "labels.txt").write_text("".join(f"{label}\n" for label in labels))
    (path / "metrics.json").write_text(json.dumps({"test_accuracy": 0.8125, "eval_split": "test"}))
    return path


def test_teacher_run_records_its_teacher_and_resumes(colour_folder, tmp_path):
    teacher_dir = _teacher_run(tmp_path / "teacher", ["blue", "green", "red"])
    out = tmp_path / "student"
    common = dict(alpha=0.25, size=32, epochs=1, val_split=0.25, batch_size=8, progress=False)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train(
            "squeezenet_1_1",
            str(colour_folder),
            out,
            teacher=str(teacher_dir),
            distill_temperature=2.0,
            callbacks=[_InterruptAt(1)],
            **common,
        )
    config = json.loads((out / "config.json").read_text())
    record = config["train"]["distill"]
    assert record["temperature"] == 2.0 and record["weight"] == 0.5
    assert record["teacher"]["path"] == str(teacher_dir.resolve())
    assert record["teacher"]["model"] == str((teacher_dir / "best.keras").resolve())
    assert record["teacher"]["arch"] == "mobilenet_v1" and record["teacher"]["input"] == [40, 40, 3]
    assert record["teacher"]["accuracy"] == 0.8125 and record["teacher"]["accuracy_split"] == "test"
    assert json.loads((out / "state.json").read_text())["interrupted"] is True

    # Resuming reloads the teacher from the recorded file: without it the resume stops and the run stays intact.
    moved = tmp_path / "moved"
    shutil.move(teacher_dir, moved)
    with pytest.raises(distill.EdgeCNNError, match="teacher .*best.keras is gone"):
        train_mod.train("squeezenet_1_1", None, out, epochs=1, resume=True, progress=False)
    assert {"config.json", "last.keras", "state.json", "labels.txt"} <= {p.name for p in out.iterdir()}
    shutil.move(moved, teacher_dir)
    # A run recorded before the recipe options existed resumes with today's values for them.
    assert config["train"]["warmup_epochs"] is None and config["train"]["augment"]["crop_pad"] == 0
    for key in ("warmup_epochs", "weight_decay"):
        del config["train"][key]
    for key in ("crop_pad", "erase"):
        del config["train"]["augment"][key]
    (out / "config.json").write_text(json.dumps(config))
    metrics = train_mod.train("squeezenet_1_1", None, out, epochs=1, resume=True, progress=False)
    assert metrics["epochs"] == 1
    # The stored student is the plain softmax model: it loads and predicts without the teacher.
    for name in ("best.keras", "last.keras"):
        model = keras.models.load_model(out / name)
        assert model.input_shape == (None, 32, 32, 3) and model.layers[-1].name == "predictions"
        probs = model.predict(np.full((2, 32, 32, 3), 128, np.float32), verbose=0)
        np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    steps = json.loads((out / "state.json").read_text())["steps_per_epoch"]
    assert int(keras.models.load_model(out / "last.keras").optimizer.iterations.numpy()) == steps


def test_teacher_with_other_classes_is_refused(colour_folder, tmp_path):
    teacher = build_model("mobilenet_v1", alpha=0.25, size=32, channels=3, classes=4)
    teacher.save(tmp_path / "four.keras")
    base = ["train", "squeezenet_1_1", "--data", str(colour_folder), "--out", str(tmp_path / "s")]
    result = CliRunner().invoke(app, [*base, "--teacher", str(tmp_path / "four.keras")])
    assert result.exit_code == 2 and "4 classes; the data has 3" in result.stderr
    assert not (tmp_path / "s").exists()
    lone = CliRunner().invoke(app, [*base, "--distill-weight", "1"])
    assert lone.exit_code == 2 and "need --teacher" in lone.stderr


def test_a_start_that_fails_before_its_first_checkpoint_leaves_nothing(colour_folder, tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")  # what Keras raises offline

    monkeypatch.setattr(file_utils, "get_file", offline)
    args = ["train", "mobilenet_v2", "--data", str(colour_folder), "--alpha", "0.35", "--weights", "imagenet"]
    out = tmp_path / "new"
    for _ in range(2):  # the retry fails the same way instead of finding a non-empty run directory
        result = CliRunner().invoke(app, [*args, "--out", str(out), "--epochs", "1"])
        assert result.exit_code == 2 and "could not get ImageNet weights" in result.stderr, result.output
        assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, [*args, "--out", str(kept), "--epochs", "1", "--force"])
    assert result.exit_code == 2
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt"]  # only what the run wrote is gone

"""Training building blocks: schedules, precise BatchNorm, freezing, scoring, figures, run reading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.training import runs
from edgecnn.training.evaluate import score
from edgecnn.training.train.plots import plot_confusion, plot_curves

schedules = pytest.importorskip("edgecnn.training.train.schedules")
keras = schedules.keras
tf = schedules.tf


def test_cosine_warms_up_then_decays_to_zero():
    s = schedules.make_schedule("cosine", 0.01, total_steps=100, steps_per_epoch=10)
    values = [float(s(step)) for step in (0, 9, 10, 55, 100, 150)]
    assert values[0] == pytest.approx(0.001) and values[1] == pytest.approx(0.01)
    assert values[2] == pytest.approx(0.01) and values[3] == pytest.approx(0.005, rel=1e-3)
    assert values[4] == pytest.approx(0.0, abs=1e-9) and values[5] == pytest.approx(0.0, abs=1e-9)


def test_onecycle_rises_then_falls():
    s = schedules.make_schedule("onecycle", 0.01, total_steps=100, steps_per_epoch=10)
    start, peak, end = float(s(0)), float(s(30)), float(s(100))
    assert start == pytest.approx(0.0004) and peak == pytest.approx(0.01) and end == pytest.approx(1e-6)


def test_schedule_survives_a_checkpoint(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(schedules.make_optimizer("adamw", schedules.make_schedule("onecycle", 0.01, 100, 10)), "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer.learning_rate).__name__ != "float"
    assert int(loaded.optimizer.iterations.numpy()) == 1


@pytest.mark.parametrize("bad", [{"name": "linear"}, {"optimizer": "lion"}])
def test_unknown_schedule_or_optimizer(bad):
    with pytest.raises(EdgeCNNError, match="must be one of"):
        if "name" in bad:
            schedules.make_schedule(bad["name"], 0.1, 10, 1)
        else:
            schedules.make_optimizer(bad["optimizer"], 0.1)


def test_default_lr_scales_with_batch():
    assert schedules.default_lr("sgd", 256) == pytest.approx(2 * schedules.default_lr("sgd", 128))


def test_precise_batchnorm_is_the_exact_mean_of_batches():
    from edgecnn.training.train.validation import BatchNormRecalibrator

    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.99)])
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=i, scale=1 + i, size=(16, 3)).astype(np.float32) for i in range(4)]
    assert BatchNormRecalibrator(model)(tf.constant(b) for b in batches) == 4
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.mean([b.var(0) for b in batches], axis=0), rtol=1e-4)
    assert bn.momentum == 0.99 and bn.get_config()["momentum"] == 0.99


def test_apply_freeze():
    loop = pytest.importorskip("edgecnn.training.train.loop")
    from edgecnn.training.zoo import build_model

    model = build_model("squeezenet_1_1", size=32, channels=1, classes=3)
    names = [layer.name for layer in model.layers]
    cut = loop.apply_freeze(model, ("conv10",), freeze_backbone=True, fine_tune_at=None)
    assert cut == names.index("conv10")
    assert not model.get_layer("fire9_squeeze1x1").trainable and model.get_layer("conv10").trainable
    assert loop.apply_freeze(model, ("conv10",), freeze_backbone=False, fine_tune_at="fire5_squeeze1x1") == names.index(
        "fire5_squeeze1x1"
    )
    assert model.get_layer("fire5_squeeze1x1").trainable and not model.get_layer("conv1").trainable
    with pytest.raises(EdgeCNNError, match="fine_tune_at"):
        loop.apply_freeze(model, ("conv10",), freeze_backbone=False, fine_tune_at="nope")
    with pytest.raises(EdgeCNNError, match="fine_tune_at"):
        loop.apply_freeze(model, ("conv10",), freeze_backbone=False, fine_tune_at=10_000)


def test_score():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.5, 0.1, 0.4]])
    y = np.array([0, 1, 1, 2])
    result = score(probs, y, ["a", "b", "c"])
    assert result["top1"] == 0.5 and result["n"] == 4 and result["top5_k"] == 3 and result["top5"] == 1.0
    assert result["per_class"] == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert result["confusion"] == [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
    with pytest.raises(EdgeCNNError, match="3 outputs but the data has 2"):
        score(probs, y, ["a", "b"])


def test_figures_are_pngs(tmp_path):
    rows = [
        {"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
        {"epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": "", "val_accuracy": ""},
    ]
    plot_curves(rows, tmp_path / "curves.png")
    plot_confusion(np.array([[3, 1], [0, 4]]), ["x", "y"], tmp_path / "cm.png", title="t")
    for name in ("curves.png", "cm.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png", "curves.png"]


def test_load_run_errors(tmp_path):
    with pytest.raises(EdgeCNNError, match="does not exist"):
        runs.load_run(tmp_path / "missing")
    with pytest.raises(EdgeCNNError, match="has no config.json"):
        runs.load_run(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model": {}}))
    with pytest.raises(EdgeCNNError, match="lacks preprocessing, data"):
        runs.load_run(tmp_path / "config.json")


def test_model_record_rebuilds_the_stem_stride():
    from edgecnn.training.train.loop import build_from_record

    record = {
        "arch": "mobilenet_v2",
        "alpha": 0.35,
        "size": [32, 32],
        "channels": 1,
        "classes": 10,
        "dropout": 0.2,
        "separable": True,
    }
    assert not build_from_record(record).name.endswith("_stem1")  # runs written before the option existed
    assert build_from_record({**record, "stem_stride": 1}).name.endswith("_stem1")


def test_model_record_rebuilds_head_and_depth_and_older_runs_get_the_paper_model():
    from edgecnn.training.train.loop import build_from_record
    from edgecnn.training.zoo import build_model

    record = {
        "arch": "mobilenet_v2",
        "alpha": 0.35,
        "size": [32, 32],
        "channels": 1,
        "classes": 10,
        "dropout": 0.2,
        "separable": True,
    }
    old = build_from_record(record)  # written before head_width / scale_head / depth existed
    assert old.count_params() == build_model("mobilenet_v2", alpha=0.35, size=32, channels=1, classes=10).count_params()
    assert old.get_layer("Conv_1").filters == 1280
    new = build_from_record({**record, "head_width": 128, "scale_head": False, "depth": 0.5})
    assert new.get_layer("Conv_1").filters == 128 and new.name.endswith("_head128_depth0.5")
    assert len([layer for layer in new.layers if layer.name.endswith("_project")]) == 11  # 17 blocks at depth 1


def test_warmup_epochs_and_weight_decay():
    assert float(schedules.make_schedule("cosine", 0.01, 100, 10, warmup_epochs=0)(0)) == pytest.approx(0.01)
    two = schedules.make_schedule("cosine", 0.01, 100, 10, warmup_epochs=2)
    assert two.warmup_steps == 20 and float(two(9)) == pytest.approx(0.005)
    assert schedules.make_schedule("cosine", 0.01, 100, 10).warmup_steps == 10  # today's: one epoch, <= 10%
    with pytest.raises(EdgeCNNError, match="cosine schedule"):
        schedules.make_schedule("onecycle", 0.01, 100, 10, warmup_epochs=1)
    assert schedules.make_optimizer("adamw", 0.01).weight_decay == pytest.approx(0.02)
    assert not schedules.make_optimizer("adamw", 0.01, 0.0).weight_decay
    assert schedules.make_optimizer("sgd", 0.1, 0.005).weight_decay == pytest.approx(0.005)
    assert schedules.make_optimizer("sgd", 0.1).weight_decay is None

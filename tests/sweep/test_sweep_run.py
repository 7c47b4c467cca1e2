"""End-to-end sweeps on a generated dataset: real training, export, evaluation and benchmark (tiny sizes).

One tiny sweep (2 configs x 2 schemes, 1 epoch) is shared by the session (see conftest.py); tests that change
a sweep folder work on a copy of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.sweep.results import ALL_COLUMNS, COLUMNS, read_results
from edgecnn.sweep.runner import run_sweep

TRIALS = ("mobilenet_v1_a0.25_s32", "squeezenet_1_1_a0.25_s32")


def _rows(out: Path) -> list[dict]:
    return read_results(out)["rows"]


def test_tiny_sweep_writes_every_column(tiny_sweep, sweep_data):
    result = tiny_sweep["result"]
    assert result.exit_code == 0, result.output
    out = tiny_sweep["out"]
    rows = _rows(out)
    assert [(r["arch"], r["scheme"]) for r in rows] == [
        ("mobilenet_v1", "float32"),
        ("mobilenet_v1", "int8"),
        ("squeezenet_1_1", "float32"),
        ("squeezenet_1_1", "int8"),
    ]
    from edgecnn.device.runtime import Classifier
    from edgecnn.training.data import load_arrays

    for row in rows:
        assert set(row) == set(ALL_COLUMNS)
        assert row["error"] == "", row["error"]
        assert row["alpha"] == 0.25 and row["size"] == 32 and row["threads"] == 1
        assert row["params"] > 1000 and row["macs"] > row["params"]
        model = out / row["model"]
        assert model.is_file() and row["file_bytes"] == model.stat().st_size
        assert row["trial_dir"] == f"trials/{row['arch']}_a0.25_s32"
        assert (out / row["trial_dir"] / "run" / "config.json").is_file()
        assert (out / row["trial_dir"] / f"row_{row['scheme']}.json").is_file()
        assert 0.0 <= row["keras_top1"] <= 1.0 and 0.0 <= row["tflite_top1"] <= 1.0
        assert row["delta_top1"] == pytest.approx(row["tflite_top1"] - row["keras_top1"])
        assert row["test_samples"] == 24
        assert 0 < row["latency_ms"] <= row["latency_p90_ms"]
        assert row["train_seconds"] > 0
        # The recorded accuracy is the .tflite's own, on the test split, through the device runtime.
        classifier = Classifier(model)
        x, y, _ = load_arrays(str(sweep_data), classifier.preprocessing, "test")
        assert row["tflite_top1"] == pytest.approx(float(np.mean(classifier.predict_pixels(x).argmax(1) == y)))
    by_key = {(r["arch"], r["scheme"]): r for r in rows}
    for arch in ("mobilenet_v1", "squeezenet_1_1"):
        float32, int8 = by_key[(arch, "float32")], by_key[(arch, "int8")]
        assert float32["keras_top1"] == int8["keras_top1"] and float32["params"] == int8["params"]
        assert int8["file_bytes"] < float32["file_bytes"]
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].split(",") == list(ALL_COLUMNS) and len(csv_lines) == 5
    printed = json.loads(result.stdout)
    assert len(printed["rows"]) == 4 and printed["selected"]["model"].endswith(".tflite")


def test_tiny_sweep_marks_the_pareto_fronts(tiny_sweep):
    out = tiny_sweep["out"]
    rows = _rows(out)
    for front, cost in (("size", "file_bytes"), ("latency", "latency_ms")):
        # The definition, checked pair by pair: no other row at least as cheap and as accurate, better in one.
        expected = [
            not any(
                o[cost] <= r[cost]
                and o["tflite_top1"] >= r["tflite_top1"]
                and (o[cost] < r[cost] or o["tflite_top1"] > r["tflite_top1"])
                for o in rows
            )
            for r in rows
        ]
        assert [r[f"pareto_{front}"] for r in rows] == expected
        assert any(expected)
    report = (out / "report.md").read_text()
    smallest = min(rows, key=lambda r: r["file_bytes"])
    assert "| size" in report and f"{smallest['arch']} | 0.25 | 32 | {smallest['scheme']} |" in report
    assert "edgecnn sweep --data" in report


def test_tiny_sweep_plots_are_valid_pngs(tiny_sweep):
    for name in ("accuracy_vs_size.png", "accuracy_vs_latency.png"):
        path = tiny_sweep["out"] / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = cv2.imread(str(path))
        assert image is not None and min(image.shape[:2]) > 200


def test_sweep_report_rerenders_from_results_json(sweep_copy, tmp_path):
    out = sweep_copy
    before = (out / "report.md").read_text()
    for name in ("report.md", "results.csv", "accuracy_vs_size.png", "accuracy_vs_latency.png"):
        (out / name).unlink()
    result = CliRunner().invoke(app, ["sweep", "report", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("report.md", "results.csv", "accuracy_vs_size.png", "accuracy_vs_latency.png"):
        assert (out / name).is_file()
    table = [line for line in before.splitlines() if line.startswith("|")]
    assert [line for line in (out / "report.md").read_text().splitlines() if line.startswith("|")] == table
    missing = CliRunner().invoke(app, ["sweep", "report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "error: no results.json" in missing.output


def test_select_copies_the_smallest_model_with_card(tiny_sweep, tmp_path):
    out = tiny_sweep["out"]
    rows = _rows(out)
    smallest = min(rows, key=lambda r: r["file_bytes"])
    shipped = Path(
        str(tiny_sweep["selected"]).format(arch=smallest["arch"], alpha="0.25", size=32, scheme=smallest["scheme"])
    )
    assert shipped.read_bytes() == (out / smallest["model"]).read_bytes()
    labels = shipped.with_name(shipped.stem + ".labels.txt").read_text().split()
    assert labels == ["across", "blob", "down"]
    card = shipped.with_suffix(".md").read_text()
    assert "edgecnn sweep --data" in card and "edgecnn sweep select" in card
    assert f"{100 * smallest['tflite_top1']:.2f}%" in card and f"{smallest['file_bytes']:,} bytes" in card
    assert "latency (median / p90)" in card and "Preprocessing" in card and "blob" in card

    fastest = min(rows, key=lambda r: (r["latency_ms"], -r["tflite_top1"]))
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            "select",
            str(out),
            "--min-accuracy",
            "0",
            "--select-by",
            "latency",
            "--select-to",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    chosen = json.loads(result.stdout)
    assert Path(chosen["model"]) == tmp_path / f"{fastest['arch']}_0.25_32_{fastest['scheme']}.tflite"
    too_high = CliRunner().invoke(app, ["sweep", "select", str(out), "--min-accuracy", "1.5", "--to", str(tmp_path)])
    assert too_high.exit_code == 2 and "fraction between 0 and 1" in too_high.output


def test_resume_after_a_kill_recomputes_only_missing_rows(sweep_copy, tiny_config, monkeypatch):
    import edgecnn.training.export
    import edgecnn.training.train

    out = sweep_copy
    kept = {(r["arch"], r["scheme"]): r for r in _rows(out)}
    second = out / "trials" / TRIALS[1]
    for scheme in ("float32", "int8"):
        (second / f"row_{scheme}.json").unlink()
    # Also as if killed after the last epoch, before the trainer's final scoring: the sweep scores, never retrains.
    (second / "train.json").unlink()
    (second / "run" / "metrics.json").unlink()

    real_export, real_train = edgecnn.training.export.export, edgecnn.training.train.train
    calls = {"export": [], "train": 0}

    def killing_export(source, output, **kwargs):
        calls["export"].append(Path(output).name)
        if len(calls["export"]) == 2:
            raise KeyboardInterrupt  # the sweep is killed while exporting the second missing row
        return real_export(source, output, **kwargs)

    def counting_train(*args, **kwargs):
        calls["train"] += 1
        return real_train(*args, **kwargs)

    monkeypatch.setattr(edgecnn.training.export, "export", killing_export)
    monkeypatch.setattr(edgecnn.training.train, "train", counting_train)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny_config(), out, resume=True, progress=False)
    assert calls == {"export": ["model_float32.tflite", "model_int8.tflite"], "train": 0}
    assert (second / "row_float32.json").is_file() and not (second / "row_int8.json").exists()

    calls["export"].clear()
    monkeypatch.setattr(
        edgecnn.training.export,
        "export",
        lambda *a, **k: calls["export"].append(Path(a[1]).name) or real_export(*a, **k),
    )
    rows = run_sweep(tiny_config(), out, resume=True, progress=False)
    assert calls == {"export": ["model_int8.tflite"], "train": 0}
    assert all(r["error"] == "" for r in rows) and len(rows) == 4
    for row in rows:
        if row["arch"] == "mobilenet_v1":  # untouched trial: the very same row
            assert {k: row[k] for k in COLUMNS} == {k: kept[(row["arch"], row["scheme"])][k] for k in COLUMNS}
        else:  # recomputed from the same trained network: same deterministic columns
            old = kept[(row["arch"], row["scheme"])]
            assert (row["params"], row["macs"], row["keras_top1"]) == (old["params"], old["macs"], old["keras_top1"])
    with pytest.raises(EdgeCNNError, match="already holds a sweep"):
        run_sweep(tiny_config(), out, progress=False)


def test_failing_trials_become_error_rows_and_the_sweep_goes_on(sweep_copy, tiny_config):
    out = sweep_copy
    (out / "trials" / TRIALS[1] / "row_int8.json").unlink()
    # Size 16 is below every architecture's minimum input: those trials fail in training; the grid goes on.
    rows = run_sweep(tiny_config(sizes=(16, 32)), out, resume=True, progress=False)
    assert [(r["arch"], r["size"], r["scheme"]) for r in rows][:2] == [
        ("mobilenet_v1", 16, "float32"),
        ("mobilenet_v1", 16, "int8"),
    ]
    failed = [r for r in rows if r["error"]]
    assert len(failed) == 4 and all(r["size"] == 16 for r in failed)
    assert all(r["error"].startswith("train: ") and "16" in r["error"] for r in failed)
    assert all(r["tflite_top1"] is None and not r["pareto_size"] for r in failed)
    assert all(r["error"] == "" for r in rows if r["size"] == 32)
    assert (out / "trials" / TRIALS[1] / "row_int8.json").is_file()
    log = (out / "trials" / "mobilenet_v1_a0.25_s16" / "errors.log").read_text()
    assert log.count("Traceback") == 1  # one training failure per trial, recorded in both rows
    report = (out / "report.md").read_text()
    assert "## Failed" in report and "| mobilenet_v1 | 0.25 | 16 | int8 | train: " in report


def test_config_file_form_and_cli_errors(sweep_data, tmp_path):
    runner = CliRunner()
    config = tmp_path / "sweep.toml"
    out = tmp_path / "from_config"
    config.write_text(
        f'data = "{sweep_data}"\narch = "mobilenet_v1"\nalpha = [0.25]\nsize = [16]\n'
        f'quantize = ["int8"]\nepochs = 5\nout = "{out}"\n'
    )
    result = runner.invoke(app, ["sweep", "--config", str(config), "--epochs", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = read_results(out)
    assert doc["config"]["epochs"] == 1 and doc["config"]["sizes"] == [16]  # the option overrides the file
    assert len(doc["rows"]) == 1 and doc["rows"][0]["error"].startswith("train: ")
    assert "0/1 models ok" in result.stdout

    again = runner.invoke(app, ["sweep", "--config", str(config), "--no-progress"])
    assert again.exit_code == 2 and "error: " in again.output and "already holds a sweep" in again.output
    changed = runner.invoke(app, ["sweep", "--config", str(config), "--resume", "--no-progress"])
    assert changed.exit_code == 2 and "epochs=1 -> 5" in changed.output
    for args, message in (
        (["--select"], "--select needs --min-accuracy"),
        (["--select-to", "x.tflite"], "--select-to needs --select"),
        (["--arch", "resnet"], "unknown architecture 'resnet'"),
        (["--quantize", "int4"], "unknown quantization scheme 'int4'"),
        (["--train-opt", "optimiser=sgd"], "unknown train option 'optimiser'"),
    ):
        bad = runner.invoke(app, ["sweep", "--data", str(sweep_data), "--out", str(tmp_path / "x"), *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert runner.invoke(app, ["sweep", "--data", str(sweep_data)]).exit_code == 2  # no --out


def test_ray_executor_gives_the_same_rows_as_local(tiny_sweep, tiny_config, sweep_data, tmp_path):
    pytest.importorskip("ray")
    local = _rows(tiny_sweep["out"])
    rows = run_sweep(tiny_config(executor="ray", ray_cpus=2), tmp_path / "ray", progress=False)
    assert [r["error"] for r in rows] == [""] * 4
    deterministic = (
        "arch",
        "alpha",
        "size",
        "scheme",
        "params",
        "macs",
        "keras_top1",
        "tflite_top1",
        "test_samples",
        "trial_dir",
        "model",
    )
    assert [{k: r[k] for k in deterministic} for r in rows] == [{k: r[k] for k in deterministic} for r in local]
    from edgecnn.device.runtime import Classifier
    from edgecnn.training.data import load_arrays

    for ray_row, local_row in zip(rows, local, strict=True):
        # The .tflite bytes differ only in the metadata (creation time, paths): sizes agree to a few bytes.
        assert abs(ray_row["file_bytes"] - local_row["file_bytes"]) < 256
        # Training is deterministic (seeded, TF op determinism) across processes: the very same probabilities.
        ray_model = Classifier(tmp_path / "ray" / ray_row["model"])
        local_model = Classifier(tiny_sweep["out"] / local_row["model"])
        x, _, _ = load_arrays(str(sweep_data), ray_model.preprocessing, "test")
        np.testing.assert_array_equal(ray_model.predict_pixels(x), local_model.predict_pixels(x))

"""Sweep logic without training: grid expansion, settings, Pareto fronts, report, plots, selection, resume checks.

Rows here are written by hand (the end-to-end sweep lives in test_sweep_run.py).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from edgecnn.cli._declare import read_command_config
from edgecnn.cli.sweep_cmd import parse_sweep_config
from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.parsing import parse_list
from edgecnn.sweep.config import SweepConfig
from edgecnn.sweep.outputs import rerender, write_outputs
from edgecnn.sweep.pareto import mark_pareto, pareto_indices
from edgecnn.sweep.report import render_report, sort_by_size
from edgecnn.sweep.results import ALL_COLUMNS, COLUMNS, empty_row, read_results, read_row, write_row
from edgecnn.sweep.runner import prepare_folder
from edgecnn.sweep.select import destination_path, select_row


def _row(arch, alpha, scheme, file_bytes, top1, latency, size=32, error=""):
    row = empty_row(arch, alpha, size, scheme)
    row.update(
        params=1000,
        macs=50_000,
        file_bytes=file_bytes,
        keras_top1=0.9,
        tflite_top1=top1,
        delta_top1=None if top1 is None else top1 - 0.9,
        latency_ms=latency,
        latency_p90_ms=None if latency is None else latency * 1.2,
        threads=1,
        test_samples=100,
        train_seconds=10.0,
        error=error,
        trial_dir=f"trials/{arch}_a{alpha:g}_s{size}",
        model=f"trials/{arch}_a{alpha:g}_s{size}/model_{scheme}.tflite",
    )
    return row


@pytest.fixture
def rows():
    # Hand-computed fronts:
    #   size (bytes asc, acc):    A(100, .80) C(150, .85) D(200, .90) F(400, .92); B, E dominated, G failed.
    #   latency (ms asc, acc):    B(1.0, .78) A(2.0, .80) D(2.5, .90) F(3.0, .92); C (4.0, .85) dominated by D.
    return [
        _row("mobilenet_v1", 0.25, "int8", 100, 0.80, 2.0),  # A
        _row("mobilenet_v1", 0.25, "float16", 120, 0.78, 1.0),  # B
        _row("mobilenet_v2", 0.25, "int8", 150, 0.85, 4.0),  # C
        _row("mobilenet_v2", 0.5, "int8", 200, 0.90, 2.5),  # D
        _row("mobilenet_v2", 0.5, "float16", 300, 0.90, 3.5),  # E
        _row("squeezenet_1_1", 1.0, "float32", 400, 0.92, 3.0),  # F
        _row("squeezenet_1_1", 1.0, "int8", None, None, None, error="export: no"),  # G
    ]


def test_grid_expands_in_order_with_trial_names():
    config = SweepConfig(
        data="d", archs=("mobilenet_v1", "squeezenet_1_1"), alphas=(0.25, 1.0), sizes=(32,), schemes=("float32", "int8")
    )
    trials = config.trials()
    assert [t.name for t in trials] == [
        "mobilenet_v1_a0.25_s32",
        "mobilenet_v1_a1_s32",
        "squeezenet_1_1_a0.25_s32",
        "squeezenet_1_1_a1_s32",
    ]
    assert all(t.schemes == ("float32", "int8") for t in trials)
    assert config.num_rows == 8


def test_settings_parse_lists_and_reject_mistakes(tmp_path):
    assert parse_list("0.25, 0.5", float, "alpha") == (0.25, 0.5)
    assert parse_list([32, "64"], int, "size") == (32, 64)
    with pytest.raises(EdgeCNNError, match="empty item"):
        parse_list("32,,64", int, "size")
    with pytest.raises(EdgeCNNError, match="Received '3.5'"):
        parse_list("3.5", int, "size")
    config = parse_sweep_config(
        ["--data", "x", "--arch", "mobilenet_v2", "--alpha", "0.5", "--size", "32", "--quantize", "int8,float16"]
        + ["--batch-size", "16"]
    )
    assert config.schemes == ("int8", "float16") and config.batch_size == 16 and config.alphas == (0.5,)
    with pytest.raises(EdgeCNNError, match="alpha must be > 0. Received alpha=-1"):
        parse_sweep_config(["--data", "x", "--alpha", "-1"])
    with pytest.raises(EdgeCNNError, match="unknown quantization scheme 'int4'"):
        parse_sweep_config(["--data", "x", "--quantize", "int4"])
    (tmp_path / "typo.toml").write_text("epoch = 3\n")
    with pytest.raises(EdgeCNNError, match="unknown option 'epoch'"):
        read_command_config("sweep", tmp_path / "typo.toml")
    with pytest.raises(EdgeCNNError, match="lists a value twice"):
        parse_sweep_config(["--data", "x", "--size", "32,32"])
    with pytest.raises(EdgeCNNError, match="needs --data"):
        parse_sweep_config(["--arch", "mobilenet_v1"])


def test_config_files_toml_and_json(tmp_path):
    toml = tmp_path / "sweep.toml"
    toml.write_text(
        'data = "fashion_mnist"\narch = ["mobilenet_v1"]\nalpha = [0.25, 0.5]\nsize = 32\n'
        'quantize = "float32,int8"\nepochs = 2\nout = "somewhere"\nselect = true\n'
    )
    settings = read_command_config("sweep", toml)
    assert settings["out"] == str(tmp_path / "somewhere") and settings["select"] is True  # relative to the file
    config = parse_sweep_config(["--config", str(toml)])
    assert config.archs == ("mobilenet_v1",) and config.alphas == (0.25, 0.5) and config.sizes == (32,)
    assert config.epochs == 2
    js = tmp_path / "sweep.json"
    js.write_text(json.dumps({"sweep": {"data": "d", "schemes": ["dynamic"], "max_samples": 100}}))
    assert parse_sweep_config(["--config", str(js)]).schemes == ("dynamic",)
    (tmp_path / "bad.toml").write_text("data = ")
    with pytest.raises(EdgeCNNError, match="cannot parse config file"):
        read_command_config("sweep", tmp_path / "bad.toml")
    with pytest.raises(EdgeCNNError, match="not found"):
        read_command_config("sweep", tmp_path / "missing.toml")


def test_train_options_parse_and_refuse_sweep_settings():
    given = ["optimizer=sgd", "augment=false", "label-smoothing=0", "weights=null"]
    config = parse_sweep_config(["--data", "d", *[arg for item in given for arg in ("--train-opt", item)]])
    assert config.train_options == {
        "optimizer": "sgd",
        "augment": False,
        "label_smoothing": 0,
        "weights": None,
    }
    with pytest.raises(EdgeCNNError, match="KEY=VALUE. Received 'augment'"):
        parse_sweep_config(["--data", "d", "--train-opt", "augment"])
    with pytest.raises(EdgeCNNError, match="'epochs' is a sweep setting; set it with --epochs"):
        SweepConfig(data="d", train_options={"epochs": 3})
    config = SweepConfig(data="d", train_options={"augment": False, "optimizer": "sgd"})
    assert "--train-opt augment=false --train-opt optimizer=sgd" in config.command("o")
    assert config.fixed_settings()["train_options"] == {"augment": False, "optimizer": "sgd"}


def test_command_round_trips_the_settings():
    config = SweepConfig(
        data="fashion_mnist",
        archs=("mobilenet_v2",),
        alphas=(0.35,),
        sizes=(32,),
        schemes=("int8",),
        epochs=4,
        max_samples=1000,
    )
    command = config.command("out dir")
    assert command.startswith(
        "edgecnn sweep --data fashion_mnist --arch mobilenet_v2 --alpha 0.35 --size 32 --quantize int8"
    )
    assert "--epochs 4" in command and "--max-samples 1000" in command and "--out 'out dir'" in command
    assert "--batch-size" not in command  # defaults are left out


def test_pareto_indices_match_a_hand_computed_front():
    points = [(1, 0.5), (2, 0.7), (2, 0.6), (3, 0.7), (4, 0.9), (0.5, 0.1), (4, 0.9)]
    assert pareto_indices(points) == [5, 0, 1, 4, 6]
    assert pareto_indices([]) == []


def test_mark_pareto_sets_both_fronts(rows):
    fronts = mark_pareto(rows)
    assert fronts["size"] == [0, 2, 3, 5]
    assert fronts["latency"] == [1, 0, 3, 5]
    assert [r["pareto_size"] for r in rows] == [True, False, True, True, False, True, False]
    assert [r["pareto_latency"] for r in rows] == [True, True, False, True, False, True, False]


def test_report_lists_rows_by_size_with_marks_and_failures(rows):
    mark_pareto(rows)
    text = render_report(
        rows,
        {"config": SweepConfig(data="d").to_dict(), "command": "edgecnn sweep ..."},
        {"size": "accuracy_vs_size.png"},
    )
    table = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and "mobilenet" in line or line.startswith("| ") and "squeezenet" in line
    ]
    ok_lines = [line for line in table if "%" in line]
    assert len(ok_lines) == 6
    sizes = [r["file_bytes"] for r in sort_by_size([r for r in rows if not r["error"]])]
    assert sizes == [100, 120, 150, 200, 300, 400]
    assert ok_lines[0].startswith("| size, latency | mobilenet_v1 | 0.25 | 32 | int8 |")
    assert ok_lines[1].startswith("| latency | mobilenet_v1 | 0.25 | 32 | float16 |")
    assert ok_lines[4].startswith("|  | mobilenet_v2 | 0.5 | 32 | float16 |")
    assert "| squeezenet_1_1 | 1 | 32 | int8 | export: no |" in text
    assert "![accuracy vs size](accuracy_vs_size.png)" in text
    assert "edgecnn sweep ..." in text
    assert "-10.00 pt" in text  # delta of A: 0.80 - 0.90


def test_outputs_csv_json_plots_and_rerender(rows, tmp_path):
    meta = {"config": SweepConfig(data="d").to_dict(), "command": "edgecnn sweep --data d --out x"}
    written = write_outputs(tmp_path, rows, meta)
    for name in ("results_json", "results_csv", "report", "plot_size", "plot_latency"):
        assert written[name].is_file(), name
    for name in ("plot_size", "plot_latency"):
        data = written[name].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        image = cv2.imread(str(written[name]))
        assert image is not None and image.shape[0] > 200 and image.shape[1] > 200
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10  # something was drawn
    doc = read_results(tmp_path)
    assert doc["columns"] == list(ALL_COLUMNS) and len(doc["rows"]) == 7
    assert doc["pareto"]["size"] == [0, 2, 3, 5]
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert csv_lines[0].split(",") == list(ALL_COLUMNS) and len(csv_lines) == 8
    (tmp_path / "report.md").unlink()
    (tmp_path / "accuracy_vs_size.png").unlink()
    rerender(tmp_path)
    assert (tmp_path / "report.md").is_file() and (tmp_path / "accuracy_vs_size.png").is_file()
    with pytest.raises(EdgeCNNError, match="no results.json"):
        rerender(tmp_path / "nothing")


def test_row_markers_round_trip(tmp_path, rows):
    write_row(tmp_path, rows[0])
    assert read_row(tmp_path, "int8") == {k: rows[0][k] for k in COLUMNS}
    assert read_row(tmp_path, "float16") is None
    (tmp_path / "row_float16.json").write_text("{broken")
    assert read_row(tmp_path, "float16") is None


def test_select_row_by_size_and_latency(rows):
    assert select_row(rows, 0.85)["file_bytes"] == 150
    assert select_row(rows, 0.85, "latency")["latency_ms"] == 2.5
    assert select_row(rows, 0.0)["file_bytes"] == 100
    with pytest.raises(EdgeCNNError, match=r"no model reaches min-accuracy 0.95 \(the best reaches 92.00%\)"):
        select_row(rows, 0.95)
    with pytest.raises(EdgeCNNError, match="fraction between 0 and 1"):
        select_row(rows, 90)
    with pytest.raises(EdgeCNNError, match="select-by"):
        select_row(rows, 0.5, "speed")


def test_select_destination_names(rows, tmp_path):
    row = rows[3]
    assert destination_path(row, tmp_path) == tmp_path / "mobilenet_v2_0.5_32_int8.tflite"
    assert (
        destination_path(row, str(tmp_path / "fmnist_{arch}_{alpha}_{size}_{scheme}.tflite"))
        == tmp_path / "fmnist_mobilenet_v2_0.5_32_int8.tflite"
    )
    with pytest.raises(EdgeCNNError, match="select-to may only use"):
        destination_path(row, str(tmp_path / "{bogus}.tflite"))


def test_resume_checks_the_folder_and_fixed_settings(tmp_path):
    config = SweepConfig(data="d", archs=("mobilenet_v1",), alphas=(0.5,), sizes=(32,), epochs=2)
    out = tmp_path / "sweep"
    meta = prepare_folder(config, out, resume=False)
    assert meta["config"]["epochs"] == 2 and (out / "sweep.json").is_file()
    with pytest.raises(EdgeCNNError, match="already holds a sweep; pass --resume"):
        prepare_folder(config, out, resume=False)
    bigger = SweepConfig(data="d", archs=("mobilenet_v1", "mobilenet_v2"), alphas=(0.5,), sizes=(32,), epochs=2)
    prepare_folder(bigger, out, resume=True)  # a wider grid may resume
    changed = SweepConfig(data="d", archs=("mobilenet_v1",), alphas=(0.5,), sizes=(32,), epochs=3)
    with pytest.raises(EdgeCNNError, match=r"different settings \(epochs=2 -> 3\)"):
        prepare_folder(changed, out, resume=True)


def test_ray_is_optional_with_a_one_line_hint(monkeypatch):
    import sys

    from edgecnn.sweep.ray_executor import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra looks like to `import`
    with pytest.raises(EdgeCNNError, match=r"pip install 'edgecnn\[ray\]'"):
        import_ray()

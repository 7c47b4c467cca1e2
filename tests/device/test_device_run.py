"""`edgecnn run` on files and folders with real .tflite models: predictions, JSON lines, outputs and limits."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from device_helpers import COLOUR_SEQUENCE, read_jsonl, write_video
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.device.daemon import run
from edgecnn.device.run_config import RunOptions
from edgecnn.device.runtime import Classifier

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, ["run", *map(str, args)])
    assert result.exit_code == 0, result.stderr
    return result


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("variant", ["float", "int8"])
def test_every_video_frame_in_order_with_the_right_colour(models, colour_video, variant):
    result = _run(models[variant], "--source", colour_video, "--jsonl", "-", "--top-k", "2")
    records = _lines(result.stdout)
    assert [r["frame"] for r in records] == list(range(len(COLOUR_SEQUENCE)))
    assert [r["top_k"][0]["label"] for r in records] == COLOUR_SEQUENCE
    for record in records:
        assert set(record) >= {"time", "timestamp", "frame", "source", "top_k", "ms"}
        assert record["source"] == str(colour_video)
        assert len(record["top_k"]) == 2
        assert record["top_k"][0]["score"] >= record["top_k"][1]["score"]
        assert set(record["ms"]) == {"wait", "preprocess", "invoke", "postprocess", "total"}
        assert record["time"].endswith("Z")
    assert "frames in" in result.stderr and "p99" in result.stderr  # the summary


def test_int8_scores_are_dequantised_probabilities(models, colour_video):
    records = _lines(_run(models["int8"], "--source", colour_video, "--jsonl", "-", "--top-k", "4").stdout)
    for record in records:
        scores = [t["score"] for t in record["top_k"]]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert sum(scores) == pytest.approx(1.0, abs=0.03)


def test_uint8_model_gets_prepared_pixels_without_a_float_round_trip(models):
    classifier = Classifier(models["int8"])
    pixels = classifier.prepare(np.full((48, 64, 3), 200, np.uint8))
    model_input = classifier.to_input(pixels)
    assert model_input.dtype == np.uint8
    assert model_input is pixels


def test_image_folder_in_name_order_skipping_non_images(models, image_dir):
    records = _lines(_run(models["float"], "--source", image_dir, "--jsonl", "-").stdout)
    assert [r["file"] for r in records] == ["00_blue.jpg", "01_dark.png", "02_green.jpg", "03_red.png"]
    assert [r["top_k"][0]["label"] for r in records] == ["blue", "dark", "green", "red"]


def test_single_image_file_is_a_source(models, image_dir):
    records = _lines(_run(models["int8"], "--source", image_dir / "03_red.png", "--jsonl", "-").stdout)
    assert [r["top_k"][0]["label"] for r in records] == ["red"]


def test_plain_model_with_labels_mean_std(models, colour_video):
    args = [
        models["plain"],
        "--source",
        colour_video,
        "--jsonl",
        "-",
        "--labels",
        models["labels"],
        "--mean",
        "127.5",
        "--std",
        "127.5",
    ]
    records = _lines(_run(*args).stdout)
    assert [r["top_k"][0]["label"] for r in records] == COLOUR_SEQUENCE
    # --bgr feeds the channels the other way round: red frames look blue and blue ones red.
    swapped = _lines(_run(*args, "--bgr").stdout)
    expected = [{"red": "blue", "blue": "red"}.get(c, c) for c in COLOUR_SEQUENCE]
    assert [r["top_k"][0]["label"] for r in swapped] == expected


def test_per_channel_mean_std_and_crop(models, image_dir):
    args = [
        models["plain"],
        "--source",
        image_dir,
        "--jsonl",
        "-",
        "--labels",
        models["labels"],
        "--mean",
        "127.5,127.5,127.5",
        "--std",
        "127.5,127.5,127.5",
        "--resize-mode",
        "crop",
    ]
    assert [r["top_k"][0]["label"] for r in _lines(_run(*args).stdout)] == ["blue", "dark", "green", "red"]


def test_labels_file_overrides_embedded_labels(models, colour_video, tmp_path):
    labels = tmp_path / "names.txt"
    labels.write_text("rouge\nvert\nbleu\nsombre\n\n")
    records = _lines(_run(models["int8"], "--source", colour_video, "--jsonl", "-", "--labels", labels).stdout)
    assert records[0]["top_k"][0]["label"] == "rouge"


def test_threshold_and_top_k(models, colour_video):
    records = _lines(
        _run(models["float"], "--source", colour_video, "--jsonl", "-", "--top-k", "3", "--threshold", "0.5").stdout
    )
    assert all(len(r["top_k"]) == 1 and r["top_k"][0]["score"] >= 0.5 for r in records)
    records = _lines(_run(models["float"], "--source", colour_video, "--jsonl", "-", "--threshold", "1.0").stdout)
    assert all(r["top_k"] == [] for r in records[:8])  # no red frame reaches 1.0


def test_smoothing_lags_behind_a_colour_change(models, colour_video):
    plain = _lines(_run(models["float"], "--source", colour_video, "--jsonl", "-", "--top-k", "4").stdout)
    smooth = _lines(
        _run(models["float"], "--source", colour_video, "--jsonl", "-", "--top-k", "4", "--smooth", "0.3").stdout
    )

    def score(record, label):
        return next(t["score"] for t in record["top_k"] if t["label"] == label)

    # Frame 8 is the first green one: raw scores switch at once, the EMA is 0.3 * new + 0.7 * old.
    assert plain[8]["top_k"][0]["label"] == "green"
    assert smooth[8]["top_k"][0]["label"] == "red"
    expected = 0.3 * score(plain[8], "green") + 0.7 * score(smooth[7], "green")
    assert score(smooth[8], "green") == pytest.approx(expected, abs=2e-5)
    assert smooth[15]["top_k"][0]["label"] == "green"


def test_max_frames_duration_and_loop(models, colour_video):
    records = _lines(_run(models["int8"], "--source", colour_video, "--jsonl", "-", "--max-frames", "5").stdout)
    assert len(records) == 5
    looped = _lines(
        _run(models["int8"], "--source", colour_video, "--jsonl", "-", "--loop", "--max-frames", "70").stdout
    )
    assert [r["frame"] for r in looped] == list(range(70))
    assert [r["top_k"][0]["label"] for r in looped[30:60]] == COLOUR_SEQUENCE
    timed = runner.invoke(
        app,
        [
            "run",
            str(models["int8"]),
            "--source",
            str(colour_video),
            "--loop",
            "--realtime",
            "--duration",
            "0.5",
            "--json",
        ],
    )
    assert timed.exit_code == 0, timed.stderr
    summary = json.loads(timed.stdout)
    assert summary["stopped_by"] == "duration"
    assert 0.4 <= summary["elapsed_s"] < 5


def test_realtime_file_plays_at_its_frame_rate_and_ends(models, tmp_path):
    video = write_video(tmp_path / "fast.avi", fps=100.0)
    result = runner.invoke(app, ["run", str(models["int8"]), "--source", str(video), "--realtime", "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["stopped_by"] == "end of source"
    assert 1 <= summary["frames"] <= len(COLOUR_SEQUENCE)
    assert summary["frames"] + summary["dropped"] <= len(COLOUR_SEQUENCE)


def test_json_summary(models, colour_video):
    result = _run(models["int8"], "--source", colour_video, "--json", "--threads", "1")
    summary = json.loads(result.stdout)
    assert summary["frames"] == len(COLOUR_SEQUENCE)
    assert summary["backend"] == "ai_edge_litert"
    assert summary["threads"] == 1
    assert summary["stopped_by"] == "end of source"
    for stage in ("wait", "preprocess", "invoke", "postprocess", "total"):
        stats = summary["stages"][stage]
        assert stats["count"] == len(COLOUR_SEQUENCE)
        assert 0 <= stats["min_ms"] <= stats["median_ms"] <= stats["p90_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert "interpreter ai_edge_litert" in result.stderr


def test_jsonl_file_is_appended_and_complete(models, colour_video, tmp_path):
    out = tmp_path / "logs" / "preds.jsonl"
    _run(models["int8"], "--source", colour_video, "--jsonl", out, "--max-frames", "4")
    _run(models["int8"], "--source", colour_video, "--jsonl", out, "--max-frames", "3")
    assert [r["frame"] for r in read_jsonl(out)] == [0, 1, 2, 3, 0, 1, 2]


def test_save_video_writes_the_annotated_frames(models, colour_video, tmp_path):
    out = tmp_path / "annotated.avi"
    _run(models["int8"], "--source", colour_video, "--save-video", out)
    capture = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == len(COLOUR_SEQUENCE)
    assert frames[0].shape == (120, 160, 3)
    # The overlay darkened the top-left box and wrote white text into it; the bottom right is still red.
    assert frames[0][110:, 150:, 2].mean() > 200
    box = frames[0][:20, :60]
    assert box.max() > 200 and np.median(box[..., 2]) < 120
    assert not list(tmp_path.glob(".annotated*"))  # no temporary file left behind


def test_run_function_with_a_stop_event(models, colour_video):
    import threading

    stop = threading.Event()
    started = []
    summary = run(
        RunOptions(model=str(models["int8"]), source=str(colour_video), loop=True, realtime=True),
        stop=stop,
        on_start=lambda info: (started.append(info), stop.set()),
    )
    assert started and started[0]["backend"] == "ai_edge_litert"
    assert summary["stopped_by"] == "stop request"


def test_interpreter_falls_back_to_tensorflow_lite(models, monkeypatch, colour_video):
    """Without ai_edge_litert and tflite_runtime the classifier runs on tf.lite, with the same scores."""
    import importlib.util
    import sys

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed (a device-only install): no tf.lite fallback to test")

    import cv2

    from edgecnn.device.runtime import load_interpreter_class

    frame = cv2.VideoCapture(str(colour_video)).read()[1]
    expected = Classifier(models["int8"]).classify(frame)
    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, name, None)
    assert load_interpreter_class()[1] == "tensorflow"
    fallback = Classifier(models["int8"])
    assert fallback.backend == "tensorflow"
    np.testing.assert_allclose(fallback.classify(frame), expected, atol=1 / 256 + 1e-6)


@pytest.mark.parametrize("quiet", [[], ["run", "--quiet"], ["-q", "run"]], ids=["loud", "run --quiet", "-q run"])
def test_log_lines_go_to_stderr_and_quiet_keeps_them_out(models, colour_video, quiet):
    args = [*(quiet or ["run"]), str(models["int8"]), "--source", str(colour_video), "--jsonl", "-"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert [r["frame"] for r in _lines(result.stdout)] == list(range(len(COLOUR_SEQUENCE)))  # stdout: JSON lines
    log_lines = [line for line in result.stderr.splitlines() if line.startswith("edgecnn: ")]
    if quiet:
        assert log_lines == []
    else:
        assert any("interpreter ai_edge_litert" in line for line in log_lines), result.stderr
    assert "frames in" in result.stderr  # the summary is the command's output, printed either way

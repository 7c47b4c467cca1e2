"""`edgecnn bench` and :func:`edgecnn.device.bench.benchmark` on real tiny models."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.device.bench import BenchResult, benchmark, synthetic_frames

runner = CliRunner()


def test_benchmark_one_row_per_thread_count(models):
    seen = []
    results = benchmark(models["int8"], threads=(1, 2), runs=20, warmup=3, on_result=seen.append)
    assert [r.threads for r in results] == [1, 2]
    assert seen == results
    for result in results:
        assert isinstance(result, BenchResult)
        s = result.latency
        assert s["count"] == 20
        assert 0 < s["min_ms"] <= s["median_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"]
        assert s["min_ms"] <= s["mean_ms"] <= s["max_ms"] and s["std_ms"] >= 0
        assert result.init_ms > 0 and result.first_ms > 0 and result.warmup_mean_ms > 0
        assert result.peak_rss_mb >= result.rss_mb * 0.99 > 10
        assert result.input == "32x32x3 uint8" and result.backend == "ai_edge_litert"
        assert result.pipeline is None


def test_benchmark_pipeline_beside_raw_invoke(models):
    (result,) = benchmark(models["float"], threads=(1,), runs=15, warmup=2, pipeline=True)
    p = result.pipeline
    assert p["frame"] == "640x480"
    assert p["latency"]["count"] == 15
    assert set(p["stages"]) == {"preprocess", "invoke", "postprocess"}
    assert p["latency"]["mean_ms"] == pytest.approx(sum(p["stages"].values()), rel=1e-6)
    assert p["overhead"] == pytest.approx(p["latency"]["mean_ms"] / result.latency["mean_ms"], rel=1e-6)


def test_benchmark_pipeline_times_the_daemons_frame_pipeline(models, monkeypatch):
    """The pipeline figures are FramePipeline.process's own timings, the code `edgecnn run` runs per frame."""
    from edgecnn.device.pipeline import FramePipeline

    seen = []
    process = FramePipeline.process

    def spy(self, frame, wait_s=0.0):
        prediction = process(self, frame, wait_s)
        seen.append((frame.image.shape, self.k, prediction.timings))
        return prediction

    monkeypatch.setattr(FramePipeline, "process", spy)
    (result,) = benchmark(models["int8"], runs=6, warmup=0, pipeline=True, k=2, frame_size=(320, 240))
    assert [(shape, k) for shape, k, _ in seen] == [((240, 320, 3), 2)] * 6
    for stage in ("preprocess", "invoke", "postprocess"):
        mean_ms = sum(timings[stage] for _, _, timings in seen) / 6 * 1e3
        assert result.pipeline["stages"][stage] == pytest.approx(mean_ms, rel=1e-9)


def test_benchmark_plain_model_without_metadata(models):
    (result,) = benchmark(models["plain"], threads=(1,), runs=5, warmup=0, pipeline=True)
    assert result.input == "32x32x3 float32" and result.warmup_mean_ms == 0.0


def test_synthetic_frames_are_deterministic_camera_like():
    a, b = synthetic_frames(count=2), synthetic_frames(count=2)
    assert a[0].shape == (480, 640, 3) and a[0].dtype.name == "uint8"
    assert (a[0] == b[0]).all() and not (a[0] == a[1]).all()
    assert a[0].std() > 20


def test_bench_cli_table_and_json(models):
    result = runner.invoke(
        app, ["bench", str(models["int8"]), "--threads", "1,2", "--runs", "5", "--warmup", "1", "--pipeline"]
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "interpreter ai_edge_litert" in lines[0]
    assert any(line.split()[:1] == ["1"] for line in lines) and any(line.split()[:1] == ["2"] for line in lines)
    assert "overhead" in result.stdout and "threads 2: mean" in result.stderr

    result = runner.invoke(app, ["bench", str(models["int8"]), "--runs", "4", "--warmup", "0", "--json"])
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["threads"] == 1 and row["latency"]["count"] == 4 and row["pipeline"] is None

    result = runner.invoke(
        app, ["bench", str(models["int8"]), "--runs", "3", "--pipeline", "--frame", "320x240", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["pipeline"]["frame"] == "320x240"


def test_device_commands_print_no_litert_chatter(models):
    """LiteRT prints ``INFO: Created TensorFlow Lite XNNPACK delegate`` once per process, on fd 2; we keep it out."""
    import subprocess
    import sys

    code = "from edgecnn.device.bench import benchmark; import sys; benchmark(sys.argv[1], runs=2, warmup=1)"
    done = subprocess.run([sys.executable, "-c", code, str(models["int8"])], capture_output=True, text=True, check=True)
    assert "XNNPACK" not in done.stderr and "INFO" not in done.stderr, done.stderr

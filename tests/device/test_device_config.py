"""`--config FILE` (JSON or TOML) for `edgecnn run`: parsing, validation, relative paths, CLI overrides.

The file is read by the one loader (edgecnn.core.config) against `run`'s own declaration; the rules shared with
`edgecnn sweep` are tested in tests/core/test_core_config.py.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.cli._declare import read_command_config
from edgecnn.cli.run_cmd import parse_run_options
from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.run_config import RunOptions

runner = CliRunner()


def test_toml_config_with_relative_paths(tmp_path, colour_video):
    (tmp_path / "m.tflite").write_bytes(b"x")
    config = tmp_path / "edgecnn.toml"
    config.write_text(
        f'model = "m.tflite"\nsource = "{colour_video.name}"\ntop-k = 2\nsmooth = 0.5\n'
        'jsonl = "out/preds.jsonl"\nrealtime = true\nmean = [1, 2, 3]\n'
    )
    values = read_command_config("run", config)
    assert values == {
        "model": str(tmp_path / "m.tflite"),
        "source": str(colour_video),
        "top_k": 2,
        "smooth": 0.5,
        "jsonl": str(tmp_path / "out/preds.jsonl"),
        "realtime": True,
        "mean": [1.0, 2.0, 3.0],
    }


def test_json_config_and_run_table(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"run": {"source": "2", "threshold": 0.25, "jsonl": "-"}}))
    assert read_command_config("run", config) == {"source": "2", "threshold": 0.25, "jsonl": "-"}


def test_command_line_overrides_the_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('model = "/m.tflite"\ntop_k = 2\nthreads = 2\ndisplay = false\n')
    options = parse_run_options(["--config", str(config), "--top-k", "5", "--mean", "127.5"])
    assert options == RunOptions(model="/m.tflite", top_k=5, threads=2, mean=[127.5])


@pytest.mark.parametrize(
    "text, message",
    [
        ("tok_k = 3\n", "unknown option 'tok_k'"),
        ('top_k = "three"\n', "top_k must be int"),
        ("top_k = 2.5\n", "top_k must be int"),
        ('realtime = "yes"\n', "realtime must be bool"),
        ("threshold = true\n", "threshold must be float"),
        ("source = [1, 2]\n", "source must be str"),
        ("model = \n", "cannot parse config file"),
    ],
)
def test_bad_config_files(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(EdgeCNNError, match=message):
        read_command_config("run", config)


def test_missing_config_file(tmp_path):
    with pytest.raises(EdgeCNNError, match="config file not found"):
        read_command_config("run", tmp_path / "none.toml")


def test_run_with_config_file_and_override(models, colour_video, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        f'model = "{models["int8"]}"\nsource = "{colour_video}"\nmax_frames = 3\njsonl = "-"\ntop_k = 1\n'
    )
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3 and all(len(r["top_k"]) == 1 for r in records)

    result = runner.invoke(app, ["run", "--config", str(config), "--max-frames", "5", "--top-k", "3"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5 and all(len(r["top_k"]) == 3 for r in records)

    config.write_text(config.read_text() + "bogus = 1\n")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2 and "unknown option 'bogus'" in result.stderr

"""``edgecnn models`` and ``edgecnn info``: output, JSON values, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.training.zoo import list_models

runner = CliRunner()


def test_models_table_lists_every_architecture_with_defaults():
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    for name in list_models():
        assert name in result.stdout
    line = next(row for row in result.stdout.splitlines() if row.startswith("squeezenet_1_1"))
    assert line.split()[1:6] == ["224", "1", "0.5", "no", "32"]
    assert "--no-separable" in result.stdout and "SqueezeNet default off" in result.stdout


def test_models_json_and_pattern():
    result = runner.invoke(app, ["models", "mobilenet_v3*", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["mobilenet_v3_large", "mobilenet_v3_small"]
    assert rows[0]["default_separable"] is True and rows[0]["min_size"] == 32
    assert rows[0]["normalization"]["mean"] == 127.5


def test_models_pattern_without_match_is_an_error():
    result = runner.invoke(app, ["models", "efficientnet*"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no architecture matches 'efficientnet*'"


def test_info_json_mobilenet_v1_matches_keras_and_paper():
    result = runner.invoke(app, ["info", "mobilenet_v1", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["arch"] == "mobilenet_v1" and info["alpha"] == 1.0 and info["size"] == 224
    assert info["channels"] == 3 and info["classes"] == 1000 and info["separable"] is True
    assert info["params"] == 4_253_864  # keras.applications.MobileNet(weights=None).count_params()
    assert abs(info["macs"] / 569e6 - 1) < 0.03  # MobileNet paper, Table 4
    assert info["sizes_are_estimates"] is True
    assert info["est_int8_bytes"] < info["est_float32_bytes"]
    assert "layers" not in info


def test_info_options_and_layers():
    args = [
        "info",
        "squeezenet_1_1",
        "--alpha",
        "0.5",
        "--size",
        "48x64",
        "--channels",
        "1",
        "--classes",
        "10",
        "--separable",
        "--layers",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    # --size is WIDTHxHEIGHT; the JSON's "size" stays [height, width] (as in 0.1.0), with named axes beside it
    assert info["size"] == [64, 48] and info["width"] == 48 and info["height"] == 64
    assert info["channels"] == 1 and info["separable"] is True
    names = [row["name"] for row in info["layers"]]
    assert "fire2_expand3x3_dw" in names and names[-1] == "predictions"
    assert sum(row["params"] for row in info["layers"]) == info["params"]
    assert sum(row["macs"] for row in info["layers"]) == info["macs"]


def test_info_text_and_no_separable():
    result = runner.invoke(
        app, ["info", "mobilenet_v1", "--size", "64", "--classes", "10", "--no-separable", "--layers"]
    )
    assert result.exit_code == 0, result.output
    assert "separable=no" in result.stdout and "(estimated)" in result.stdout
    assert "conv_13_bn" in result.stdout and "MACs" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "mobilenet_v4"], "unknown architecture 'mobilenet_v4'; did you mean 'mobilenet_v"),
        (["info", "mobilenet_v2", "--alpha", "-1"], "alpha must be a number > 0. Received alpha=-1"),
        (["info", "mobilenet_v2", "--alpha", "0"], "alpha must be a number > 0"),
        (["info", "mobilenet_v2", "--size", "16"], "size must be at least 32x32 for mobilenet_v2"),
        (["info", "mobilenet_v2", "--size", "abc"], "--size expects WIDTHxHEIGHT"),
        (["info", "squeezenet_1_0", "--channels", "2"], "channels must be 1 (grayscale) or 3 (color)"),
        (["info", "mobilenet_v3_small", "--classes", "1"], "classes must be an integer >= 2"),
    ],
)
def test_info_bad_input_is_one_line_exit_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_info_errors_before_importing_tensorflow():
    code = (
        "import sys\n"
        "from edgecnn.cli import app\n"
        "try:\n"
        "    app(['info', 'mobilenet_v2', '--size', '8'], prog_name='edgecnn')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print('exit', code, 'tf', 'tensorflow' in sys.modules, 'keras', 'keras' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "exit 2 tf False keras False", result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr

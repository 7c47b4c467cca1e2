"""The one config loader (edgecnn.core.config): its rules on their own, then as `run` and `sweep` use them."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.cli._app import cli_message
from edgecnn.cli._declare import app_command, read_command_config
from edgecnn.cli.run_cmd import parse_run_options
from edgecnn.cli.service_cmd import check_run_args
from edgecnn.cli.sweep_cmd import parse_sweep_config
from edgecnn.core.config import PATH, PATH_OR_NAME, ConfigKey, load_config
from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.run_config import RunOptions
from edgecnn.sweep.config import SweepConfig

KEYS = [
    ConfigKey("top_k", int, spellings=("top_k",)),
    ConfigKey("threshold", float, spellings=("threshold",)),
    ConfigKey("loop", bool, spellings=("loop",)),
    ConfigKey("source", str, path=PATH_OR_NAME, spellings=("source",)),
    ConfigKey("model", str, path=PATH, spellings=("model",)),
    ConfigKey("archs", list, item=str, spellings=("arch",)),
    ConfigKey("sizes", list, item=int, spellings=("size",)),
    ConfigKey("train_options", dict, spellings=("train_opt",)),
]


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_toml_flat_with_dashes_spellings_and_relative_paths(tmp_path):
    (tmp_path / "conf" / "clip.avi").parent.mkdir()
    (tmp_path / "conf" / "clip.avi").write_bytes(b"")
    config = _write(
        tmp_path / "conf" / "a.toml",
        'top-k = 2\nloop = true\nsource = "clip.avi"\nmodel = "m/x.tflite"\narch = "a,b"\nsizes = [32, 64]\n'
        'threshold = 1\n[train_options]\noptimizer = "sgd"\n',
    )
    assert load_config(config, "run", KEYS) == {
        "top_k": 2,
        "loop": True,
        "source": str(tmp_path / "conf" / "clip.avi"),  # exists next to the file: a path
        "model": str(tmp_path / "conf" / "m" / "x.tflite"),  # always a path
        "archs": ["a", "b"],
        "sizes": [32, 64],
        "threshold": 1.0,
        "train_options": {"optimizer": "sgd"},
    }


def test_json_and_the_command_table_and_names_that_are_not_paths(tmp_path):
    config = _write(tmp_path / "b.json", json.dumps({"sweep": {"source": "0", "model": "-", "size": 32}}))
    assert load_config(config, "sweep", KEYS) == {"source": "0", "model": "-", "sizes": [32]}
    absolute = _write(tmp_path / "c.conf", f'model = "{tmp_path / "abs.tflite"}"\n')  # any other suffix: TOML
    assert load_config(absolute, "run", KEYS) == {"model": str(tmp_path / "abs.tflite")}


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "tok_k = 3\n",
            "unknown option 'tok_k' in config file .*; known: top_k, threshold, loop, source, model, "
            "arch/archs, size/sizes, train_opt/train_options$",
        ),
        ("top_k = 2\ntop-k = 3\n", "sets top_k twice"),
        ('top_k = "3"\n', "top_k must be int. Received top_k='3'"),
        ("top_k = 2.5\n", "top_k must be int"),
        ('loop = "yes"\n', "loop must be bool"),
        ("threshold = true\n", "threshold must be float"),
        ("source = [1, 2]\n", "source must be str"),
        ("sizes = [32, 3.5]\n", "sizes expects integers separated by commas. Received '3.5'"),
        ("train_options = 3\n", "train_options must be a table"),
        ("top_k = 2\n[run]\nloop = true\n", r"has a \[run\] table and top-level keys \(top_k\)"),
        ("model = \n", "cannot parse config file"),
    ],
)
def test_mistakes_are_one_line_errors(tmp_path, text, message):
    config = _write(tmp_path / "bad.toml", text)
    with pytest.raises(EdgeCNNError, match=message) as info:
        load_config(config, "run", KEYS)
    assert "\n" not in str(info.value)


def test_missing_and_non_table_files(tmp_path):
    with pytest.raises(EdgeCNNError, match="config file not found"):
        load_config(tmp_path / "none.toml", "run", KEYS)
    with pytest.raises(EdgeCNNError, match="must hold a table of options, got list"):
        load_config(_write(tmp_path / "list.json", "[1, 2]"), "run", KEYS)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_run_and_sweep_read_files_by_the_same_rules(tmp_path, command):
    """One file shape for both commands: [command] table, dashed keys, paths relative to the file, same errors."""
    (tmp_path / "cfg" / "data").mkdir(parents=True)
    option = {"run": ("source", "data"), "sweep": ("data", "data")}[command]
    config = _write(tmp_path / "cfg" / f"{command}.toml", f'[{command}]\n{option[0]} = "{option[1]}"\nthreads = 2\n')
    values = read_command_config(command, config)
    assert values == {option[0]: str(tmp_path / "cfg" / "data"), "threads": 2}
    mistakes = (("max-frame = 1\n", "unknown option 'max-frame'"), ('threads = "two"\n', "threads must be int"))
    for text, message in mistakes:
        _write(config, text)
        with pytest.raises(EdgeCNNError, match=message):
            read_command_config(command, config)


def test_the_flag_overrides_the_file(tmp_path):
    run_file = _write(tmp_path / "run.toml", 'model = "m.tflite"\ntop_k = 2\nsmooth = 0.5\nmean = [1, 2, 3]\n')
    options = parse_run_options(["--config", str(run_file), "--top-k", "5", "--mean", "127.5"])
    assert options == RunOptions(model=str(tmp_path / "m.tflite"), top_k=5, smooth=0.5, mean=[127.5])

    sweep_file = _write(
        tmp_path / "sweep.toml",
        'data = "fashion_mnist"\nepochs = 5\nalpha = [0.25, 0.5]\n'
        '[train_options]\noptimizer = "sgd"\naugment = false\n',
    )
    config = parse_sweep_config(["--config", str(sweep_file), "--epochs", "1", "--train-opt", "augment=true"])
    assert config.epochs == 1 and config.alphas == (0.25, 0.5) and config.data == "fashion_mnist"
    assert config.train_options == {"optimizer": "sgd", "augment": True}  # merged key by key


def test_the_commands_take_their_defaults_from_the_library_containers():
    assert parse_run_options(["m.tflite"]) == RunOptions(model="m.tflite")
    assert parse_sweep_config(["--data", "d"]) == SweepConfig(data="d")
    for command, container in (("run", RunOptions), ("sweep", SweepConfig)):
        declared = {param.name for param in app_command(command).params}
        assert {f.name for f in dataclasses.fields(container)} <= declared, command


def test_library_errors_name_parameters_and_the_cli_shows_flags():
    with pytest.raises(EdgeCNNError) as info:
        RunOptions(model="m.tflite", threads=0).validate()
    assert str(info.value) == "threads must be >= 1. Received threads=0" and info.value.params == ("threads",)
    run = app_command("run")
    assert cli_message(info.value, run) == "--threads must be >= 1. Received threads=0"
    both = EdgeCNNError("json and jsonl '-' both write to stdout; give jsonl a file", param=("json", "jsonl"))
    assert cli_message(both, run) == "--json and --jsonl '-' both write to stdout; give --jsonl a file"
    in_a_path = EdgeCNNError("cannot read /tmp/model/labels.txt for model", param="model")  # an argument: no flag
    assert cli_message(in_a_path, run) == str(in_a_path)
    grid = EdgeCNNError("the sweep grid needs at least one value for archs", param="archs")
    assert cli_message(grid, app_command("sweep")) == "the sweep grid needs at least one value for --arch"
    with pytest.raises(EdgeCNNError, match="^--batch-size must be >= 1. Received batch_size=0$"):
        parse_sweep_config(["--data", "d", "--batch-size", "0"])


def test_service_install_checks_run_options_with_runs_own_parser(tmp_path):
    with pytest.raises(EdgeCNNError, match="unknown `edgecnn run` option '--top-kk'"):
        check_run_args(["--top-kk", "3"], tmp_path)
    # What the hand-written parser let through, run's parser refuses:
    with pytest.raises(EdgeCNNError, match="`edgecnn run`: .*'--threads'"):
        check_run_args(["--threads", "many"], tmp_path)
    with pytest.raises(EdgeCNNError, match="^--top-k must be >= 1. Received top_k=0$"):
        check_run_args(["-k", "0"], tmp_path)
    _write(tmp_path / "typo.toml", "tok_k = 3\n")
    with pytest.raises(EdgeCNNError, match="unknown option 'tok_k' in config file"):
        check_run_args(["--config", "typo.toml"], tmp_path)
    _write(tmp_path / "screen.toml", "display = true\n")
    with pytest.raises(EdgeCNNError, match="--display cannot work in a service"):
        check_run_args(["--config", "screen.toml"], tmp_path)
    assert check_run_args(["-s0", "--labels=screen.toml"], tmp_path) == [
        "-s",
        "0",
        "--labels",
        str(tmp_path / "screen.toml"),
    ]


def test_service_install_command_refuses_an_unknown_run_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.tflite").write_bytes(b"x")
    result = CliRunner().invoke(app, ["service", "install", "m.tflite", "--top-kk", "3", "--print"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: unknown `edgecnn run` option '--top-kk' (see edgecnn run --help)"
    ]
    result = CliRunner().invoke(app, ["service", "install", "m.tflite", "--restart-sec", "-1", "--print"])
    assert result.exit_code == 2 and "error: --restart-sec must be >= 0. Received restart_sec=-1" in result.stderr

"""`edgecnn service install`: the systemd unit's contents (we never call systemctl)."""

from __future__ import annotations

import os
import shlex

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.cli.service_cmd import check_run_args
from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.service import install, systemd_quote

runner = CliRunner()


def _unit_fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            fields[key] = value
    return fields


def test_print_unit(models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text("top_k = 2\n")
    result = runner.invoke(
        app,
        [
            "service",
            "install",
            str(models["int8"]),
            "--source",
            "/dev/video0",
            "--http",
            "127.0.0.1:8080",
            "--jsonl",
            "my preds.jsonl",
            "--smooth",
            "0.3",
            "--config",
            "run.toml",
            "--wait-for-source",
            "--user",
            "pi",
            "--print",
        ],
    )
    assert result.exit_code == 0, result.stderr
    unit = result.stdout
    fields = _unit_fields(unit)
    assert unit.startswith("[Unit]\n") and "[Service]" in unit and "[Install]" in unit
    assert fields["User"] == "pi"
    assert fields["WorkingDirectory"] == str(tmp_path)
    assert fields["Restart"] == "on-failure"
    assert int(fields["RestartSec"]) == 5
    assert fields["WantedBy"] == "multi-user.target"
    argv = shlex.split(fields["ExecStart"])
    assert argv[0].startswith("/") and argv[0].endswith("edgecnn")
    assert argv[1:3] == ["run", str(models["int8"].resolve())]
    assert argv[3:] == [
        "--source",
        "/dev/video0",
        "--http",
        "127.0.0.1:8080",
        "--jsonl",
        "my preds.jsonl",
        "--smooth",
        "0.3",
        "--config",
        str(tmp_path / "run.toml"),
        "--wait-for-source",
    ]
    assert "sudo systemctl daemon-reload && sudo systemctl enable --now edgecnn.service" in result.stderr


def test_write_unit_to_output(models, tmp_path):
    out = tmp_path / "units" / "cam1.service"
    result = runner.invoke(
        app,
        [
            "service",
            "install",
            str(models["int8"]),
            "--output",
            str(out),
            "--name",
            "cam1",
            "--working-dir",
            str(tmp_path),
            "--restart-sec",
            "3",
        ],
    )
    assert result.exit_code == 0, result.stderr
    fields = _unit_fields(out.read_text())
    assert fields["RestartSec"] == "3" and fields["WorkingDirectory"] == str(tmp_path)
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert f"sudo cp {out} /etc/systemd/system/cam1.service" in result.stderr
    assert "enable --now cam1.service" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_default_output_needs_root(models, monkeypatch, tmp_path):
    import edgecnn.device.service as service

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setattr(service, "UNIT_DIR", locked)
    try:
        with pytest.raises(EdgeCNNError, match="permission denied; run with sudo"):
            install(models["int8"])
    finally:
        locked.chmod(0o700)


def test_default_output_is_the_systemd_directory(models, monkeypatch, tmp_path):
    import edgecnn.device.service as service

    monkeypatch.setattr(service, "UNIT_DIR", tmp_path)
    unit = install(models["int8"], ["--source", "0"], user="camera")
    assert unit.path == tmp_path / "edgecnn.service"
    assert "User=camera" in unit.path.read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus"], "unknown `edgecnn run` option '--bogus'"),
        (["--display"], "--display cannot work in a service"),
        (["--source"], "option --source needs a value"),
        (["--loop=yes"], "takes no value"),
        (["--config", "missing.toml"], "--config file not found"),
    ],
)
def test_bad_run_options(models, args, message, tmp_path):
    result = runner.invoke(app, ["service", "install", str(models["int8"]), *args, "--print"])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_model_and_conflicting_outputs(tmp_path, models):
    result = runner.invoke(app, ["service", "install", str(tmp_path / "none.tflite"), "--print"])
    assert result.exit_code == 2 and "model file not found" in result.stderr
    result = runner.invoke(app, ["service", "install", str(models["int8"]), "--print", "--output", "x.service"])
    assert result.exit_code == 2 and "not both" in result.stderr


def test_systemd_quoting():
    assert systemd_quote("/usr/bin/edgecnn") == "/usr/bin/edgecnn"
    assert systemd_quote("a b") == '"a b"'
    assert systemd_quote("50%") == "50%%"
    assert systemd_quote("$HOME") == "$$HOME"
    assert systemd_quote('say "hi"') == '"say \\"hi\\""'


def test_check_run_args_accepts_every_run_flag(tmp_path):
    args = ["--source=0", "-k", "2", "--threshold", "0.1", "--no-realtime", "--max-frames", "10", "-q"]
    assert check_run_args(args, tmp_path) == [
        "--source",
        "0",
        "-k",
        "2",
        "--threshold",
        "0.1",
        "--no-realtime",
        "--max-frames",
        "10",
        "-q",
    ]

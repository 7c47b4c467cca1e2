"""The one logging set-up: ``edgecnn: ...`` lines on stderr for every command, ``--quiet``/``--verbose``, echo."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.logs import LOGGER, configure_logging, echo, is_quiet, logging_configured

runner = CliRunner()
training_log = logging.getLogger("edgecnn.training.zoo")


@pytest.fixture
def pristine_logger():
    """The ``edgecnn`` logger as a fresh process has it, restored after the test."""
    logger = logging.getLogger(LOGGER)
    saved = logger.level, list(logger.handlers)
    logger.setLevel(logging.NOTSET)
    logger.handlers[:] = []
    yield logger
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]


def _emit_all_levels() -> None:
    training_log.debug("debug line")
    training_log.info("info line %d", 1)
    training_log.warning("warning line")


def test_one_format_on_stderr_at_each_level(pristine_logger, capsys):
    configure_logging()
    _emit_all_levels()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["edgecnn: info line 1", "edgecnn: warning: warning line"]

    configure_logging(verbose=True)
    _emit_all_levels()
    assert capsys.readouterr().err.splitlines() == [
        "edgecnn: debug: debug line",
        "edgecnn: info line 1",
        "edgecnn: warning: warning line",
    ]

    configure_logging(quiet=True, verbose=True)  # quiet wins
    _emit_all_levels()
    assert capsys.readouterr().err.splitlines() == ["edgecnn: warning: warning line"]
    assert len(pristine_logger.handlers) == 1  # configured three times, one handler


def test_logging_configured_puts_the_logger_back(pristine_logger, capsys):
    with logging_configured(quiet=True):
        assert is_quiet()
        training_log.warning("inside")
    assert pristine_logger.level == logging.NOTSET and pristine_logger.handlers == []
    assert not is_quiet()
    assert capsys.readouterr().err == "edgecnn: warning: inside\n"


def test_echo_prints_unprefixed_unless_quiet(pristine_logger, capsys):
    echo("[1/6] load  model.keras")  # a library call without any set-up still shows its progress
    configure_logging()
    echo("[2/6] calibrate")
    configure_logging(quiet=True)
    echo("not shown")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["[1/6] load  model.keras", "[2/6] calibrate"]


@pytest.fixture
def logging_models_command(monkeypatch):
    """``edgecnn models`` with the training side's zoo logging one line at each level while it lists."""
    import edgecnn.training.zoo as zoo

    real = zoo.list_models

    def list_models(pattern="*"):
        _emit_all_levels()
        return real(pattern)

    monkeypatch.setattr(zoo, "list_models", list_models)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], ["edgecnn: info line 1", "edgecnn: warning: warning line"]),
        (["--quiet"], ["edgecnn: warning: warning line"]),
        (["-q"], ["edgecnn: warning: warning line"]),
        (["--verbose"], ["edgecnn: debug: debug line", "edgecnn: info line 1", "edgecnn: warning: warning line"]),
        (["-v"], ["edgecnn: debug: debug line", "edgecnn: info line 1", "edgecnn: warning: warning line"]),
    ],
)
def test_every_command_logs_training_lines_to_stderr(pristine_logger, logging_models_command, flags, expected):
    result = runner.invoke(app, [*flags, "models", "mobilenet_v1*", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in json.loads(result.stdout)] == ["mobilenet_v1"]  # stdout: the JSON only
    assert result.stderr.splitlines() == expected
    # The command's settings end with it (several commands run in this one process).
    assert pristine_logger.level == logging.NOTSET and pristine_logger.handlers == []

"""The fd-level quiet block that both sides wrap native chatter in (TensorFlow's import, the converter, LiteRT)."""

from __future__ import annotations

import logging
import os
import sys

from edgecnn.core.quiet import quiet


def test_native_and_python_output_goes_to_the_log_not_the_terminal(capfd):
    with quiet() as captured:
        os.write(1, b"native stdout\n")
        os.write(2, b"native stderr\n")
        print("python stdout")
        print("python stderr", file=sys.stderr)
    text = captured.text()
    captured.discard()
    out, err = capfd.readouterr()
    for line in ("native stdout", "native stderr", "python stdout", "python stderr"):
        assert line in text
        assert line not in out + err
    assert not captured.log_path.exists()


def test_a_logger_set_up_inside_the_block_writes_to_stderr_after_it(capsys):
    # TensorFlow creates its logger's handler on first use, with the sys.stderr of that moment: inside the block
    # that is the log file, which the block closes.
    logger = logging.getLogger("edgecnn-test-quiet")
    logger.propagate = False
    try:
        with quiet() as captured:
            handler = logging.StreamHandler(sys.stderr)
            logger.addHandler(handler)
            logger.warning("inside")
        assert "inside" in captured.text()
        captured.discard()
        logger.warning("after the block")
        err = capsys.readouterr().err
        assert "after the block" in err
        assert "Logging error" not in err
        assert handler.stream is sys.stderr
    finally:
        logger.handlers.clear()

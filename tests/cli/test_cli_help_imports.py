"""``edgecnn --help`` and ``edgecnn models`` must not import TensorFlow or Keras (they stay instant on a Pi)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import io, sys, contextlib
from edgecnn.cli import app
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        app({args!r}, prog_name="edgecnn")
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules)
print("RESULT", code, ",".join(heavy) or "none")
print(out.getvalue()[:2000], file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["models"],
        ["models", "--json"],
        ["models", "--help"],
        ["info", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_light_commands_do_not_import_tensorflow(args):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=args)], capture_output=True, text=True, timeout=120
    )
    result_line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT")), "")
    assert result_line.split()[1:] == ["0", "none"], result.stdout + result.stderr
    assert "Usage" in result.stderr or "alexnet" in result.stderr

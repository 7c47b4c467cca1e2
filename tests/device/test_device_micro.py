"""TFLite Micro on the device side: loading and the arena search, the clear errors (operator TFLM lacks, package
missing), the comparison with LiteRT and its operator trace, ``inspect --micro`` and the board table."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from device_helpers import COLOURS, LABELS, solid, with_operator
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.boards import BOARDS, FLASH_RESERVE_BYTES, RAM_RESERVE_BYTES, Board, boards_fitting
from edgecnn.device.micro import describe_steps, import_tflm_runtime

pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'edgecnn[micro]')")

runner = CliRunner()

RUNS_WITH = """
import sys, numpy as np
from tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=int(sys.argv[2]))
details = interpreter.get_input_details(0)
interpreter.set_input(np.zeros(details["shape"], details["dtype"]), 0)
interpreter.invoke()
print("RAN")
"""


def _runs_with(model_path, arena: int) -> bool:
    """Loads and runs the model with ``arena`` bytes in a fresh process (TFLM may crash on a too-small arena)."""
    proc = subprocess.run(
        [sys.executable, "-c", RUNS_WITH, str(model_path), str(arena)], capture_output=True, text=True, timeout=120
    )
    return proc.returncode == 0 and "RAN" in proc.stdout


@pytest.fixture(scope="module")
def probed(models):
    from edgecnn.device.micro_probe import probe

    return probe(models["int8"])


def test_arena_search_finds_the_smallest_arena(models, probed):
    assert probed.loads and probed.error is None and probed.failing_operators == {}
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(probed.operators)
    recorded = probed.recorded
    assert recorded["total"] == recorded["head"] + recorded["tail"] > 0
    assert probed.arena_bytes >= recorded["total"]
    assert probed.arena_bytes_32bit_estimate < probed.arena_bytes
    assert _runs_with(models["int8"], probed.arena_bytes)
    assert not _runs_with(models["int8"], probed.arena_bytes - 1)


def test_a_model_with_an_operator_tflm_lacks_gets_a_clear_error(models, tmp_path):
    from edgecnn.device.micro_probe import probe

    gelu = tmp_path / "gelu.tflite"
    gelu.write_bytes(with_operator(models["int8"].read_bytes(), "SOFTMAX", "GELU"))
    result = probe(gelu)
    assert not result.loads and result.arena_bytes is None
    assert result.failing_operators == {"GELU": "TFLM has no kernel for operator GELU"}
    cli = runner.invoke(app, ["inspect", str(gelu), "--micro"])
    assert cli.exit_code == 2
    assert "runs in TFLM  no" in cli.output
    assert cli.output.strip().splitlines()[-1].startswith("error: TFLite Micro")
    assert "GELU: TFLM has no kernel for operator GELU" in cli.output.strip().splitlines()[-1]


def test_missing_tflite_micro_is_a_one_line_error(monkeypatch, models):
    monkeypatch.setitem(sys.modules, "tflite_micro", None)
    with pytest.raises(EdgeCNNError, match=r"pip install 'edgecnn\[micro\]'"):
        import_tflm_runtime()
    cli = runner.invoke(app, ["inspect", str(models["int8"]), "--micro"])
    assert cli.exit_code == 2
    error = cli.output.strip().splitlines()[-1]
    assert error.startswith("error: --micro needs TFLite Micro's Python interpreter") and "edgecnn[micro]" in error


def _frames_as_pixels(classifier) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    frames, labels = [], []
    for index, colour in enumerate(LABELS):
        for _ in range(5):
            frame = solid(colour).astype(np.int16) + rng.integers(-30, 30, (120, 160, 3))
            frames.append(classifier.prepare(np.clip(frame, 0, 255).astype(np.uint8)))
            labels.append(index)
    return np.stack(frames), np.array(labels)


def test_tflm_agrees_with_litert_and_the_trace_covers_every_operator(models, probed):
    from edgecnn.device.micro_compare import STEP_TOLERANCE, compare_runtimes, explain
    from edgecnn.device.runtime import Classifier

    assert list(COLOURS) == LABELS
    pixels, labels = _frames_as_pixels(Classifier(models["int8"]))
    result = compare_runtimes(models["int8"], pixels, labels, arena_bytes=probed.arena_bytes, trace_samples=6)
    assert result["samples"] == len(pixels) and result["passed"] and result["agreement"] >= 0.995
    assert result["micro_accuracy"] == result["litert_accuracy"] == 1.0
    steps = result["steps"]
    assert sum(steps["histogram"].values()) == steps["values"] == len(pixels) * len(LABELS)
    assert steps["max"] * result["output_scale"] == pytest.approx(result["max_abs_diff"])
    trace = result["operators"]
    assert trace["images"] == 6 and trace["exposed_outputs_match"]
    assert sum(entry["count"] for entry in trace["by_type"].values()) == sum(probed.operators.values())
    assert set(trace["by_type"]) == set(probed.operators)
    # Where the full runs fed an operator identical inputs, the full-run difference is the kernel's own.
    same_inputs = [entry for entry in trace["by_type"].values() if entry["max_input_steps"] == 0]
    assert same_inputs and all(e["local_max_steps"] == e["max_output_steps"] for e in same_inputs)
    assert trace["over_tolerance_local"] == [
        name for name, e in sorted(trace["by_type"].items()) if e["local_max_steps"] > STEP_TOLERANCE
    ]
    assert explain(result)


def test_describe_steps_bins_every_value():
    steps = np.array([0, 0, 1, 2, 3, 5, 6, 10, 11, 20, 21, 40])
    described = describe_steps(steps)
    assert described["histogram"] == {"0": 2, "1": 1, "2": 1, "3-5": 2, "6-10": 2, "11-20": 2, ">20": 2}
    assert described["max"] == 40 and described["share_over_2"] == pytest.approx(8 / 12)


def test_inspect_micro_reports_flash_arena_and_boards(models, probed):
    cli = runner.invoke(app, ["inspect", str(models["int8"]), "--micro", "--json"])
    assert cli.exit_code == 0, cli.output
    micro = json.loads(cli.stdout)["micro"]
    assert micro["loads"] and micro["arena_bytes"] == probed.arena_bytes
    assert micro["flash_bytes"] == models["int8"].stat().st_size
    assert micro["fits"] == boards_fitting(micro["arena_bytes"], micro["flash_bytes"])
    assert [board["name"] for board in micro["boards"]] == [board.name for board in BOARDS]
    text = runner.invoke(app, ["inspect", str(models["int8"]), "--micro"])
    assert text.exit_code == 0 and "tensor arena" in text.output and "not on a microcontroller" in text.output


def test_inspect_without_micro_loads_neither_tensorflow_nor_tflm(models):
    probe = textwrap.dedent(
        f"""
        import sys
        from edgecnn.cli import app
        try:
            app(["inspect", {str(models["int8"])!r}], prog_name="edgecnn")
        except SystemExit as exc:
            code = exc.code
        heavy = sorted(m for m in ("tensorflow", "keras", "tflite_micro") if m in sys.modules)
        print("RESULT", code, ",".join(heavy) or "none")
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "RESULT 0 none" in result.stdout, result.stdout + result.stderr


def test_board_fits_use_the_reserves():
    board = Board("b", "chip", ram_bytes=100 * 1024, flash_bytes=300 * 1024, source="-")
    assert board.fits(100 * 1024 - RAM_RESERVE_BYTES, 300 * 1024 - FLASH_RESERVE_BYTES)
    assert not board.fits(100 * 1024 - RAM_RESERVE_BYTES + 1, 1000)
    assert not board.fits(1000, 300 * 1024 - FLASH_RESERVE_BYTES + 1)
    assert not board.fits(None, 1000)
    assert all(b.source.startswith("https://") for b in BOARDS)
    assert [b.ram_bytes for b in BOARDS] == sorted(b.ram_bytes for b in BOARDS)

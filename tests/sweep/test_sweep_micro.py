"""The sweep's TFLite Micro columns (``arena_bytes``, ``flash_bytes`` on int8 rows), the report's board section and
``select --max-ram-kb / --max-flash-kb``."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from edgecnn.cli import app
from edgecnn.core.errors import EdgeCNNError
from edgecnn.sweep.select import fits_limits, select_row

runner = CliRunner()


def _rows(out):
    return json.loads((out / "results.json").read_text())["rows"]


def test_int8_rows_get_arena_and_flash_columns(tiny_sweep):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'edgecnn[micro]')")
    assert tiny_sweep["result"].exit_code == 0, tiny_sweep["result"].output
    out = tiny_sweep["out"]
    rows = _rows(out)
    int8 = [row for row in rows if row["scheme"] == "int8"]
    assert len(int8) == 2
    from edgecnn.device.micro_probe import probe

    for row in rows:
        if row["scheme"] != "int8":
            assert row["arena_bytes"] is None and row["flash_bytes"] is None
            continue
        assert row["flash_bytes"] == row["file_bytes"] == (out / row["model"]).stat().st_size
        assert row["arena_bytes"] == probe(out / row["model"]).arena_bytes > 0
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert "arena_bytes" in header and "flash_bytes" in header

    report = (out / "report.md").read_text()
    section = report.split("## Microcontrollers (TFLite Micro)")[1].split("\n## ")[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and "arena KB" not in line]
    assert len(table) == 2
    from edgecnn.device.boards import BOARDS

    for row in int8:
        line = next(t for t in table if t.startswith(f"| {row['arch']} "))
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[2] == f"{row['arena_bytes'] / 1024:,.1f}"
        assert cells[4:] == ["fits" if b.fits(row["arena_bytes"], row["flash_bytes"]) else "" for b in BOARDS]


def test_select_with_ram_and_flash_limits(tiny_sweep, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'edgecnn[micro]')")
    out = tiny_sweep["out"]
    int8 = sorted((r for r in _rows(out) if r["scheme"] == "int8"), key=lambda r: r["arena_bytes"])
    smaller_arena = int8[0]
    limit = math.ceil(smaller_arena["arena_bytes"] / 1024)
    if limit * 1024 >= int8[1]["arena_bytes"]:
        pytest.skip("the two int8 models need the same arena to the KB")
    args = ["sweep", "select", str(out), "--min-accuracy", "0", "--to", str(tmp_path), "--json"]
    result = runner.invoke(app, [*args, "--max-ram-kb", str(limit)])
    assert result.exit_code == 0, result.output
    chosen = json.loads(result.stdout)
    assert chosen["row"]["arch"] == smaller_arena["arch"] and chosen["row"]["scheme"] == "int8"
    card = (tmp_path / f"{smaller_arena['arch']}_0.25_32_int8.md").read_text()
    assert f"{smaller_arena['arena_bytes']:,} bytes" in card and f"--max-ram-kb {limit}" in card

    too_small = runner.invoke(app, [*args, "--max-ram-kb", f"{(smaller_arena['arena_bytes'] - 1) / 1024:.4f}"])
    assert too_small.exit_code == 2 and "within TFLite Micro arena <=" in too_small.output
    flash = runner.invoke(app, [*args, "--max-flash-kb", "0.5"])
    assert flash.exit_code == 2 and "within flash <= 0.5 KB" in flash.output
    bad = runner.invoke(app, [*args, "--max-flash-kb", "-3"])
    assert bad.exit_code == 2 and "--max-flash-kb must be > 0" in bad.output


def _row(arch, top1, file_bytes, arena=None, flash=None, scheme="int8"):
    return {
        "arch": arch,
        "alpha": 0.25,
        "size": 32,
        "scheme": scheme,
        "tflite_top1": top1,
        "file_bytes": file_bytes,
        "latency_ms": 1.0,
        "arena_bytes": arena,
        "flash_bytes": flash,
        "error": "",
    }


def test_limits_filter_rows_and_missing_figures_never_fit():
    rows = [
        _row("a", 0.90, 100_000, arena=70 * 1024, flash=100_000),
        _row("b", 0.92, 200_000, arena=50 * 1024, flash=200_000),
        _row("c", 0.95, 50_000, scheme="float16"),  # no TFLite Micro figures
    ]
    assert select_row(rows, 0.8)["arch"] == "c"
    assert select_row(rows, 0.8, max_ram_kb=64)["arch"] == "b"
    assert select_row(rows, 0.8, max_flash_kb=150)["arch"] == "a"
    assert not fits_limits(rows[2], max_ram_kb=1000) and fits_limits(rows[2])
    with pytest.raises(EdgeCNNError, match=r"within TFLite Micro arena <= 64 KB and flash <= 150 KB"):
        select_row(rows, 0.8, max_ram_kb=64, max_flash_kb=150)


def test_a_failed_probe_leaves_the_arena_empty_and_logs_why(tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'edgecnn[micro]')")
    from edgecnn.sweep.trial import measure_micro

    path = tmp_path / "model_int8.tflite"
    path.write_bytes(b"not a model")
    row = {}
    measure_micro(path, row, lambda _text: None)
    assert row == {"flash_bytes": 11}
    assert "TFLite Micro probe: " in (tmp_path / "errors.log").read_text()

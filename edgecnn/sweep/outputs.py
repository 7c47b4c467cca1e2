"""Writes a sweep's shareable outputs: ``results.json``, ``results.csv``, ``report.md`` and the PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgecnn.core.files import write_text_atomic
from edgecnn.core.timestamps import utc_now
from edgecnn.sweep.pareto import mark_pareto
from edgecnn.sweep.report import PLOT_FILES, render_report
from edgecnn.sweep.results import COLUMNS, read_results, write_results


def write_outputs(
    out: str | Path, rows: list[dict[str, Any]], meta: dict[str, Any], *, plots: bool = True
) -> dict[str, Path]:
    """Marks the Pareto fronts and writes every output file into ``out``.

    Args:
        out: The sweep folder.
        rows: Result rows (the Pareto columns are set in place).
        meta: ``config`` (a :meth:`~edgecnn.sweep.config.SweepConfig.to_dict`) and ``command``.
        plots: Also draw the PNG plots (skipped for the intermediate updates of a running sweep).

    Returns:
        Output name (``results_json``, ``results_csv``, ``report``, ``plot_size``, ``plot_latency``) -> path.
    """
    out = Path(out)
    fronts = mark_pareto(rows)
    meta = {**meta, "updated": utc_now(), "pareto": fronts}
    write_results(out, rows, meta)
    written = {"results_json": out / "results.json", "results_csv": out / "results.csv"}
    drawn: dict[str, str] = {}
    if plots:
        from edgecnn.sweep.plots import plot_fronts

        config = meta.get("config", {})
        drawn = plot_fronts(rows, fronts, out, threads=config.get("threads"), data=config.get("data"))
    else:  # keep links to plots drawn earlier
        drawn = {name: file for name, file in PLOT_FILES.items() if (out / file).is_file()}
    write_text_atomic(out / "report.md", render_report(rows, meta, drawn))
    written["report"] = out / "report.md"
    written.update({f"plot_{name}": out / file for name, file in drawn.items()})
    return written


def rerender(sweep_dir: str | Path) -> dict[str, Path]:
    """Re-renders ``report.md``, ``results.csv`` and the plots of a sweep folder from its ``results.json``.

    Raises:
        EdgeCNNError: If the folder has no readable results.json.
    """
    doc = read_results(sweep_dir)
    rows = [{k: row.get(k) for k in COLUMNS} for row in doc["rows"]]
    meta = {k: doc[k] for k in ("config", "command") if k in doc}
    return write_outputs(sweep_dir, rows, meta)

"""PNG plots of a sweep: accuracy vs file size and accuracy vs latency, with the Pareto front drawn.

One marker shape per architecture, one colour per quantization scheme. Uses matplotlib's Agg backend (no
display needed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from edgecnn.core.files import atomic_path
from edgecnn.sweep.config import SCHEMES
from edgecnn.sweep.pareto import FRONTS
from edgecnn.sweep.references import applies_to, int8_kb, plotted
from edgecnn.sweep.report import PLOT_FILES
from edgecnn.sweep.results import is_ok

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
SCHEME_COLOURS = dict(
    zip(SCHEMES, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"), strict=True)
)
AXIS_LABELS = {"size": "file size (KB, log scale)", "latency": "median latency (ms{threads}, log scale)"}


def _minor_tick_label(value: float, _pos) -> str:
    """Labels only the 2x and 5x minor ticks of a log axis, so that no label runs into its neighbour."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return f"{value:g}" if round(mantissa) in (2, 5) else ""


def _draw_references(ax, front: str) -> list:
    """Draws the published Fashion-MNIST results: on the size plot at their int8 weight size where a parameter
    count is published, else (and on the latency plot, where none is published) as a dotted accuracy level.

    Returns:
        Legend handles.
    """
    from matplotlib.lines import Line2D

    placed = False
    last_left = None  # the level of the last label written at the left edge
    for ref in sorted(plotted(), key=lambda r: r.accuracy):
        y = 100 * ref.accuracy
        if front == "size" and ref.params is not None:
            x = int8_kb(ref.params)
            ax.scatter(x, y, marker="*", s=110, color="dimgray", edgecolors="black", linewidths=0.4, zorder=3)
            ax.annotate(ref.label, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7, color="dimgray")
            placed = True
            continue
        ax.axhline(y, color="gray", linestyle=":", linewidth=0.8, zorder=1)
        left = last_left is None or y - last_left > 0.3  # levels closer than that alternate sides
        ax.annotate(
            ref.label,
            (0.01 if left else 0.99, y),
            xycoords=("axes fraction", "data"),
            xytext=(0, 2),
            textcoords="offset points",
            ha="left" if left else "right",
            fontsize=7,
            color="dimgray",
        )
        if left:
            last_left = y
    handles = [Line2D([], [], color="gray", linestyle=":", label="published (Fashion-MNIST benchmark table)")]
    if placed:
        handles.append(
            Line2D([], [], linestyle="", marker="*", color="dimgray", label="published, at 1 byte per parameter")
        )
    return handles


def plot_fronts(
    rows: list[dict[str, Any]],
    fronts: dict[str, list[int]],
    out: Path,
    threads: int | None = None,
    data: str | None = None,
) -> dict[str, str]:
    """Writes one PNG per front into ``out``.

    Args:
        rows: Result rows.
        fronts: Front name -> indices into ``rows`` (from :func:`~edgecnn.sweep.pareto.mark_pareto`).
        out: Destination folder.
        threads: Benchmark threads, for the latency axis label.
        data: The sweep's ``--data``; for Fashion-MNIST the published reference points are drawn too
            (:mod:`edgecnn.sweep.references`).

    Returns:
        Front name -> file name of the plots written (a front without any measured row gets no plot).
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    ok = [i for i, row in enumerate(rows) if is_ok(row)]
    archs = list(dict.fromkeys(rows[i]["arch"] for i in ok))
    markers = {arch: MARKERS[k % len(MARKERS)] for k, arch in enumerate(archs)}
    written: dict[str, str] = {}
    for name, (cost, accuracy) in FRONTS.items():
        points = [i for i in ok if rows[i].get(cost) is not None]
        if not points:
            continue
        scale = 1 / 1024 if cost == "file_bytes" else 1.0
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
        try:
            for i in points:
                row = rows[i]
                ax.scatter(
                    row[cost] * scale,
                    100 * row[accuracy],
                    marker=markers[row["arch"]],
                    s=46,
                    color=SCHEME_COLOURS.get(row["scheme"], "tab:gray"),
                    edgecolors="black",
                    linewidths=0.5,
                    zorder=3,
                )
            front = [i for i in fronts.get(name, []) if i in points]
            if front:
                xs = [rows[i][cost] * scale for i in front]
                ys = [100 * rows[i][accuracy] for i in front]
                ax.step(
                    xs, ys, where="post", color="black", linestyle="--", linewidth=1.0, zorder=2, label="Pareto front"
                )
                ax.scatter(xs, ys, s=140, facecolors="none", edgecolors="black", linewidths=1.0, zorder=4)
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(_minor_tick_label))
            ax.tick_params(axis="x", which="minor", labelsize=7)
            label = AXIS_LABELS[name].format(threads=f", {threads} thread(s)" if threads else "")
            ax.set_xlabel(label)
            ax.set_ylabel("test top-1 accuracy (%)")
            ax.set_title(f"Accuracy vs {'file size' if name == 'size' else 'latency'}")
            ax.grid(True, which="both", alpha=0.3)
            arch_handles = [
                Line2D([], [], linestyle="", marker=markers[a], color="gray", markeredgecolor="black", label=a)
                for a in archs
            ]
            schemes = [s for s in SCHEMES if any(rows[i]["scheme"] == s for i in points)]
            scheme_handles = [
                Line2D([], [], linestyle="", marker="o", color=SCHEME_COLOURS[s], label=s) for s in schemes
            ]
            front_handles = [Line2D([], [], color="black", linestyle="--", label="Pareto front")] if front else []
            reference_handles = _draw_references(ax, name) if applies_to(data) else []
            ax.legend(
                handles=arch_handles + scheme_handles + front_handles + reference_handles,
                loc="best",
                fontsize=8,
                framealpha=0.9,
            )
            fig.tight_layout()
            with atomic_path(Path(out) / PLOT_FILES[name]) as tmp:
                fig.savefig(tmp, format="png")
        finally:
            plt.close(fig)
        written[name] = PLOT_FILES[name]
    return written

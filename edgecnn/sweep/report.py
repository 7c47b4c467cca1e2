"""``report.md``: the sweep's results as a Markdown table sorted by file size, Pareto-optimal rows marked."""

from __future__ import annotations

from typing import Any

from edgecnn.sweep.claims import render_claims
from edgecnn.sweep.pareto import FRONTS
from edgecnn.sweep.references import FASHION_MNIST, SOURCE, applies_to, int8_kb
from edgecnn.sweep.results import is_ok

PLOT_FILES = {"size": "accuracy_vs_size.png", "latency": "accuracy_vs_latency.png"}


def sort_by_size(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered by file size (failed rows without a file last), then by accuracy descending."""

    def key(row):
        size = row.get("file_bytes")
        top1 = row.get("tflite_top1")
        return (size is None, size or 0, -(top1 or 0.0), row["arch"], row["alpha"], row["size"], row["scheme"])

    return sorted(rows, key=key)


def render_report(rows: list[dict[str, Any]], meta: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    """The Markdown report.

    Args:
        rows: Result rows with ``pareto_size`` / ``pareto_latency`` set (see :func:`~edgecnn.sweep.pareto.mark_pareto`).
        meta: ``config`` (a :meth:`SweepConfig.to_dict`), ``command`` and optional ``updated``.
        plots: Front name -> PNG file name (relative to the report) for the plots that exist.
    """
    config = meta.get("config", {})
    ok = [row for row in rows if is_ok(row)]
    failed = [row for row in rows if not is_ok(row)]
    threads = config.get("threads", 1)
    lines = ["# Sweep report", ""]
    lines += [
        f"Dataset `{config.get('data')}`; {_training_summary(config)}. Accuracy is top-1 on the test split"
        f"{_eval_limit(config)}, measured on the exported `.tflite` with the LiteRT interpreter; latency is "
        f"single-image inference at {threads} thread(s), median and 90th percentile of "
        f"{config.get('bench_runs', '?')} runs.",
        "",
    ]
    if meta.get("command"):
        lines += ["Produced by:", "", "```sh", meta["command"], "```", ""]
    lines += [
        f"{len(rows)} models ({len(ok)} ok, {len(failed)} failed) from "
        f"{len({(r['arch'], r['alpha'], r['size']) for r in rows})} trained networks."
        + (f" Updated {meta['updated']}." if meta.get("updated") else ""),
        "",
    ]

    if ok:
        best = max(ok, key=lambda r: (r["tflite_top1"], -(r.get("file_bytes") or 0)))
        smallest = min(ok, key=lambda r: (r.get("file_bytes") or 0, -r["tflite_top1"]))
        lines += [f"- Most accurate: {_describe(best, threads)}", f"- Smallest: {_describe(smallest, threads)}"]
        timed = [r for r in ok if r.get("latency_ms") is not None]
        if timed:
            fastest = min(timed, key=lambda r: (r["latency_ms"], -r["tflite_top1"]))
            lines.append(f"- Fastest: {_describe(fastest, threads)}")
        lines.append("")

    lines += [
        "## Results",
        "",
        "Sorted by file size. Pareto column: `size` = on the front of file size vs accuracy, `latency` = on "
        "the front of latency vs accuracy (no other model is both at least as small/fast and at least as "
        "accurate, and strictly better in one).",
        "",
    ]
    header = [
        "Pareto",
        "arch",
        "alpha",
        "size",
        "scheme",
        "params",
        "MMACs",
        "file KB",
        "Keras top-1",
        "TFLite top-1",
        "change",
        "latency ms",
        "p90 ms",
        "train s",
    ]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for row in sort_by_size(ok):
        marks = ", ".join(name for name in FRONTS if row.get(f"pareto_{name}"))
        lines.append(
            "| "
            + " | ".join(
                [
                    marks,
                    row["arch"],
                    f"{row['alpha']:g}",
                    str(row["size"]),
                    row["scheme"],
                    _int(row.get("params")),
                    _num(row.get("macs"), 1e-6, 2),
                    _num(row.get("file_bytes"), 1 / 1024, 1),
                    _pct(row.get("keras_top1")),
                    _pct(row.get("tflite_top1")),
                    _points(row.get("delta_top1")),
                    _num(row.get("latency_ms"), 1, 3),
                    _num(row.get("latency_p90_ms"), 1, 3),
                    _num(row.get("train_seconds"), 1, 0),
                ]
            )
            + " |"
        )
    lines.append("")

    for name, (cost, _) in FRONTS.items():
        front = sorted((r for r in ok if r.get(f"pareto_{name}")), key=lambda r: r.get(cost) or 0)
        if not front:
            continue
        lines += [f"## Pareto front: {'file size' if name == 'size' else 'latency'} vs accuracy", ""]
        for row in front:
            lines.append(f"- {_describe(row, threads)}")
        lines.append("")
        if plots and plots.get(name):
            lines += [f"![accuracy vs {name}]({plots[name]})", ""]

    lines += render_micro_section(ok)
    lines += _references_section(ok, config) + render_claims(ok, config)

    if failed:
        lines += ["## Failed", "", "| arch | alpha | size | scheme | error |", "|---|---|---|---|---|"]
        for row in failed:
            error = (row.get("error") or "no accuracy recorded").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {row['arch']} | {row['alpha']:g} | {row['size']} | {row['scheme']} | {error} |")
        lines.append("")
    return "\n".join(lines)


def render_micro_section(rows: list[dict[str, Any]]) -> list[str]:
    """The report's microcontroller section: arena, flash and which boards each int8 model fits (empty if none)."""
    from edgecnn.device.boards import BOARDS, FLASH_RESERVE_BYTES, RAM_RESERVE_BYTES

    measured = sorted(
        (row for row in rows if row.get("arena_bytes") is not None and row.get("flash_bytes") is not None),
        key=lambda r: (r["arena_bytes"], r["flash_bytes"]),
    )
    if not measured:
        return []
    lines = [
        "## Microcontrollers (TFLite Micro)",
        "",
        "int8 models loaded in TFLite Micro's interpreter (reference kernels) on the sweep host, not on a "
        "microcontroller. Arena: the smallest tensor arena in which the model loads and runs; flash: the .tflite "
        "as exported. A model fits a board when arena + "
        f"{RAM_RESERVE_BYTES // 1024} KB fits its RAM and the file + {FLASH_RESERVE_BYTES // 1024} KB fits its "
        "flash (the firmware's share; board figures and sources in docs/micro.md).",
        "",
    ]
    header = ["model", "TFLite top-1", "arena KB", "flash KB", *(board.name for board in BOARDS)]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for row in measured:
        cells = [
            f"{row['arch']} {row['alpha']:g} {row['size']} {row['scheme']}",
            _pct(row.get("tflite_top1")),
            _num(row["arena_bytes"], 1 / 1024, 1),
            _num(row["flash_bytes"], 1 / 1024, 1),
            *("fits" if board.fits(row["arena_bytes"], row["flash_bytes"]) else "" for board in BOARDS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _references_section(ok: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The published Fashion-MNIST results beside this sweep's (empty for other data)."""
    if not applies_to(config.get("data")):
        return []
    lines = [
        "## Published reference points",
        "",
        f"CNN entries of the Fashion-MNIST benchmark table ({SOURCE}); submitted results, not verified by the "
        'table\'s maintainers, with their own epochs and preprocessing. "int8 KB" is the weight storage of the '
        "stated parameter count at one byte each: the least an int8 file of that network holds. The last column is "
        "this sweep's smallest file at or above the same accuracy.",
        "",
        "| published model | test top-1 | parameters | int8 KB | preprocessing | smallest file here at >= that |",
        "|---|---|---|---|---|---|",
    ]
    for ref in FASHION_MNIST:
        params = "" if ref.params is None else ("< " if ref.params_bound else "") + f"{ref.params:,}"
        weights = "" if ref.params is None else ("< " if ref.params_bound else "") + f"{int8_kb(ref.params):,.0f}"
        reaching = [r for r in ok if r.get("file_bytes") is not None and r["tflite_top1"] >= ref.accuracy]
        best = min(reaching, key=lambda r: (r["file_bytes"], -r["tflite_top1"])) if reaching else None
        here = (
            "none"
            if best is None
            else f"{best['arch']} {best['alpha']:g} {best['size']} {best['scheme']}: "
            f"{_pct(best['tflite_top1'])}, {_num(best['file_bytes'], 1 / 1024, 1)} KB"
        )
        lines.append(f"| {ref.name} | {_pct(ref.accuracy)} | {params} | {weights} | {ref.preprocessing} | {here} |")
    lines.append("")
    return lines


def _describe(row: dict[str, Any], threads: int) -> str:
    text = (
        f"{row['arch']} alpha {row['alpha']:g} size {row['size']} {row['scheme']}: "
        f"{_pct(row['tflite_top1'])} top-1, {_num(row.get('file_bytes'), 1 / 1024, 1)} KB"
    )
    if row.get("latency_ms") is not None:
        text += f", {row['latency_ms']:.3f} ms ({threads} thread(s))"
    return text


def _training_summary(config: dict[str, Any]) -> str:
    parts = [f"{config.get('epochs')} epoch(s)", f"batch {config.get('batch_size')}"]
    if config.get("max_samples"):
        parts.append(f"at most {config['max_samples']} training images")
    if config.get("lr"):
        parts.append(f"learning rate {config['lr']:g}")
    parts.append(f"seed {config.get('seed')}")
    teacher = (config.get("train_options") or {}).get("teacher")
    if teacher:
        parts.append(f"distilled from `{teacher}`")
    return "trained " + ", ".join(parts)


def _eval_limit(config: dict[str, Any]) -> str:
    return f" (first {config['eval_samples']} images)" if config.get("eval_samples") else ""


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def _points(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.2f} pt"


def _int(value: int | None) -> str:
    return "" if value is None else f"{int(value):,}"


def _num(value: float | None, scale: float, digits: int) -> str:
    return "" if value is None else f"{value * scale:,.{digits}f}"

"""`edgecnn bench`: interpreter latency per thread count, and the whole per-frame path beside it."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import command, echo_json
from edgecnn.core.logs import echo


def _thread_count(text: str) -> int | None:
    """One ``--threads`` item: a positive integer, or ``default`` (the runtime's own thread count)."""
    if text == "default":
        return None
    if not (text.isdigit() and int(text) > 0):
        raise ValueError(text)
    return int(text)


@command("bench")
def bench_command(
    model: Path = typer.Argument(..., help="The .tflite model.", show_default=False),
    threads: str = typer.Option("1", "--threads", help="Thread counts to sweep, comma-separated (e.g. 1,2,4)."),
    runs: int = typer.Option(100, "--runs", help="Timed invokes per thread count."),
    warmup: int = typer.Option(10, "--warmup", help="Untimed invokes before them."),
    pipeline: bool = typer.Option(
        False,
        "--pipeline",
        help="Also time a camera-like frame through prepare + invoke + postprocess, interleaved with the raw invokes.",
    ),
    frame: str = typer.Option("640x480", "--frame", help="Frame size WIDTHxHEIGHT for --pipeline."),
    delegate: str | None = typer.Option(None, "--delegate", help="External delegate library, e.g. libedgetpu.so.1."),
    interpreter: str | None = typer.Option(
        None, "--interpreter", help="Force ai_edge_litert, tflite_runtime or tensorflow."
    ),
    json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Benchmark a .tflite model like TFLite's benchmark_model.

    Per thread count: init time, first invoke, warm-up, then latency min/mean/median/p90/p99/std and peak resident
    memory. --pipeline adds the whole per-frame path (frame -> prepared input -> invoke -> top-k) and its ratio to
    the raw invoke.
    """
    from edgecnn.core.parsing import parse_list, parse_size
    from edgecnn.device.bench import benchmark, format_results

    counts = list(parse_list(threads, _thread_count, "threads", what="positive integers (or default)"))
    frame_size = parse_size(frame, "frame", square=False)

    def progress(result) -> None:
        if not json:
            s = result.latency
            echo(f"threads {result.threads or 'default'}: mean {s['mean_ms']:.2f} ms, median {s['median_ms']:.2f} ms")

    results = benchmark(
        model,
        threads=counts,
        runs=runs,
        warmup=warmup,
        pipeline=pipeline,
        frame_size=frame_size.wh,
        delegate=delegate,
        backend=interpreter,
        on_result=progress,
    )
    if json:
        echo_json([r.to_dict() for r in results])
    else:
        typer.echo(format_results(results))

"""`edgecnn run`: classify frames from a camera, stream, video or image folder with a .tflite model."""

from __future__ import annotations

from pathlib import Path

import typer

from edgecnn.cli._app import command, echo_json

SOURCE_HELP = (
    "Camera index or /dev/videoN, a video file, an image directory, an rtsp:// or http:// (MJPEG) URL, "
    "a GStreamer pipeline (contains '!'), or picamera2. Default: 0."
)


@command("run")
def run_command(
    model: str | None = typer.Argument(None, help="The .tflite model (or 'model' in --config).", show_default=False),
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP, show_default=False),
    threads: int | None = typer.Option(None, "--threads", help="Interpreter threads (default: the runtime's)."),
    delegate: str | None = typer.Option(None, "--delegate", help="External delegate library, e.g. libedgetpu.so.1."),
    interpreter: str | None = typer.Option(
        None, "--interpreter", help="Force ai_edge_litert, tflite_runtime or tensorflow."
    ),
    labels: Path | None = typer.Option(None, "--labels", help="Class names, one per line (overrides embedded ones)."),
    mean: str | None = typer.Option(
        None,
        "--mean",
        help="Input mean on the 0..255 scale, 1 or 3 comma-separated values (for models without edgecnn metadata).",
    ),
    std: str | None = typer.Option(None, "--std", help="Input standard deviation on the 0..255 scale (1 or 3)."),
    bgr: bool | None = typer.Option(None, "--bgr/--no-bgr", help="Feed BGR instead of RGB.", show_default=False),
    resize_mode: str | None = typer.Option(None, "--resize-mode", help="stretch or crop (centre crop to aspect)."),
    top_k: int | None = typer.Option(None, "--top-k", "-k", help="Classes to report per frame. Default: 3."),
    threshold: float | None = typer.Option(None, "--threshold", help="Leave out classes scoring below this."),
    smooth: float | None = typer.Option(
        None,
        "--smooth",
        help="Temporal smoothing: EMA weight of the newest frame, in (0, 1]; 0.3 averages over about 6 frames.",
    ),
    jsonl: str | None = typer.Option(None, "--jsonl", help="Write one JSON line per frame to this file ('-': stdout)."),
    http: str | None = typer.Option(
        None,
        "--http",
        help="Serve /predictions, /stream, /healthz and /metrics on HOST:PORT (a bare port listens on 127.0.0.1).",
    ),
    save_video: str | None = typer.Option(None, "--save-video", help="Write the annotated video (.avi, .mp4, .mkv)."),
    display: bool | None = typer.Option(
        None, "--display/--no-display", help="Show the annotated frames in a window.", show_default=False
    ),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
    realtime: bool | None = typer.Option(
        None,
        "--realtime/--no-realtime",
        show_default=False,
        help="Play files at their frame rate, dropping frames like a camera.",
    ),
    loop: bool | None = typer.Option(
        None, "--loop/--no-loop", help="Start a file or folder again at its end.", show_default=False
    ),
    wait_for_source: bool | None = typer.Option(
        None,
        "--wait-for-source/--no-wait-for-source",
        show_default=False,
        help="Keep retrying a live source that cannot be opened at start.",
    ),
    json: bool | None = typer.Option(
        None, "--json/--no-json", help="Print the summary as JSON on stdout.", show_default=False
    ),
    config: Path | None = typer.Option(
        None, "--config", help="JSON or TOML file with these options (the command line overrides it)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Log warnings only."),
) -> None:
    """Classify frames from a camera, stream, video or image folder with a .tflite model.

    Runs one persistent LiteRT interpreter over the frames (the newest frame only for live sources), with
    preprocessing and labels from the model's embedded metadata. Outputs: JSON lines, an HTTP server, an annotated
    video, a window. SIGTERM or Ctrl-C stops it cleanly and prints a summary (per-stage latency percentiles).
    """
    from edgecnn.device.daemon import format_summary, run
    from edgecnn.device.run_config import build_options

    values = dict(
        model=model,
        source=source,
        threads=threads,
        delegate=delegate,
        interpreter=interpreter,
        labels=str(labels) if labels else None,
        mean=mean,
        std=std,
        bgr=bgr,
        resize_mode=resize_mode,
        top_k=top_k,
        threshold=threshold,
        smooth=smooth,
        jsonl=jsonl,
        http=http,
        save_video=save_video,
        display=display,
        max_frames=max_frames,
        duration=duration,
        realtime=realtime,
        loop=loop,
        wait_for_source=wait_for_source,
        json=json,
    )
    options = build_options(values, config)
    summary = run(options)
    if options.json:
        echo_json(summary)
    else:
        typer.echo(format_summary(summary), err=True)

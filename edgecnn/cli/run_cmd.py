"""`edgecnn run`: classify frames from a camera, stream, video or image folder with a .tflite model.

This signature is the one declaration of ``run``'s options: the defaults come from
:class:`edgecnn.device.run_config.RunOptions` and ``--config FILE`` feeds the same options (both through
``default_map``, see :mod:`edgecnn.cli._declare`); ``edgecnn service install`` checks its options with this
command's parser.
"""

from __future__ import annotations

import typer

from edgecnn.cli._app import cli_message, command, echo_json
from edgecnn.cli._declare import (
    INPUT,
    INPUT_OR_NAME,
    OUTPUT,
    app_command,
    config_option,
    from_params,
    library_defaults,
    list_option,
    parse_command_line,
    path_argument,
    path_option,
)

SOURCE_HELP = (
    "Camera index or /dev/videoN, a video file, an image directory, an rtsp://, http:// (MJPEG) or tcp:// "
    "(rpicam-vid --listen) URL, a GStreamer pipeline (contains '!'), or picamera2."
)


@command("run", context_settings=library_defaults("edgecnn.device.run_config:RunOptions"))
def run_command(
    ctx: typer.Context,
    model: str | None = path_argument(
        None, role=INPUT, help="The .tflite model (or 'model' in --config).", show_default=False
    ),
    source: str = path_option(None, "--source", "-s", role=INPUT_OR_NAME, help=SOURCE_HELP),
    threads: int | None = typer.Option(None, "--threads", help="Interpreter threads (default: the runtime's)."),
    delegate: str | None = typer.Option(None, "--delegate", help="External delegate library, e.g. libedgetpu.so.1."),
    interpreter: str | None = typer.Option(
        None, "--interpreter", help="Force ai_edge_litert, tflite_runtime or tensorflow."
    ),
    labels: str | None = path_option(
        None, "--labels", role=INPUT, help="Class names, one per line (overrides embedded ones)."
    ),
    mean: str | None = list_option(
        None,
        "--mean",
        item=float,
        metavar="M[,M,M]",
        help="Input mean on the 0..255 scale, 1 or 3 comma-separated values (for models without edgecnn metadata).",
    ),
    std: str | None = list_option(
        None, "--std", item=float, metavar="S[,S,S]", help="Input standard deviation on the 0..255 scale (1 or 3)."
    ),
    bgr: bool = typer.Option(None, "--bgr/--no-bgr", help="Feed BGR instead of RGB.", show_default=False),
    resize_mode: str | None = typer.Option(None, "--resize-mode", help="stretch or crop (centre crop to aspect)."),
    top_k: int = typer.Option(None, "--top-k", "-k", help="Classes to report per frame."),
    threshold: float = typer.Option(None, "--threshold", help="Leave out classes scoring below this."),
    smooth: float | None = typer.Option(
        None,
        "--smooth",
        help="Temporal smoothing: EMA weight of the newest frame, in (0, 1]; 0.3 averages over about 6 frames.",
    ),
    jsonl: str | None = path_option(
        None, "--jsonl", role=OUTPUT, help="Write one JSON line per frame to this file ('-': stdout)."
    ),
    http: str | None = typer.Option(
        None,
        "--http",
        help="Serve /predictions, /stream, /healthz and /metrics on HOST:PORT (a bare port listens on 127.0.0.1).",
    ),
    save_video: str | None = path_option(
        None, "--save-video", role=OUTPUT, help="Write the annotated video (.avi, .mp4, .mkv)."
    ),
    display: bool = typer.Option(
        None, "--display/--no-display", help="Show the annotated frames in a window.", show_default=False
    ),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
    realtime: bool = typer.Option(
        None,
        "--realtime/--no-realtime",
        show_default=False,
        help="Play files at their frame rate, dropping frames like a camera.",
    ),
    loop: bool = typer.Option(
        None, "--loop/--no-loop", help="Start a file or folder again at its end.", show_default=False
    ),
    wait_for_source: bool = typer.Option(
        None,
        "--wait-for-source/--no-wait-for-source",
        show_default=False,
        help="Keep retrying a live source that cannot be opened at start.",
    ),
    json: bool = typer.Option(
        None, "--json/--no-json", help="Print the summary as JSON on stdout.", show_default=False
    ),
    config: str | None = config_option(),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Log warnings only."),
) -> None:
    """Classify frames from a camera, stream, video or image folder with a .tflite model.

    Runs one persistent LiteRT interpreter over the frames (the newest frame only for live sources), with
    preprocessing and labels from the model's embedded metadata. Outputs: JSON lines, an HTTP server, an annotated
    video, a window. SIGTERM or Ctrl-C stops it cleanly and prints a summary (per-stage latency percentiles).
    """
    from edgecnn.device.daemon import format_summary, run

    options = run_options(ctx.params)
    summary = run(options)
    if options.json:
        echo_json(summary)
    else:
        typer.echo(format_summary(summary), err=True)


def run_options(params: dict):
    """The validated :class:`~edgecnn.device.run_config.RunOptions` of parsed ``run`` parameters.

    Raises:
        EdgeCNNError: For a missing model or an out-of-range option.
    """
    from edgecnn.core.errors import EdgeCNNError
    from edgecnn.device.run_config import RunOptions

    if not params.get("model"):
        raise EdgeCNNError("no model given: pass MODEL.tflite or set 'model' in the --config file")
    return from_params(RunOptions, params).validate()


def parse_run_options(args: list[str]):
    """``edgecnn run ARGS`` parsed by the command's own parser (``--config`` included) and validated, not run.

    Raises:
        EdgeCNNError: For an option ``run`` refuses, as the command would report it (flags, not parameter names).
    """
    from edgecnn.core.errors import EdgeCNNError

    try:
        return run_options(parse_command_line("run", args).params)
    except EdgeCNNError as exc:
        raise EdgeCNNError(cli_message(exc, app_command("run"))) from None

"""Options shared by several commands, declared once: the zoo's architecture knobs (``info``, ``train``) and the
distillation settings (``train``, ``sweep``)."""

from __future__ import annotations

import typer

STEM_STRIDE = typer.Option(
    2,
    "--stem-stride",
    min=1,
    max=2,
    help="Stride of the first conv: 2 (the papers) or 1 (small inputs: 2x the feature-map side, 4x the MACs, "
    "same parameters).",
)
HEAD_WIDTH = typer.Option(
    None,
    "--head-width",
    help="Channels of the head layer (V2's 1280-channel Conv_1, V3's conv_2, V1's last pointwise conv) "
    "[default: the paper's].",
)
SCALE_HEAD = typer.Option(
    False,
    "--scale-head",
    help="Scale the head with --alpha at every width (V2/V3 keep it fixed for alpha <= 1).",
)
DEPTH = typer.Option(
    1.0,
    "--depth",
    help="Depth multiplier in (0, 1]: every stage keeps ceil(repeats * depth) blocks, at least one.",
)
DISTILL_TEMPERATURE = typer.Option(
    None, "--distill-temperature", help="Softmax temperature of the distillation term [default: 3, Keras']."
)
DISTILL_WEIGHT = typer.Option(
    None, "--distill-weight", help="Weight of the distillation term; the labels' loss gets the rest [default: 0.5]."
)

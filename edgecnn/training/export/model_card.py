"""The general fields of an export's standard TFLite metadata: name, description, version, author, licence.

``edgecnn export --name/--description/--model-version/--author/--license`` set them; what is not given gets a
default made from what the export knows (architecture, input, classes, scheme). Author and licence stay empty
unless given: edgecnn cannot know them.
"""

from __future__ import annotations

from edgecnn.core.preprocessing import Preprocessing
from edgecnn.modelfile.standard_metadata import ModelCard

#: The model version written when ``--model-version`` is not given.
DEFAULT_VERSION = "1"
#: Labels named in the default description (the rest are counted).
LABELS_SHOWN = 5


def default_name(arch: str, alpha: float | None, spec: Preprocessing, scheme: str) -> str:
    """``mobilenet_v2_0.35_32_int8`` (``_32x48`` for a non-square input), like TensorFlow's published files."""
    size = str(spec.height) if spec.height == spec.width else f"{spec.height}x{spec.width}"
    parts = [arch] + ([f"{alpha:g}"] if alpha is not None else []) + [size, scheme]
    return "_".join(parts)


def default_description(
    arch: str, alpha: float | None, spec: Preprocessing, labels: list[str], scheme: str, io: str, input_rgb: bool
) -> str:
    """One paragraph: the task, the classes, the network, the input and the quantisation."""
    from edgecnn import __version__

    shown = ", ".join(labels[:LABELS_SHOWN]) + (", ..." if len(labels) > LABELS_SHOWN else "")
    width = f" width {alpha:g}" if alpha is not None else ""
    colour = "RGB" if spec.channels == 3 else "grey"
    folded = " (a grey model with the RGB-to-grey conversion inside)" if input_rgb else ""
    return (
        f"Image classifier, {len(labels)} classes ({shown}). {arch}{width}, {spec.height}x{spec.width} {colour} "
        f"input{folded}, raw pixels 0..255. {scheme} ({io} input/output). Exported by edgecnn {__version__}."
    )


def model_card(
    *,
    arch: str,
    alpha: float | None,
    spec: Preprocessing,
    labels: list[str],
    scheme: str,
    io: str,
    input_rgb: bool = False,
    name: str | None = None,
    description: str | None = None,
    version: str | None = None,
    author: str | None = None,
    license: str | None = None,
) -> ModelCard:
    """The card of one export: the given fields, defaults for the others."""
    return ModelCard(
        name=name or default_name(arch, alpha, spec, scheme),
        description=description or default_description(arch, alpha, spec, labels, scheme, io, input_rgb),
        version=version or DEFAULT_VERSION,
        author=author or "",
        license=license or "",
    )

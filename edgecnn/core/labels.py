"""``labels.txt``: class names, one per line, UTF-8, in class-index order.

The one reader and writer for every labels file edgecnn reads or writes: ``run --labels``, IDX data folders,
run directories, the ``labels.txt`` beside an exported model and the ``<stem>.labels.txt`` of ``sweep select``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.files import write_text_atomic

#: The file name of the class names beside a model or inside a run directory or data folder.
LABELS_FILE = "labels.txt"


def read_labels(path: str | os.PathLike) -> list[str]:
    """Class names from a labels file: one per line, surrounding whitespace and trailing blank lines dropped.

    A blank line before the last name is kept as an empty name, so that every name stays at its class index.

    Raises:
        EdgeCNNError: If the file is missing or names no class.
    """
    path = Path(path)
    if not path.is_file():
        raise EdgeCNNError(f"labels file not found: {path}")
    labels = parse_labels(path.read_text(encoding="utf-8"))
    if not labels:
        raise EdgeCNNError(f"labels file is empty: {path}")
    return labels


def parse_labels(text: str) -> list[str]:
    """Class names from a labels file's text (as :func:`read_labels` reads them; empty when it names none)."""
    labels = [line.strip() for line in text.splitlines()]
    while labels and not labels[-1]:
        labels.pop()
    return labels


def write_labels(path: str | os.PathLike, labels: Iterable[str]) -> Path:
    """Writes class names one per line (UTF-8, each line ending in a newline), atomically; returns the path.

    Raises:
        EdgeCNNError: If a name holds a line break (it would shift every later class).
    """
    write_text_atomic(path, labels_text(labels, str(path)))
    return Path(path)


def labels_text(labels: Iterable[str], where: str = "a labels file") -> str:
    """The text of a labels file: one name per line, each ending in a newline.

    Raises:
        EdgeCNNError: If a name holds a line break (it would shift every later class).
    """
    labels = [str(label) for label in labels]
    for label in labels:
        if "\n" in label or "\r" in label:
            raise EdgeCNNError(f"class name {label!r} holds a line break; it cannot be written to {where}")
    return "".join(f"{label}\n" for label in labels)

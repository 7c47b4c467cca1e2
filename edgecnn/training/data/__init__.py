"""Training data (training side): sources, deterministic splits, prepared pixel arrays and tf.data pipelines.

``--data`` accepts a folder of class sub-folders (optionally split into ``train/``, ``val/``, ``test/``), a
directory of IDX files (MNIST format, gzipped or raw) or a dataset name (``fashion_mnist``, ``mnist``,
``cifar10``). Every image is decoded with OpenCV and prepared by :func:`edgecnn.core.preprocessing.prepare`, the
function the device runs on camera frames.
"""

from __future__ import annotations

import logging

import numpy as np

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.preprocessing import Preprocessing
from edgecnn.training.data.images import decode_image, prepare_arrays, prepare_files, require_images, warn_skipped
from edgecnn.training.data.sources import (
    KNOWN_DATASETS,
    SPLITS,
    Source,
    SplitData,
    data_config,
    make_splits,
    open_source,
)
from edgecnn.training.data.splits import stratified_subset

__all__ = [
    "KNOWN_DATASETS",
    "SPLITS",
    "Source",
    "SplitData",
    "data_config",
    "decode_image",
    "load_arrays",
    "make_splits",
    "open_source",
    "prepare_split",
    "resolve_split",
]

log = logging.getLogger(__name__)


def prepare_split(
    split: SplitData, spec: Preprocessing, *, where: str = "the data", progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Prepares one split into ``(pixels uint8 N x H x W x C, labels int64 N)``.

    Unreadable image files are skipped and reported in one warning.

    Raises:
        EdgeCNNError: If no image of the split is readable.
    """
    if split.images is not None:
        x = prepare_arrays(split.images, spec, progress=progress, desc=f"preparing {where}")
        return x, split.labels.copy()
    x, kept, skipped = prepare_files(split.files, spec, progress=progress, desc=f"decoding {where}")
    warn_skipped(skipped, where)
    require_images(len(kept), where)
    return x, split.labels[kept]


def resolve_split(splits: dict[str, SplitData], split: str, location: str) -> str:
    """The split to use for a requested one: "test" falls back to "val" (with a warning) when there is none.

    Raises:
        EdgeCNNError: For an unknown split name or a split the source cannot provide.
    """
    if split not in SPLITS:
        raise EdgeCNNError(f"split must be one of {', '.join(SPLITS)}. Received split={split!r}")
    if split == "test" and "test" not in splits:
        if "val" not in splits:
            raise EdgeCNNError(f"{location} has neither a test nor a validation split")
        log.warning("%s has no test split; using the validation split instead", location)
        return "val"
    if split not in splits:
        raise EdgeCNNError(f"{location} has no {split} split (use --val-split > 0 or a {split}/ folder)")
    return split


def load_arrays(
    data: str | dict,
    spec: Preprocessing,
    split: str = "train",
    *,
    limit: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Prepared pixels, labels and class names of one split of a data source.

    Args:
        data: A ``--data`` value (folder, IDX directory, dataset name) or a run's ``config["data"]`` dict, which
            redraws the run's exact splits (same validation fraction, seed and size limit).
        spec: The model's preprocessing; every image goes through ``prepare(image, spec)``.
        split: "train", "val" or "test" ("test" falls back to "val" with a warning where there is none).
        limit: At most this many items: a deterministic, class-stratified subset.
        seed: Seed of the subset (and of the validation split when ``data`` is a string).
        progress: Show a progress bar while decoding.

    Returns:
        ``(x, y, labels)``: ``uint8`` ``N x H x W x C`` pixels, ``int64`` labels, class names.
    """
    if isinstance(data, dict):
        if "source" not in data:
            raise EdgeCNNError("the data config has no 'source' entry")
        source = open_source(data["source"])
        splits = make_splits(
            source,
            val_split=float(data.get("val_split", 0.1)),
            seed=int(data.get("seed", 0)),
            max_samples=data.get("max_samples"),
        )
        saved_labels = data.get("labels")
        if saved_labels and list(saved_labels) != source.labels:
            raise EdgeCNNError(
                f"the classes of {source.location} changed since the run was trained: "
                f"{len(source.labels)} now, {len(saved_labels)} recorded"
            )
    else:
        source = open_source(data)
        splits = make_splits(source, seed=seed)
    name = resolve_split(splits, split, source.location)
    chosen = splits[name]
    if limit is not None:
        if limit < 1:
            raise EdgeCNNError(f"limit must be >= 1. Received limit={limit}")
        chosen = chosen.subset(stratified_subset(chosen.labels, limit, seed))
    x, y = prepare_split(chosen, spec, where=f"{source.location} ({name})", progress=progress)
    return x, y, list(source.labels)

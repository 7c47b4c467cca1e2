"""Deterministic, class-stratified index selection: validation splits and size limits.

Each class draws from its own generator seeded by ``(seed, class)``, so a class's selection does not depend on
how many images the other classes have, and the same seed always selects the same files.
"""

from __future__ import annotations

import numpy as np


def _class_permutation(labels: np.ndarray, cls: int, seed: int, stream: int) -> np.ndarray:
    members = np.flatnonzero(labels == cls)
    return members[np.random.default_rng([seed, stream, cls]).permutation(len(members))]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Splits indices into ``(keep, held_out)`` with ``fraction`` of every class held out.

    A class with at least two images gives at least one to each side when ``fraction > 0``.

    Returns:
        Two sorted int64 index arrays.
    """
    keep, held = [], []
    for cls in np.unique(labels):
        perm = _class_permutation(labels, int(cls), seed, stream=0)
        n_held = int(round(len(perm) * fraction))
        if fraction > 0 and len(perm) >= 2:
            n_held = min(max(n_held, 1), len(perm) - 1)
        held.append(perm[:n_held])
        keep.append(perm[n_held:])
    return _joined(keep), _joined(held)


def stratified_subset(labels: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """Sorted indices of at most ``limit`` items keeping the class proportions (largest-remainder quotas).

    ``limit=None`` or a limit at least the number of items selects everything.
    """
    n = len(labels)
    if limit is None or limit >= n:
        return np.arange(n, dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (limit / n)
    quota = np.floor(exact).astype(np.int64)
    # Hand out the remaining places by the largest fractional part (ties: the lower class index).
    order = np.lexsort((classes, -(exact - quota)))
    quota[order[: limit - int(quota.sum())]] += 1
    chosen = [_class_permutation(labels, int(cls), seed, stream=1)[:q] for cls, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)

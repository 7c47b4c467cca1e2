"""Pareto fronts of a sweep: the models no other model beats on both cost and accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgecnn.sweep.results import is_ok

# Front name -> (cost column to minimise, accuracy column to maximise).
FRONTS = {"size": ("file_bytes", "tflite_top1"), "latency": ("latency_ms", "tflite_top1")}


def pareto_indices(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated when ``x`` is minimised and ``y`` maximised, sorted by ``x``.

    A point is dominated when another one is at least as good on both axes and strictly better on one.
    Identical points are all kept.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best_y = float("-inf")
    best_x = None
    for i in order:
        x, y = points[i]
        if y > best_y:
            front.append(i)
            best_y, best_x = y, x
        elif y == best_y and x == best_x:  # an exact duplicate of the last front point
            front.append(i)
    return front


def mark_pareto(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Sets ``pareto_size`` / ``pareto_latency`` on every row (False for failed rows).

    Returns:
        For each front name, the indices into ``rows`` on that front, sorted by cost.
    """
    fronts: dict[str, list[int]] = {}
    for name, (cost, accuracy) in FRONTS.items():
        candidates = [i for i, row in enumerate(rows) if is_ok(row) and row.get(cost) is not None]
        chosen = pareto_indices([(float(rows[i][cost]), float(rows[i][accuracy])) for i in candidates])
        fronts[name] = [candidates[j] for j in chosen]
        on_front = set(fronts[name])
        for i, row in enumerate(rows):
            row[f"pareto_{name}"] = i in on_front
    return fronts

"""Scores ``edgecnn run`` JSON lines against a ground-truth label file (one label per frame, in frame order).

Example:
    python tools/score_predictions.py demo/predictions.jsonl demo/heldout.labels.txt
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from edgecnn.core.labels import read_labels


def score(predictions: Path, truth: Path) -> dict:
    """Top-1 accuracy of the predictions whose frame index has a ground-truth label, and the median latencies."""
    labels = read_labels(truth)  # one label per frame, in frame order
    correct = scored = 0
    invoke_ms, total_ms = [], []
    for line in predictions.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        frame = record["frame"]
        if frame >= len(labels) or not record["top_k"]:
            continue
        scored += 1
        correct += record["top_k"][0]["label"] == labels[frame]
        invoke_ms.append(record["ms"]["invoke"])
        total_ms.append(record["ms"]["total"])
    if not scored:
        raise SystemExit(f"error: no prediction in {predictions} matches a frame of {truth}")
    return {
        "frames": scored,
        "top1": correct / scored,
        "invoke_ms_median": statistics.median(invoke_ms),
        "total_ms_median": statistics.median(total_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("truth", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = score(args.predictions, args.truth)
    if args.json:
        json.dump(result, sys.stdout)
        print()
    else:
        print(
            f"video top-1 accuracy {result['top1']:.2%} over {result['frames']} frames "
            f"(median invoke {result['invoke_ms_median']:.2f} ms, "
            f"per-frame total {result['total_ms_median']:.2f} ms)"
        )


if __name__ == "__main__":
    main()

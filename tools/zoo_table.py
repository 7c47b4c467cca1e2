"""Prints the markdown table "ours vs published" (parameters and MACs) for docs/zoo.md and the README.

Usage: .venv/bin/python tools/zoo_table.py [--json]

Every row builds the model with edgecnn.training.zoo.build_model at the published setting (size and classes as
published) and counts it with edgecnn.training.zoo.profile_model; the published figures and their sources are in
edgecnn/training/zoo/published.py. The big baselines (VGG, AlexNet) need about 2 GB of memory; run it with nice.
"""

from __future__ import annotations

import argparse
import json
import sys


def measure() -> list[dict]:
    """Builds every published configuration and returns one dict per row."""
    from tqdm import tqdm

    from edgecnn.training.zoo import build_model, profile_model
    from edgecnn.training.zoo.published import PUBLISHED, our_params

    rows = []
    for pub in tqdm(PUBLISHED, desc="building", unit="model", file=sys.stderr):
        model = build_model(pub.arch, alpha=pub.alpha, size=pub.size, classes=pub.classes, separable=pub.separable)
        prof = profile_model(model)
        rows.append(
            {
                **pub._asdict(),
                "params": prof.params,
                "inference_params": prof.inference_params,
                "trainable_params": prof.trainable_params,
                "compared_params": our_params(pub, prof),
                "macs": prof.macs,
                "params_dev_pct": 100 * (our_params(pub, prof) / (pub.params_m * 1e6) - 1),
                "macs_dev_pct": None if pub.macs_m is None else 100 * (prof.macs / (pub.macs_m * 1e6) - 1),
            }
        )
        del model
    return rows


def _published_params(params_m: float) -> str:
    exact = round(params_m * 1e6)
    return f"{exact:,}" if params_m * 1e3 != round(params_m * 1e3) else f"{params_m:g}M"


def _ours(count: int, params_m: float) -> str:
    """Our count in the published figure's style: exact where the published one is exact, else in millions."""
    return f"{count:,}" if params_m * 1e3 != round(params_m * 1e3) else f"{count / 1e6:.3f}M"


def to_markdown(rows: list[dict]) -> str:
    """The comparison table plus numbered source notes."""
    sources: list[str] = []
    lines = [
        "| model | alpha | size | separable | MACs ours | MACs published | dev. | params ours | counted "
        "| params published | dev. | Keras count | source |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["source"] not in sources:
            sources.append(r["source"])
        ref = f"[{sources.index(r['source']) + 1}]" + ("*" if r["note"] else "")
        pub_macs = "-" if r["macs_m"] is None else f"{r['macs_m']:g}M"
        macs_dev = "-" if r["macs_dev_pct"] is None else f"{r['macs_dev_pct']:+.1f}%"
        lines.append(
            f"| {r['arch']} | {r['alpha']:g} | {r['size']} | {'yes' if r['separable'] else 'no'} "
            f"| {r['macs'] / 1e6:.1f}M | {pub_macs} | {macs_dev} | {_ours(r['compared_params'], r['params_m'])} "
            f"| {'trainable' if r['params_kind'] == 'trainable' else 'BN folded'} "
            f"| {_published_params(r['params_m'])} | {r['params_dev_pct']:+.1f}% | {r['params']:,} | {ref} |"
        )
    lines.append("")
    lines += [f"- [{i + 1}] {s}" for i, s in enumerate(sources)]
    notes = [f"{r['arch']} {r['alpha']:g}/{r['size']}: {r['note']}" for r in rows if r["note"]]
    lines += [f"- \\* {n}" for n in notes]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of markdown")
    args = parser.parse_args()
    rows = measure()
    print(json.dumps(rows, indent=2) if args.json else to_markdown(rows))


if __name__ == "__main__":
    main()

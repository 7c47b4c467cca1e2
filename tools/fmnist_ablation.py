"""The training-recipe ablation on Fashion-MNIST: one ``edgecnn train`` command per row, results as a Markdown table.

Each row changes one part of today's recipe (flips, label smoothing 0.1, AdamW weight decay 0.02, a 1-epoch
warm-up, no shifts, crops or erasing on curated data) or combines parts, trains the same network with it and reports
its test top-1 on the 10,000 test images. The table is what decides the defaults of ``edgecnn train`` for curated
data (docs/training.md): run it at the epoch counts that reach the front (tens of epochs), not at smoke scale.

Resumable: a row whose run directory has ``metrics.json`` is only read; one with ``last.keras`` continues with
``--resume``; a row that failed is retried. Each row's log is ``<run directory>.log`` beside it.

Usage (from the repository root)::

    python tools/fmnist_ablation.py --out runs/ablation --epochs 30                    # the real ablation
    python tools/fmnist_ablation.py --out /tmp/abl --epochs 2 --max-samples 2000 \\
        --arch mobilenet_v1:0.25:32:2                                                 # a smoke run
    python tools/fmnist_ablation.py --out runs/ablation --table-only                   # re-render the table

``--arch ARCH:ALPHA:SIZE:STEM_STRIDE`` is repeatable (every row runs for each network); ``--seed`` too (the table
gives each seed's number). ``--rows`` picks rows by name.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

#: (row name, what it changes, extra ``edgecnn train`` arguments). The first row is the reference. On Fashion-MNIST
#: today's augmentation is flips only, so "no flips" is the same run as "no augmentation" (bit for bit: measured).
ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("today", "today's defaults: flips, label smoothing 0.1, weight decay 0.02, 1-epoch warm-up", ()),
    ("no_augment", "no augmentation at all", ("--no-augment",)),
    ("crop2", "+ random crop, 2-px zero padding", ("--crop-pad", "2")),
    ("crop4", "+ random crop, 4-px zero padding", ("--crop-pad", "4")),
    ("shift10", "+ random shifts up to 10%", ("--translate", "0.1")),
    ("erase25", "+ random erasing, p 0.25", ("--erase", "0.25")),
    ("erase50", "+ random erasing, p 0.5", ("--erase", "0.5")),
    ("warmup0", "no warm-up", ("--warmup-epochs", "0")),
    ("warmup3", "3-epoch warm-up", ("--warmup-epochs", "3")),
    ("smooth0", "label smoothing 0", ("--label-smoothing", "0")),
    ("wd0", "weight decay 0", ("--weight-decay", "0")),
    ("wd05", "weight decay 0.05", ("--weight-decay", "0.05")),
    ("crop2_erase25", "+ crop 2 px + erasing p 0.25", ("--crop-pad", "2", "--erase", "0.25")),
    (
        "crop2_erase25_smooth0_wd05",
        "+ crop 2 px + erasing p 0.25, smoothing 0, decay 0.05",
        ("--crop-pad", "2", "--erase", "0.25", "--label-smoothing", "0", "--weight-decay", "0.05"),
    ),
)
DEFAULT_ARCH = "mobilenet_v2:0.35:32:1"


def parse_arch(text: str) -> tuple[str, str, str, str]:
    """``ARCH[:ALPHA[:SIZE[:STEM_STRIDE]]]`` with defaults 1, 32 and 2."""
    parts = text.split(":")
    if not parts[0] or len(parts) > 4:
        raise argparse.ArgumentTypeError(f"--arch takes ARCH:ALPHA:SIZE:STEM_STRIDE. Received {text!r}")
    arch, alpha, size, stem = (parts + ["1", "32", "2"][len(parts) - 1 :])[:4]
    return arch, alpha, size, stem


def run_name(row: str, arch: tuple[str, str, str, str], seed: int, extra: list[str] | None = None) -> str:
    name, alpha, size, stem = arch
    tag = "".join(a.lstrip("-").replace("-", "_") if a.startswith("-") else a for a in extra or [])
    return f"{name}_a{alpha}_s{size}_st{stem}{'_' + tag if tag else ''}_seed{seed}/{row}"


def train_args(row_args, arch, seed: int, args, out: Path) -> list[str]:
    """The ``edgecnn train`` arguments of one row, starting afresh into ``out``."""
    name, alpha, size, stem = arch
    cmd = ["train", name, "--data", args.data, "--out", str(out), "--alpha", alpha, "--size", size]
    cmd += ["--stem-stride", stem, "--epochs", str(args.epochs), "--seed", str(seed)]
    if args.max_samples:
        cmd += ["--max-samples", str(args.max_samples)]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    return [*cmd, *args.train_args, *row_args]


def _resumable(out: Path, epochs: int) -> bool:
    """A checkpoint with epochs still to train (a run killed while scoring, after its last epoch, starts over)."""
    if not ((out / "last.keras").is_file() and (out / "state.json").is_file()):
        return False
    return int(json.loads((out / "state.json").read_text(encoding="utf-8")).get("epoch", 0)) < epochs


def run_rows(args, edgecnn: list[str]) -> list[dict]:
    """Runs (or resumes) every unfinished row; returns one record per row with its metrics where it finished."""
    results = []
    for seed in args.seed:
        for arch in args.arch:
            for row, what, row_args in ROWS:
                if args.rows and row not in args.rows:
                    continue
                out = args.out / run_name(row, arch, seed, args.train_args)
                shown = ["edgecnn", *train_args(row_args, arch, seed, args, out.relative_to(args.out))]
                record = {"row": row, "what": what, "arch": arch, "seed": seed, "command": shlex.join(shown)}
                if not (out / "metrics.json").is_file() and not args.table_only:
                    if _resumable(out, args.epochs):
                        cmd = [*edgecnn, "train", arch[0], "--out", str(out), "--epochs", str(args.epochs), "--resume"]
                    else:  # a fresh start (a failed start leaves nothing behind; --force covers older leftovers)
                        force = ["--force"] if out.is_dir() and any(out.iterdir()) else []
                        cmd = [*edgecnn, *train_args(row_args, arch, seed, args, out), *force]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    log_path = out.parent / f"{row}.log"
                    print(f"[{time.strftime('%H:%M:%S')}] {row} {':'.join(arch)} seed {seed}", flush=True)
                    with open(log_path, "a", encoding="utf-8") as log:
                        log.write(f"$ {shlex.join(cmd)}\n")
                        log.flush()
                        done = subprocess.run([*cmd, "--quiet"], stdout=log, stderr=subprocess.STDOUT, check=False)
                    if done.returncode:
                        print(f"  failed (exit {done.returncode}); see {log_path}", flush=True)
                if (out / "metrics.json").is_file():
                    record["metrics"] = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
                results.append(record)
    return results


def table(results: list[dict], args) -> str:
    """The Markdown table: one line per row and network, a column per seed, the change against ``today``."""
    seeds = list(args.seed)
    lines = [
        f"Fashion-MNIST, {args.epochs} epochs"
        + (f", at most {args.max_samples} images a split" if args.max_samples else ", full training set")
        + f"; test top-1 on the {'test split (capped)' if args.max_samples else '10,000 test images'}. "
        f"Ran on {platform.node()} ({os.cpu_count()} CPUs, {platform.machine()}), {time.strftime('%Y-%m-%d')}.",
        "",
        "| network | row | what changes | command | "
        + " | ".join(f"test top-1 (seed {s})" for s in seeds)
        + " | mean | vs today | train s |",
        "|---|---|---|---|" + "---|" * len(seeds) + "---|---|---|",
    ]
    by_key = {(r["row"], r["arch"], r["seed"]): r for r in results}
    for arch in args.arch:
        base = _mean([by_key.get(("today", arch, s)) for s in seeds])
        for row, what, _ in ROWS:
            found = [by_key.get((row, arch, s)) for s in seeds]
            if not any(found):
                continue
            accs = [_acc(r) for r in found]
            mean = _mean(found)
            delta = "" if mean is None or base is None or row == "today" else f"{100 * (mean - base):+.2f} pt"
            seconds = [r["metrics"]["train_time_s"] for r in found if r and r.get("metrics")]
            cmd = next(r["command"] for r in found if r)
            lines.append(
                f"| {':'.join(arch)} | {row} | {what} | `{cmd}` | "
                + " | ".join("not run" if a is None else f"{100 * a:.2f}%" for a in accs)
                + f" | {'' if mean is None else f'{100 * mean:.2f}%'} | {delta} | "
                + (f"{sum(seconds) / len(seconds):.0f}" if seconds else "")
                + " |"
            )
    return "\n".join(lines) + "\n"


def _acc(record: dict | None) -> float | None:
    return record["metrics"]["test_accuracy"] if record and record.get("metrics") else None


def _mean(records) -> float | None:
    values = [a for a in (_acc(r) for r in records) if a is not None]
    return sum(values) / len(values) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder of the runs and the table.")
    parser.add_argument("--data", default="fashion_mnist")
    parser.add_argument("--arch", type=parse_arch, action="append", help=f"Network (default {DEFAULT_ARCH}).")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, action="append", help="Seed (repeatable; default 0).")
    parser.add_argument("--max-samples", type=int, help="Cap every split (smoke runs).")
    parser.add_argument("--batch-size", type=int, help="Batch size (default: the trainer's).")
    parser.add_argument(
        "--train-args",
        type=shlex.split,
        default=[],
        help="More edgecnn train arguments for every row, e.g. '--head-width 64' (part of the run names).",
    )
    parser.add_argument("--rows", type=lambda s: s.split(","), help="Comma-separated row names (default: all).")
    parser.add_argument("--table", type=Path, help="Where to write the Markdown table (default OUT/ablation.md).")
    parser.add_argument("--table-only", action="store_true", help="Only re-render the table from finished runs.")
    parser.add_argument("--edgecnn", help="The edgecnn command (default: this Python's -m edgecnn).")
    args = parser.parse_args(argv)
    args.arch = args.arch or [parse_arch(DEFAULT_ARCH)]
    args.seed = args.seed or [0]
    args.out = args.out.resolve()
    unknown = sorted(set(args.rows or ()) - {row for row, _, _ in ROWS})
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; rows: {', '.join(row for row, _, _ in ROWS)}")
    edgecnn = shlex.split(args.edgecnn) if args.edgecnn else [sys.executable, "-m", "edgecnn"]
    results = run_rows(args, edgecnn)
    text = table(results, args)
    target = args.table or args.out / "ablation.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(text)
    missing = [r for r in results if not r.get("metrics")]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

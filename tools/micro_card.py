"""Writes the model card of a TFLite Micro model from its run and the JSON of export/eval/inspect ``--micro``.

Used by ``tools/ship_micro.sh``; prints Markdown on stdout::

    python tools/micro_card.py --run RUN --model models/fmnist_micro.tflite --export export.json \\
        --eval eval.json --inspect inspect.json > models/fmnist_micro.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _kb(value: int) -> str:
    return f"{value:,} bytes ({value / 1024:.1f} KB)"


def render(run: Path, model: Path, export: dict, evaluation: dict, inspect: dict) -> str:
    config = json.loads((run / "config.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    state = json.loads((run / "state.json").read_text())
    gate = export["micro"]["verification"]
    arch = config["model"]
    micro = inspect["micro"]
    verification = evaluation["micro"]["verification"]
    steps = verification["steps"]
    data = model.read_bytes()
    stem = model.stem
    name = "".join(part[:1].upper() + part[1:] for part in stem.split("_"))
    knobs = (
        f"alpha {arch['alpha']:g}, depth {arch.get('depth', 1.0):g}, head width {arch.get('head_width')}, "
        f"stem stride {arch.get('stem_stride', 2)}, dropout {arch.get('dropout')}"
    )
    train = config.get("train", {})
    train_cmd = (
        f"edgecnn train {arch['arch']} --data {config['data']['source']} --alpha {arch['alpha']:g} "
        f"--size {arch['size'][0]} --channels {arch['channels']} --stem-stride {arch.get('stem_stride', 2)} "
        f"--depth {arch.get('depth', 1.0):g} --head-width {arch.get('head_width')} --dropout {arch.get('dropout')} "
        f"--lr {train.get('lr', '?')} --epochs {metrics.get('epochs', '?')} -o RUN"
    )
    histogram = ", ".join(
        f"{label}: {100 * count / steps['values']:.1f}%" for label, count in steps["histogram"].items()
    )
    per_class = ", ".join(f"{label} {value:.3f}" for label, value in evaluation["per_class"].items())
    fits = ", ".join(micro["fits"]) or "none of the table"
    lines = [
        f"# {model.name}",
        "",
        f"A Fashion-MNIST classifier for microcontrollers (TensorFlow Lite for Microcontrollers): {arch['arch']} "
        f"({knobs}), {arch['size'][0]}x{arch['size'][1]} grey input, full int8 with int8 input and output. "
        "Sized to fit a 64 KB tensor arena and 128 KB of flash (how it was chosen: docs/micro.md#the-shipped-model).",
        "",
        "**No figure here comes from a real microcontroller**: accuracy and arena are measured with TFLM's "
        "reference kernels in its Python interpreter on a 64-bit x86 host; flash is the file's size.",
        "",
        "| | |",
        "|---|---|",
        f"| test top-1 in TFLM | **{_pct(evaluation['top1'])}** on {evaluation['n']:,} Fashion-MNIST test images |",
        f"| test top-1 (this .tflite, LiteRT) | {_pct(verification['litert_accuracy'])} (XNNPACK) |",
        f"| top-1 agreement TFLM vs LiteRT | {_pct(verification['agreement'])} ({verification['disagreements']} "
        f"images differ, {verification['disagreements_at_ties']} of them at ties; gate: 99.5%) |",
        f"| output differences, int8 steps | {histogram}; max {steps['max']} |",
        f"| export's agreement gate | {_pct(gate['agreement'])} on {gate['samples']:,} validation images |",
        f"| float Keras model (run) | test {_pct(metrics['test_accuracy'])}, val {_pct(metrics['val_accuracy'])} |",
        f"| flash | {_kb(len(data))}: the .tflite as exported, metadata included (+ TFLM's runtime) |",
        f"| tensor arena | {_kb(micro['arena_bytes'])} measured on the 64-bit host (about "
        f"{micro['arena_bytes_32bit_estimate']:,} on a 32-bit board; optimised kernels may add scratch) |",
        f"| operators | {', '.join(f'{op} x{n}' for op, n in micro['operators'].items())} |",
        f"| fits (docs/micro.md#boards) | {fits} |",
        f"| runtime | tflite-micro {micro['tflm_version']} |",
        f"| sha256 | `{hashlib.sha256(data).hexdigest()}` |",
        "",
        f"Per class (TFLM): {per_class}.",
        "",
        f"Where outputs differ by more than 2 steps: {verification['explanation']}.",
        "",
        "## Files",
        "",
        f"- `{stem}.tflite`: the model with its edgecnn metadata (`edgecnn inspect {stem}.tflite --micro`).",
        f"- `{stem}_data.cc` / `{stem}_data.h`: the same bytes as `alignas(16) const unsigned char "
        f"g_{stem}_data[]` and `g_{stem}_data_len`.",
        f"- `{stem}_ops.h`: `{name}OpResolver` (`tflite::MicroMutableOpResolver<{len(micro['operators'])}>`) and "
        f"`Register{name}Ops()`, registering exactly the model's operators.",
        f"- `{stem}.labels.txt`: the class names in output order.",
        "- An example firmware entry point: [docs/micro_main.cc](../docs/micro_main.cc) (not built here).",
        "",
        "## Input and output",
        "",
        f"{arch['size'][0]}x{arch['size'][1]} pixels, one grey channel, row-major from the top-left, as int8 "
        "`pixel - 128` (input scale 1, zero point -128; the model normalises inside). Fashion-MNIST's 28x28 "
        "images are stretched to 32x32 by edgecnn's `prepare()` (bilinear). Output: 10 int8 softmax "
        "probabilities, scale 1/256, zero point -128; the top class is the largest value.",
        "",
        "## Reproduce",
        "",
        "```sh",
        train_cmd,
        "tools/ship_micro.sh RUN models   # export --micro, eval --micro on the test split, inspect --micro, this card",
        "```",
        "",
        "Export: `" + shlex.join(["edgecnn", "export", "RUN", "--quantize", "--micro", "-o", f"{stem}.tflite"]) + "`.",
        f"Training: {metrics.get('epochs', '?')} epochs ({metrics.get('train_time_s', 0) / 60:.0f} min of fit time on "
        f"2 CPU cores shared with other jobs); the model is the best validation epoch, {state.get('best_epoch')} "
        f"(val {_pct(state.get('best', 0.0))}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--run", "--model", "--export", "--eval", "--inspect"):
        parser.add_argument(flag, type=Path, required=True)
    args = parser.parse_args(argv)
    load = lambda path: json.loads(path.read_text())  # noqa: E731
    sys.stdout.write(render(args.run, args.model, load(args.export), load(args.eval), load(args.inspect)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

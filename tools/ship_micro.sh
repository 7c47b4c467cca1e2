#!/usr/bin/env bash
# Regenerates the shipped TFLite Micro model, models/fmnist_micro.*, from its training run:
#   export --quantize --micro (int8 I/O, checked in TFLM, C++ sources), eval --micro on the 10,000 Fashion-MNIST
#   test images (scored in TFLM, compared with LiteRT), inspect --micro, and the model card (tools/micro_card.py).
#
#   tools/ship_micro.sh [RUN_DIR] [DEST_DIR]
#
# The run was trained with (best validation epoch 14; about 50 minutes on 2 shared cores; docs/micro.md tells
# its exact history):
#   edgecnn train mobilenet_v1 --data fashion_mnist --alpha 0.35 --size 32 --channels 1 --stem-stride 1 \
#       --depth 0.25 --head-width 64 --dropout 0.1 --lr 0.003 --epochs 20 -o RUN_DIR
# Needs edgecnn[train,micro]; PYTHON selects the interpreter (default: python).
set -euo pipefail

RUN="${1:-/work/cache/micro/runs/fmnist_v1_a035_d025_h64_s32}"
DEST="${2:-models}"
PY="${PYTHON:-python}"
NAME=fmnist_micro
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The whole validation split (6,000 images) for the TFLM agreement gate: on 1,000 the estimate is +-0.25 point.
"$PY" -m edgecnn export "$RUN" --quantize --micro --verify-samples 6000 -o "$TMP/$NAME.tflite" --json \
  > "$TMP/export.json"
"$PY" -m edgecnn eval "$TMP/$NAME.tflite" --data fashion_mnist --split test --micro --json > "$TMP/eval.json"
"$PY" -m edgecnn inspect "$TMP/$NAME.tflite" --micro --json > "$TMP/inspect.json"

mkdir -p "$DEST"
for suffix in .tflite _data.cc _data.h _ops.h; do
  cp "$TMP/$NAME$suffix" "$DEST/$NAME$suffix"
done
cp "$TMP/labels.txt" "$DEST/$NAME.labels.txt"
"$PY" tools/micro_card.py --run "$RUN" --model "$DEST/$NAME.tflite" --export "$TMP/export.json" \
  --eval "$TMP/eval.json" --inspect "$TMP/inspect.json" > "$DEST/$NAME.md"
echo "wrote $DEST/$NAME.tflite, $NAME.labels.txt, ${NAME}_data.cc/.h, ${NAME}_ops.h, $NAME.md"

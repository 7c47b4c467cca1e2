#!/usr/bin/env bash
# The quick-start main job, end to end on real data (Fashion-MNIST from Debian's dataset-fashion-mnist):
#   set up -> model summary -> train a small MobileNetV2 -> export full-int8 .tflite (calibrated, verified)
#   -> inspect it -> make a video of held-out test images -> classify the video with `edgecnn run` -> score
#   -> benchmark latency.
# Everything lands in demo/ (DEMO_DIR). About 3-5 minutes on 2 cores once the packages are installed.
# Knobs: DEMO_EPOCHS (default 3), DEMO_SAMPLES (training images, default 20000), DEMO_FRAMES (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh

DEMO_DIR=${DEMO_DIR:-demo}
DEMO_EPOCHS=${DEMO_EPOCHS:-3}
DEMO_SAMPLES=${DEMO_SAMPLES:-20000}
DEMO_FRAMES=${DEMO_FRAMES:-300}
mkdir -p "$DEMO_DIR"
step() { printf '\n== %s\n' "$*"; }
start=$(date +%s)

step "1. the model: MobileNetV2, width 0.35, 32x32 grey input, 10 classes"
edgecnn info mobilenet_v2 --alpha 0.35 --size 32 --channels 1 --classes 10

step "2. train on Fashion-MNIST ($DEMO_SAMPLES images, $DEMO_EPOCHS epochs)"
edgecnn train mobilenet_v2 --data fashion_mnist --alpha 0.35 --size 32 --epochs "$DEMO_EPOCHS" \
  --max-samples "$DEMO_SAMPLES" --out "$DEMO_DIR/run" --force

step "3. export a full-int8 .tflite (uint8 in/out), calibrated on training images, verified against Keras"
edgecnn export "$DEMO_DIR/run" --quantize -o "$DEMO_DIR/fashion_int8.tflite"

step "4. what the file says about itself (read without TensorFlow)"
edgecnn inspect "$DEMO_DIR/fashion_int8.tflite"

step "5. a video of $DEMO_FRAMES held-out test images, one per frame"
python tools/make_demo_video.py --data fashion_mnist --split test --count "$DEMO_FRAMES" --out "$DEMO_DIR/heldout.avi"

step "6. classify the video with the device runtime (no TensorFlow), JSON lines out"
edgecnn run "$DEMO_DIR/fashion_int8.tflite" --source "$DEMO_DIR/heldout.avi" --jsonl "$DEMO_DIR/predictions.jsonl" \
  --top-k 3
python tools/score_predictions.py "$DEMO_DIR/predictions.jsonl" "$DEMO_DIR/heldout.labels.txt"

step "7. latency, the way TFLite's benchmark_model measures it"
edgecnn bench "$DEMO_DIR/fashion_int8.tflite" --threads 1,2 --runs 200

printf '\ndone in %ss. Outputs in %s/: run/ (training run), fashion_int8.tflite, predictions.jsonl\n' \
  "$(( $(date +%s) - start ))" "$DEMO_DIR"

#!/bin/sh
# The Fashion-MNIST size-vs-accuracy sweep: writes models/fmnist_sweep/ and picks the int8 model to ship.
#
#   tools/fmnist_sweep.sh            # from the repository root; resumes where a killed run stopped
#
# 3 architectures x 2 widths x 4 quantization schemes = 24 models at 32x32, trained on the full 60k training set
# (Debian's dataset-fashion-mnist IDX files; 54k train / 6k validation) and scored on the 10k test images as .tflite
# files through LiteRT. The learning rate is pinned (not left to the trainer's default) so that the command keeps
# meaning the same thing; augmentation is off because these from-scratch networks converge faster without it in a
# few epochs (measured on MobileNet V1 0.25: 78.2% validation accuracy at epoch 3 without, 73.2% with). 12 epochs:
# with 6, the first three trials ended at 78-84% test accuracy (best int8: MobileNet V1 0.25, 83.7%), short of the
# 90% the shipped model needs; these networks trained from scratch at 32x32 need 10-15 epochs to reach 89-90%.
# Trial folders (training runs, every .tflite) stay in $SWEEP_DIR; the report, results and plots are copied to
# models/fmnist_sweep/, and the smallest int8 model with >= 90% test top-1 to models/ with its labels and card.
set -eu
cd "$(dirname "$0")/.."
SWEEP_DIR=${SWEEP_DIR:-/tmp/sweep/fmnist}
EDGECNN=${EDGECNN:-.venv/bin/edgecnn}

"$EDGECNN" sweep --data fashion_mnist \
    --arch squeezenet_1_1,mobilenet_v1,mobilenet_v2 --alpha 0.25,0.5 --size 32 \
    --quantize float32,float16,dynamic,int8 \
    --epochs 12 --batch-size 128 --lr 0.003 --train-opt augment=false --seed 0 --threads 1 \
    --out "$SWEEP_DIR" --resume \
    --select --min-accuracy 0.9 --select-by size --select-scheme int8 \
    --select-to 'models/fmnist_{arch}_{alpha}_{size}_{scheme}.tflite'

mkdir -p models/fmnist_sweep
for file in report.md results.csv results.json accuracy_vs_size.png accuracy_vs_latency.png; do
    cp "$SWEEP_DIR/$file" models/fmnist_sweep/
done

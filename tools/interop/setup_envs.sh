#!/usr/bin/env bash
# Creates the two environments of the interop tests, each a venv of its own because neither fits in edgecnn's:
#   mediapipe       mediapipe 1.2.3 (MediaPipe Tasks; brings opencv-contrib-python, which clashes with our
#                   opencv-python-headless): tests/training/export/test_export_mediapipe.py and test_export_interop.py
#   tflite-support  tflite-support 0.4.4 (the last release of TFLite's metadata writer): writes standard metadata
#                   into a model the way other tools do, for tests/device/test_device_foreign_metadata.py
# Usage: bash tools/interop/setup_envs.sh [DIR]   (default: .venv-interop; the tests read EDGECNN_INTEROP_ENVS,
# default .venv-interop, too). A package that cannot be installed is reported and skipped (its tests then skip
# with a reason); the script fails only when no Python 3.11+ is found.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${EDGECNN_INTEROP_ENVS:-.venv-interop}}
python=""
for candidate in python3.11 python3.12 python3; do  # 3.11 first: tflite-support 0.4.4 has no wheel for newer ones
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "[interop] Python 3.11+ not found" >&2; exit 1; }

make_env() {  # NAME PACKAGE CHECK
  local env="$dir/$1"
  if [ -x "$env/bin/python" ] && "$env/bin/python" -c "$3" 2>/dev/null; then
    echo "[interop] $env: $2 already there" >&2; return 0
  fi
  echo "[interop] $env: installing $2" >&2
  rm -rf "$env"
  if "$python" -m venv "$env" && "$env/bin/python" -m pip install -q "$2" >"$dir/$1-pip.log" 2>&1 &&
     "$env/bin/python" -c "$3"; then
    echo "[interop] $env: ready" >&2
  else
    tail -n 5 "$dir/$1-pip.log" >&2 || true
    echo "[interop] $env: $2 could not be installed; its tests will be skipped" >&2
    rm -rf "$env"
  fi
}

mkdir -p "$dir"
make_env mediapipe "mediapipe==1.2.3" "from mediapipe.tasks.python import vision; import cv2"
make_env tflite-support "tflite-support==0.4.4" "from tflite_support.metadata_writers import image_classifier"

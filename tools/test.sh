#!/usr/bin/env bash
# Sets everything up (tools/setup_env.sh), lints (ruff, the import contracts) and runs the test suite.
# Extra arguments go to pytest, e.g.
#   bash tools/test.sh -m slow        # the long tests (real-data training, big models)
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN_EXTRAS=${EDGECNN_EXTRAS:-train,device,dev,ray,micro} \
EDGECNN_APT_PACKAGES=${EDGECNN_APT_PACKAGES:-dataset-fashion-mnist opencv-doc g++} \
  source tools/setup_env.sh
# TFLite Micro's headers at its pinned commits, for the op-resolver compile test (network; skipped when it fails).
if [ -z "${TFLM_SOURCE_DIR:-}" ] && [ "${EDGECNN_TFLM_HEADERS:-1}" = 1 ]; then
  eval "$(bash tools/tflm_headers.sh .cache/tflm 2>/dev/null)" || echo "[test] TFLM headers not fetched" >&2
fi
# Lint first (seconds): style, formatting and the import contracts between the layers (pyproject.toml).
.venv/bin/ruff check edgecnn tests tools
.venv/bin/ruff format --check edgecnn tests tools
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Sets everything up (tools/setup_env.sh), lints (ruff, the import contracts) and runs the test suite.
# Extra arguments go to pytest, e.g.
#   bash tools/test.sh -m slow        # the long tests (real-data training, big models)
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN_EXTRAS=${EDGECNN_EXTRAS:-train,device,dev,ray,micro} \
EDGECNN_APT_PACKAGES=${EDGECNN_APT_PACKAGES:-dataset-fashion-mnist opencv-doc g++ ffmpeg} \
  source tools/setup_env.sh
# Lint first (seconds): style, formatting and the import contracts between the layers (pyproject.toml).
.venv/bin/ruff check edgecnn tests tools
.venv/bin/ruff format --check edgecnn tests tools
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# The device side as a Raspberry Pi installs it: a second environment (.venv-device) with only edgecnn[device]
# (numpy, OpenCV, LiteRT) plus the test runner, no TensorFlow, and the device-side tests run in it.
#   bash tools/test_device_only.sh            # extra arguments go to pytest
# Fails if TensorFlow or Keras can be imported there. The device tests use the committed .tflite fixtures
# (tests/device/fixtures); the one test that needs TensorFlow (the tf.lite fallback) skips with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN_VENV=.venv-device EDGECNN_EXTRAS=device EDGECNN_APT_PACKAGES=dataset-fashion-mnist source tools/setup_env.sh
python=.venv-device/bin/python
if ! "$python" -c 'import pytest, pytest_timeout' 2>/dev/null; then
  "$python" -m pip install -q pytest pytest-timeout
fi
for heavy in tensorflow keras tf_keras; do
  if "$python" -c "import $heavy" 2>/dev/null; then
    echo "error: $heavy is importable in the device-only environment (.venv-device)" >&2
    exit 1
  fi
done
echo "[device-only] TensorFlow, Keras: not importable in .venv-device (as on a Pi with edgecnn[device])" >&2
tests=()
for dir in tests/core tests/modelfile tests/device tests/cli; do [ -d "$dir" ] && tests+=("$dir"); done
exec "$python" -m pytest "${tests[@]}" "$@"

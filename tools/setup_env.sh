#!/usr/bin/env bash
# Sets up everything edgecnn needs on a fresh Debian/Ubuntu machine; sourced by tools/demo.sh and tools/test.sh.
#   - Debian packages where possible (root, or passwordless sudo): python3-venv, and the real data sets
#     dataset-fashion-mnist (Fashion-MNIST IDX files) and opencv-doc (sample photos and videos).
#   - A virtual environment in .venv (EDGECNN_VENV) with edgecnn installed editable and the extras named in
#     EDGECNN_EXTRAS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

EDGECNN_EXTRAS=${EDGECNN_EXTRAS:-train,device,dev}
EDGECNN_APT_PACKAGES=${EDGECNN_APT_PACKAGES:-dataset-fashion-mnist}
EDGECNN_VENV=${EDGECNN_VENV:-.venv}

log() { printf '[setup] %s\n' "$*" >&2; }

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      log "not root and no passwordless sudo: skipping apt-get install $*"; return 0; fi
  fi
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get on this machine: skipping $*"; return 0; }
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || log "apt-get install ${missing[*]} failed; continuing without (tests on real data will be skipped)"
}

PYTHON=$(pick_python) || { log "Python 3.11 or newer is required (apt-get install python3)"; exit 1; }

# python3-venv is a separate Debian package; ensurepip tells whether it is there.
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
apt_install $EDGECNN_APT_PACKAGES

if [ ! -x "$EDGECNN_VENV/bin/python" ]; then
  log "creating $EDGECNN_VENV with $PYTHON"
  "$PYTHON" -m venv "$EDGECNN_VENV"
fi
stamp="$EDGECNN_VENV/.edgecnn-installed-$(printf '%s' "$EDGECNN_EXTRAS" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing edgecnn[$EDGECNN_EXTRAS] into $EDGECNN_VENV (with TensorFlow the first run takes a few minutes)"
  pip_log=$EDGECNN_VENV/pip-install.log
  if ! { "$EDGECNN_VENV/bin/python" -m pip install -q --upgrade pip &&
         "$EDGECNN_VENV/bin/python" -m pip install -q -e ".[$EDGECNN_EXTRAS]"; } >"$pip_log" 2>&1; then
    tail -n 30 "$pip_log" >&2
    log "pip install failed (full log: $pip_log)"
    exit 1
  fi
  touch "$stamp"
fi
export PATH="$PWD/$EDGECNN_VENV/bin:$PATH"

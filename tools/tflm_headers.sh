#!/usr/bin/env bash
# Assembles the headers the op-resolver compile test needs (tests/modelfile/test_modelfile_micro_sources.py):
# tflite-micro, flatbuffers and gemmlowp at the commits TFLM pins, under DEST (default .cache/tflm), then prints
# the line to export. Sources: GitHub archives, or local git mirrors when MIRROR_DIR has owner+name/repo clones.
#
#   tools/tflm_headers.sh [DEST]        # then: export TFLM_SOURCE_DIR=DEST
#
# tflite-micro: 90b983c2 (2026-08-20), the tree edgecnn/modelfile/tflm_ops.py was generated from; its
# flatbuffers pin (v25.9.23, tensorflow/lite/micro/tools/make/flatbuffers_download.sh) and gemmlowp pin
# (third_party_downloads.inc). Nothing here is committed to edgecnn; the files stay under DEST.
set -euo pipefail

DEST="${1:-.cache/tflm}"
TFLM_COMMIT=90b983c2b3f1480642e040bbd2ddb37b998f3424
FLATBUFFERS_COMMIT=187240970746d00bbd26b0f5873ed54d2477f9f3  # tag v25.9.23
GEMMLOWP_COMMIT=719139ce755a0f31cbf1c37f7f98adcc7fc9f425

fetch() {  # fetch OWNER/NAME COMMIT TARGET [PATHS...]
  local repo="$1" commit="$2" target="$3"
  shift 3
  rm -rf "$target" && mkdir -p "$target"
  local mirror="${MIRROR_DIR:-}/${repo/\//+}/repo"
  if [ -n "${MIRROR_DIR:-}" ] && [ -d "$mirror" ]; then
    git -C "$mirror" archive "$commit" "$@" | tar -x -C "$target"
  else
    curl -fsSL "https://github.com/$repo/archive/$commit.tar.gz" | tar -xz -C "$target" --strip-components=1
  fi
}

fetch tensorflow/tflite-micro "$TFLM_COMMIT" "$DEST/tflite-micro"
fetch google/flatbuffers "$FLATBUFFERS_COMMIT" "$DEST/flatbuffers" include
fetch google/gemmlowp "$GEMMLOWP_COMMIT" "$DEST/gemmlowp" fixedpoint internal
echo "export TFLM_SOURCE_DIR=$(cd "$DEST" && pwd)"

#!/usr/bin/env bash
# Platform parity on emulated Raspberry Pi OS userlands: edgecnn[device] from aarch64 wheels only, run under
# qemu-user 10 with the Pi 4 and Pi 5 cores, every `top_k` compared with the x86 run of the same command.
#
#   bash tools/check_aarch64.sh                  # bookworm (Python 3.11, Pi OS Bookworm) and trixie (3.13)
#   bash tools/check_aarch64.sh bookworm         # one of them
#
# What it does, per suite:
#   1. a Pi OS-like userland from Debian's arm64 packages: apt (with a private state folder, nothing touches the
#      host's apt) downloads pythonX.Y and libstdc++6 with their dependencies, `dpkg -x` unpacks them into a root
#      folder (no maintainer scripts, no chroot, no binfmt);
#   2. qemu-aarch64 from Debian trixie's qemu-user .deb (10.x, static), unpacked the same way: bookworm's qemu
#      7.2 crashes inside LiteRT 2.x;
#   3. edgecnn (a wheel of this checkout) and its [device] extra installed by the x86 pip with aarch64 platform
#      tags, --only-binary=:all: and --target, pinned to the numpy/OpenCV/LiteRT versions of the x86 side;
#      the check fails if TensorFlow arrives;
#   4. tools/check_aarch64.py: `edgecnn inspect`, `run` (PNG folders, the demo's FFV1 video of held-out
#      Fashion-MNIST test images) and `bench` on x86 and as `qemu-aarch64 -L ROOT` with QEMU_CPU=cortex-a72 and
#      cortex-a76, then the agreement. It exits non-zero when a required agreement fails.
#
# Downloads are cached under EDGECNN_AARCH64_CACHE (default .aarch64/, ignored by git): a second run only
# reinstalls the edgecnn wheel. Needs: the x86 environment of tools/setup_env.sh (.venv, or PYTHON=...), apt-get,
# dpkg-deb, network access to a Debian mirror and PyPI, Debian's dataset-fashion-mnist (tools/test.sh installs it).
# Knobs: EDGECNN_DEBIAN_MIRROR, EDGECNN_QEMU_CPUS ("cortex-a72 cortex-a76"), PYTHON.
# Timings under emulation are meaningless as performance figures: nothing here reports them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=$(mkdir -p "${EDGECNN_AARCH64_CACHE:-.aarch64}" && cd "${EDGECNN_AARCH64_CACHE:-.aarch64}" && pwd)
MIRROR=${EDGECNN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CPUS=${EDGECNN_QEMU_CPUS:-cortex-a72 cortex-a76}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(bookworm trixie)

log() { printf '[aarch64] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }
# Runs a command with its output in a log file, shown (the end of it) only when it fails.
quietly() {
  if ! "$@" >"$CACHE/step.log" 2>&1; then
    tail -n 30 "$CACHE/step.log" >&2
    die "failed: $*"
  fi
}
[ -x "$PYTHON" ] || die "no x86 Python at $PYTHON (run tools/setup_env.sh, or set PYTHON)"

# apt-get with a private configuration and state under $CACHE/apt-NAME (ARCH, SUITE): the host's apt is untouched.
private_apt() {
  local name=$1 arch=$2 suite=$3 dir=$CACHE/apt-$1
  if [ ! -f "$dir/etc/apt/sources.list" ]; then
    mkdir -p "$dir"/etc/apt/{apt.conf.d,preferences.d,sources.list.d} "$dir"/var/lib/apt/lists/partial \
      "$dir"/var/cache/apt/archives/partial "$dir"/var/lib/dpkg
    : >"$dir/var/lib/dpkg/status"
    echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main" \
      >"$dir/etc/apt/sources.list"
  fi
  shift 3
  apt-get -q -y -o Dir="$dir" -o Dir::State::status="$dir/var/lib/dpkg/status" -o APT::Architecture="$arch" \
    -o APT::Architectures::="$arch" -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

# An update once per cache (the lists are what a later run reuses); again when asked with a fresh cache.
apt_update_once() {
  local dir=$CACHE/apt-$1
  [ -f "$dir/.updated" ] && return 0
  quietly private_apt "$@" update && touch "$dir/.updated"
}

qemu_binary() {
  local qemu=$CACHE/qemu/qemu-aarch64
  if [ ! -x "$qemu" ]; then
    log "qemu-user 10 from Debian trixie (amd64 .deb, unpacked)"
    apt_update_once trixie-amd64 amd64 trixie
    local debs=$CACHE/debs && mkdir -p "$debs" "$CACHE/qemu"
    (cd "$debs" && quietly private_apt trixie-amd64 amd64 trixie download qemu-user)
    dpkg-deb --fsys-tarfile "$(ls -t "$debs"/qemu-user_*_amd64.deb | head -n1)" |
      tar -x -O ./usr/bin/qemu-aarch64 >"$qemu.tmp"
    chmod +x "$qemu.tmp" && mv "$qemu.tmp" "$qemu"
  fi
  "$qemu" --version | head -n1 >&2
  echo "$qemu"
}

# The userland of SUITE: pythonX.Y and libstdc++6 (the manylinux wheels' C++ runtime) with their dependencies.
userland() {
  local suite=$1 py=$2 root=$CACHE/root-$1
  if [ ! -f "$root/.complete" ]; then
    log "$suite arm64 userland with $py (Debian packages, dpkg -x)"
    apt_update_once "$suite-arm64" arm64 "$suite"
    quietly private_apt "$suite-arm64" arm64 "$suite" install --download-only --no-install-recommends "$py" libstdc++6
    rm -rf "$root" && mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/sbin"
    # Merged /usr as on an installed system (trixie's packages ship only /usr paths; the loader is /lib/ld-...).
    for dir in bin lib sbin; do ln -s "usr/$dir" "$root/$dir"; done
    for deb in "$CACHE/apt-$suite-arm64"/var/cache/apt/archives/*.deb; do
      dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --keep-directory-symlink
    done
    touch "$root/.complete"
  fi
  echo "$root"
}

# edgecnn[device] for the guest: aarch64 wheels only, for the guest's Python and glibc, same versions as x86.
install_device() {
  local suite=$1 py=$2 root=$3 site=$CACHE/site-$1
  local ver=${py#python} glibc libc6
  libc6=$(ls "$CACHE/apt-$suite-arm64"/var/cache/apt/archives/libc6_*.deb | head -n1)
  glibc=$(dpkg-deb -f "$libc6" Version | cut -d. -f2 | cut -d- -f1)  # 2.36-9+deb12u13 -> 36
  local platforms=(--platform manylinux2014_aarch64)
  for minor in $(seq 17 "$glibc"); do platforms+=(--platform "manylinux_2_${minor}_aarch64"); done
  "$PYTHON" - >"$CACHE/pins-$suite.txt" <<'EOF'
from importlib.metadata import version
for name in ("numpy", "opencv-python-headless", "ai-edge-litert"):
    print(f"{name}=={version(name)}")
EOF
  local pip=("$PYTHON" -m pip -q --disable-pip-version-check)
  local target=(--only-binary=:all: "${platforms[@]}" --python-version "$ver" --implementation cp
    --abi "cp${ver/./}" --target "$site")
  rm -rf "$CACHE/dist" && quietly "${pip[@]}" wheel --no-deps -w "$CACHE/dist" "$REPO"
  local wheel && wheel=$(ls "$CACHE"/dist/edgecnn-*.whl)
  local stamp="$site/.deps-$(md5sum "$CACHE/pins-$suite.txt" "$REPO/pyproject.toml" | md5sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    log "$suite: edgecnn[device] from aarch64 wheels ($(tr '\n' ' ' <"$CACHE/pins-$suite.txt"))"
    rm -rf "$site"
    PIP_CACHE_DIR=$CACHE/pip quietly "${pip[@]}" install "${target[@]}" -c "$CACHE/pins-$suite.txt" \
      "edgecnn[device] @ file://$wheel"
    touch "$stamp"
  else
    PIP_CACHE_DIR=$CACHE/pip quietly "${pip[@]}" install "${target[@]}" --no-deps --upgrade "$wheel"
  fi
  if ls -d "$site"/tensorflow* "$site"/keras* >/dev/null 2>&1; then die "TensorFlow or Keras arrived in $site"; fi
  echo "$site"
}

start=$(date +%s)
QEMU=$(qemu_binary)
status=0
for suite in "${SUITES[@]}"; do
  case $suite in
    bookworm) py=python3.11 ;;
    trixie) py=python3.13 ;;
    *) die "unknown suite $suite (bookworm or trixie)" ;;
  esac
  t0=$(date +%s)
  root=$(userland "$suite" "$py")
  site=$(install_device "$suite" "$py" "$root")
  log "$suite: set up in $(( $(date +%s) - t0 )) s"
  # shellcheck disable=SC2086
  PYTHONPATH=$REPO "$PYTHON" tools/check_aarch64.py --qemu "$QEMU" --root "$root" --site "$site" \
    --guest-python "/usr/bin/$py" --name "$suite" --cpus $CPUS --work "$CACHE/work" || status=1
done
log "done in $(( $(date +%s) - start )) s (wall time of the check, not a performance figure)"
exit $status

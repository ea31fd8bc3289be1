#!/usr/bin/env bash
# Run the edgefer runtime as an aarch64 (Raspberry Pi 4/5 class) program on this x86 machine,
# under qemu user-mode emulation, and check it predicts what the x86 runtime predicts.
#
# Needs no root-only kernel feature (no binfmt_misc): qemu-aarch64-static is started directly,
# QEMU_LD_PREFIX points it at an unpacked aarch64 Debian root and PYTHONPATH at unpacked aarch64
# wheels. Downloads about 150 MB on the first run (Debian packages and PyPI wheels), cached in
# $ARM64_ROOT. Emulated timings say nothing about a real Pi: this script does not report them.
#
#   benchmarks/arm64/run.sh            # or: make arm64-check
#   env: ARM64_ROOT (cache, default ~/.cache/edgefer/arm64), N_FACES (500), PYTHON (x86 python),
#        EDGEFER_DATA, EDGEFER_DETECTOR, PHOTO, MODEL (default: the shipped int8 model),
#        BACKENDS (optional backends also compared, default "openvino ncnn litert": each runs
#        its shipped model where an aarch64 wheel exists, and is reported as skipped where not)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${ARM64_ROOT:-$HOME/.cache/edgefer/arm64}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
N_FACES=${N_FACES:-500}
SHARED=${SHARED:-$REPO/../shared}
export EDGEFER_DATA=${EDGEFER_DATA:-$SHARED/data/fer2013/fer2013.npz}
export EDGEFER_DETECTOR=${EDGEFER_DETECTOR:-$SHARED/models/face_detection_yunet_2023mar.onnx}
PHOTO=${PHOTO:-$SHARED/models/testdata/astronaut.png}
MODEL=${MODEL:-$REPO/edgefer/assets/edge.int8.onnx}
OUT=${OUT:-$REPO/runs/arm64}
BACKENDS=${BACKENDS:-openvino ncnn litert}
# Debian bookworm's Python 3.11 and the shared libraries it and the wheels link against
# (glibc 2.36: openvino's aarch64 wheels need manylinux_2_35).
DEBS="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1 libstdc++6
 gcc-12-base zlib1g libexpat1 libssl3 libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libncursesw6
 libtinfo6 libreadline8 libuuid1 libcrypt1 libdb5.3 libnsl2 libtirpc3 libgdbm6"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'arm64-check: %s\n' "$*" >&2; exit 1; }

command -v qemu-aarch64-static >/dev/null ||
  die "qemu-aarch64-static not found: apt-get install qemu-user-static"
command -v dpkg >/dev/null && command -v apt-get >/dev/null ||
  die "needs a Debian-family host (apt-get, dpkg) to fetch aarch64 packages"
[ -x "$PYTHON" ] || die "no x86 python at $PYTHON: run 'make setup' first or set PYTHON"
for f in "$EDGEFER_DATA" "$EDGEFER_DETECTOR" "$PHOTO" "$MODEL"; do
  [ -f "$f" ] || die "missing $f (see README: Data and models)"
done
mkdir -p "$ROOT" "$OUT"

if [ ! -x "$ROOT/sysroot/usr/bin/python3.11" ]; then
  say "aarch64 Debian packages -> $ROOT/sysroot"
  # A private apt configuration for arm64: the host's apt state and sources stay untouched.
  apt="$ROOT/apt"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/sources" "$ROOT/debs"
  : > "$apt/status"
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$apt/sources/" \
    2>/dev/null || true
  [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$apt/sources/main.list"
  cat > "$apt/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::State "$apt/state";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt/sources";
Dir::Etc::Parts "/dev/null";
CONF
  export APT_CONFIG="$apt/apt.conf"
  apt-get update -qq
  (cd "$ROOT/debs" && apt-get download -qq $DEBS 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  rm -rf "$ROOT/sysroot.partial"
  for deb in "$ROOT"/debs/*.deb; do dpkg -x "$deb" "$ROOT/sysroot.partial"; done
  # qemu 7.2 shows aarch64 programs the host's x86 /proc/cpuinfo, on which onnxruntime's CPU
  # detection crashes; qemu looks in QEMU_LD_PREFIX first, so give it a Pi 5 (Cortex-A76) one.
  mkdir -p "$ROOT/sysroot.partial/proc"
  for i in 0 1 2 3; do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n' "$i"
  done > "$ROOT/sysroot.partial/proc/cpuinfo"
  mv "$ROOT/sysroot.partial" "$ROOT/sysroot"
fi

if [ ! -f "$ROOT/site/.complete" ]; then
  say "aarch64 wheels (runtime only: numpy, onnxruntime, opencv-python-headless, typer, rich) -> $ROOT/site"
  rm -rf "$ROOT/site"
  PIP_CONFIG_FILE=/dev/null "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$ROOT/site" \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64 \
    --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp \
    --only-binary=:all: -c "$REPO/constraints.txt" \
    numpy onnxruntime opencv-python-headless typer rich
  touch "$ROOT/site/.complete"
fi
for backend in $BACKENDS; do  # the optional backends' aarch64 wheels, each in its own dir
  case $backend in litert) wheel=ai-edge-litert ;; *) wheel=$backend ;; esac  # pip's name
  if [ ! -f "$ROOT/site-$backend/.complete" ] && [ ! -f "$ROOT/site-$backend/.none" ]; then
    say "aarch64 wheel for $backend -> $ROOT/site-$backend"
    rm -rf "$ROOT/site-$backend"
    if PIP_CONFIG_FILE=/dev/null "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        --target "$ROOT/site-$backend" --platform manylinux_2_36_aarch64 \
        --platform manylinux_2_35_aarch64 --platform manylinux_2_31_aarch64 \
        --platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 \
        --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 --python-version 3.11 \
        --implementation cp --only-binary=:all: -c "$REPO/constraints.txt" "$wheel"; then
      touch "$ROOT/site-$backend/.complete"
    else
      mkdir -p "$ROOT/site-$backend" && touch "$ROOT/site-$backend/.none"
    fi
  fi
done

# edgefer itself as a user installs it (the wheel: export/ lands as edgefer.export), pure
# Python, so the x86 pip builds and unpacks it for aarch64 too; rebuilt on every run.
say "edgefer wheel -> $ROOT/app"
rm -rf "$ROOT/app" "$ROOT/wheel" "$ROOT/src" && mkdir "$ROOT/src"
cp -r "$REPO"/{edgefer,export,setup.py,pyproject.toml,README.md} "$ROOT/src/"  # no build/ here
PIP_CONFIG_FILE=/dev/null "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -w "$ROOT/wheel" "$ROOT/src"
PIP_CONFIG_FILE=/dev/null "$PYTHON" -m pip install --quiet --disable-pip-version-check \
  --no-deps --target "$ROOT/app" "$ROOT"/wheel/edgefer-*.whl

# The aarch64 interpreter, as a wrapper script: with no binfmt_misc an aarch64 program cannot
# exec another aarch64 binary, so anything that starts Python must start this script instead.
cat > "$ROOT/python" <<WRAP
#!/usr/bin/env bash
export QEMU_LD_PREFIX="$ROOT/sysroot" QEMU_CPU=\${QEMU_CPU:-cortex-a76}
export PYTHONPATH="$ROOT/site:$ROOT/app\${EXTRA_SITE:+:\$EXTRA_SITE}" PYTHONNOUSERSITE=1
exec qemu-aarch64-static "$ROOT/sysroot/usr/bin/python3.11" "\$@"
WRAP
chmod +x "$ROOT/python"
ARM="$ROOT/python"

cd "$ROOT"  # not the tree: `python -m edgefer` would import ./edgefer before the wheel's
say "aarch64 interpreter"
"$ARM" -c "import platform, sys, numpy, cv2, onnxruntime as ort
print(platform.machine(), sys.version.split()[0], 'numpy', numpy.__version__,
      'opencv', cv2.__version__, 'onnxruntime', ort.__version__)"
"$ARM" -c "import sys, edgefer.runtime; assert 'torch' not in sys.modules; print('runtime imports without torch')"

say "edgefer detect --json on $(basename "$PHOTO"): aarch64 vs x86"
"$ARM" -m edgefer detect --json --model "$MODEL" --source "$PHOTO" --threads 1 > "$OUT/detect.aarch64.json"
"$PYTHON" -m edgefer detect --json --model "$MODEL" --source "$PHOTO" --threads 1 > "$OUT/detect.x86_64.json"

say "edgefer evaluate on the first $N_FACES PrivateTest faces: aarch64 vs x86"
"$ARM" -m edgefer evaluate "$MODEL" --split test --limit "$N_FACES" \
  --predictions "$OUT/test.aarch64.csv"
"$PYTHON" -m edgefer evaluate "$MODEL" --split test --limit "$N_FACES" \
  --predictions "$OUT/test.x86_64.csv" > /dev/null

for backend in $BACKENDS; do
  if [ -f "$ROOT/site-$backend/.none" ]; then
    say "$backend: no aarch64 wheel on PyPI for Python 3.11: skipped"
    continue
  fi
  say "edgefer evaluate --backend $backend on the first $N_FACES PrivateTest faces: aarch64 vs x86"
  EXTRA_SITE="$ROOT/site-$backend" "$ARM" -m edgefer evaluate --backend "$backend" --split test \
    --limit "$N_FACES" --predictions "$OUT/test.aarch64.$backend.csv"
  "$PYTHON" -m edgefer evaluate --backend "$backend" --split test --limit "$N_FACES" \
    --predictions "$OUT/test.x86_64.$backend.csv" > /dev/null
done

say "comparison"
"$PYTHON" "$REPO/benchmarks/arm64/compare.py" "$OUT"

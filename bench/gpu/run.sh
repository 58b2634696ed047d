#!/usr/bin/env bash
# One-command WebGPU benchmark on a machine with a real GPU (see docs/webgpu.md).
#
#   bench/gpu/run.sh                 # from the repository root or anywhere
#   SIZES=200 BATCHES=1024,4096 bench/gpu/run.sh
#
# Installs what it needs (the npm packages of the lock file, including the optional "webgpu"
# package with Dawn's prebuilt binary; on Debian/Ubuntu the Vulkan loader libvulkan1 when
# absent — the GPU driver itself must already be installed), builds, and runs
# dist/bench/webgpu.bench.js on Dawn's native backend (Vulkan on Linux, Metal on macOS,
# D3D12 on Windows) with --require-hardware: a software adapter (llvmpipe, lavapipe,
# SwiftShader) is refused, and the script exits 1 when no hardware adapter is found.
# Prints one JSON line per case; each names the adapter.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-100,200}"
BATCHES="${BATCHES:-1,16,256,1024}"
SECONDS_PER_CASE="${SECONDS_PER_CASE:-3}"

if ! command -v node >/dev/null 2>&1; then
  echo "bench/gpu/run.sh: needs Node.js ≥ 20 on the PATH" >&2
  exit 1
fi
if [ "$(uname -s)" = "Linux" ] && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "installing the Vulkan loader (libvulkan1)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 >/dev/null
  else
    echo "bench/gpu/run.sh: the Vulkan loader libvulkan.so.1 is missing (install libvulkan1)" >&2
  fi
fi
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L >&2 || true; fi

npm ci --no-audit --no-fund >&2
npm run build >&2
node dist/bench/webgpu.bench.js --adapter native --require-hardware \
  --sizes "$SIZES" --batches "$BATCHES" --seconds "$SECONDS_PER_CASE"

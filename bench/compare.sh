#!/usr/bin/env bash
# Driftscope vs PyTorch, side by side on this machine, in one run (issue 6).
#
# Installs what the peer needs if missing (Debian's python3-torch and OpenBLAS's OpenMP
# build, libopenblas0-openmp: the pthreads build fights torch's own threads on 2 cores),
# prints the machine, the load and which BLAS torch really loads, times the GEMM limit
# (BM_StepGemms/BM_Sgemm), then for every shape x batch x threads runs Driftscope's
# BM_TrainEpoch and bench/torch_mlp.py ALTERNATELY (the order flips every row) on the
# same data subset and epochs, and prints a markdown table of samples/s and ratios.
#
# Usage: bench/compare.sh [--build-dir DIR] [--shapes "784-128-10 ..."] [--batches "1 16"]
#                         [--threads "1 2"] [--repeats 5] [--json FILE]
# Default: the three shapes x batch 1 16 64 256 x threads 1 2, 5 repetitions (~10 min).
# Build first:  cmake --preset release -DDRIFTSCOPE_BUILD_GUI=OFF
#               cmake --build build/release --target driftscope_bench
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build_dir="$root/build/release"
args=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

bench="$build_dir/bench/driftscope_bench"
if [[ ! -x "$bench" ]]; then
  echo "compare.sh: $bench not found; build the release preset first (see the header)" >&2
  exit 1
fi

# The peer: Debian's torch and the OpenMP OpenBLAS (installed if missing).
need=()
for p in python3-torch libopenblas0-openmp; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || need+=("$p")
done
if ((${#need[@]})); then
  echo "compare.sh: installing ${need[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { "${sudo_cmd[@]}" apt-get update -qq &&
      "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

# Debian puts all BLAS builds behind one alternatives link; choose the OpenMP one for torch
# by library path (the system default is left alone).
export DRIFTSCOPE_TORCH_LD_LIBRARY_PATH="/usr/lib/$(gcc -print-multiarch)/openblas-openmp"
exec /usr/bin/python3 "$here/compare_driver.py" --bench "$bench" "${args[@]}"

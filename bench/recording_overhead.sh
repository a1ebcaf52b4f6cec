#!/usr/bin/env bash
# What watching a run costs it (issue 6: "recording a snapshot every epoch with all
# analyses live costs < 5% of training throughput for 784-256-256-10 with a ring of 500").
#
# Runs `driftscope run` ALTERNATELY with and without recording on the same configuration
# and compares training time over two windows of epochs, taken from metrics.csv's
# `seconds` column (wall time at the end of each epoch; the per-epoch evaluation is the
# same in both runs):
#   early: epochs 3..40      (ring filling, few snapshots)
#   full:  the last 40 epochs (ring of 500 full and wrapping; only with --full)
# "with": a snapshot every epoch (record_every = steps per epoch of the embedded MNIST,
# 8,000 samples / batch 64 = 125), burn-in 0, all analyses at their defaults.
# "without": the same run with burn-in = epochs - 1 (recording starts at the last epoch).
# --gui: "without" is the headless run WITH recording and "with" the same configuration in
# the window (QT_QPA_PLATFORM=offscreen, all six plots live, `--start --export DIR`), so
# the overhead column is what the window costs over `driftscope run`.
#
# Usage: bench/recording_overhead.sh [--threads N] [--pairs N] [--full] [--share S] [--gui]
#                                     [--build-dir DIR] [--keep DIR]
# Default: 2 threads, 3 pairs, 44 epochs (~1 min a pair); --full runs 560 epochs
# (~3 min a pair at 2 threads). Build first: cmake --build --preset release
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build_dir="$root/build/release"
threads=2
pairs=3
full=0
gui=0
share=""
keep=""
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --full) full=1; shift ;;
    --gui) gui=1; shift ;;
    --share) share="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    *) echo "recording_overhead.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
app="$build_dir/app/driftscope"
if [[ ! -x "$app" ]]; then
  echo "recording_overhead.sh: $app not found; build the release preset first" >&2
  exit 1
fi
epochs=44
((full)) && epochs=560
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[[ -n "$keep" ]] || trap 'rm -rf "$work"' EXIT

setup=(--layers 784,256,256,10 --batch 64 --record-every 125 --capacity 500
       --threads "$threads" --no-figures -q)
[[ -n "$share" ]] && setup+=(--live-share "$share")
common=("${setup[@]}" --epochs "$epochs")

# seconds between the end of epoch a and the end of epoch b in metrics.csv
window() {
  awk -F, -v a="$1" -v b="$2" 'NR > 1 && $1 == a {ta = $NF} NR > 1 && $1 == b {tb = $NF}
       END {printf "%.3f", tb - ta}' "$3"
}

echo "# recording overhead: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "# threads $threads, epochs $epochs, pairs $pairs, share ${share:-default}," \
     "$( ((gui)) && echo "window vs headless (both recording)," || echo "recording vs not,")" \
     "load at start: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M UTC')"
printf '| pair | order | without: early | with: early | overhead |'
((full)) && printf ' without: full | with: full | overhead |'
printf '\n|---|---|---:|---:|---:|'
((full)) && printf -- '---:|---:|---:|'
printf '\n'
last=$((epochs - 1))
for ((k = 1; k <= pairs; k++)); do
  order=(without with)
  ((k % 2 == 0)) && order=(with without)
  for mode in "${order[@]}"; do
    out="$work/$mode-$k"
    rm -rf "$out"
    if ((gui)) && [[ $mode == with ]]; then
      # The window with the configuration of a headless recording run (made once).
      config="$work/gui-config/config.json"
      if [[ ! -f "$config" ]]; then
        "$app" run --out "$work/gui-config" "${setup[@]}" --epochs 2 --burn-in 0
        sed -i "s/\"epochs\": 2,/\"epochs\": $epochs,/" "$config"
      fi
      QT_QPA_PLATFORM=offscreen "$app" --config "$config" --start --export "$out" 2>/dev/null
    elif [[ $mode == with ]] || ((gui)); then
      "$app" run --out "$out" "${common[@]}" --burn-in 0
    else
      "$app" run --out "$out" "${common[@]}" --burn-in "$last"
    fi
  done
  e0=$(window 3 40 "$work/without-$k/metrics.csv")
  e1=$(window 3 40 "$work/with-$k/metrics.csv")
  row="| $k | ${order[0]} first | $e0 | $e1 | $(awk -v a="$e0" -v b="$e1" 'BEGIN {printf "%+.1f%%", 100 * (b / a - 1)}') |"
  if ((full)); then
    f0=$(window $((last - 40)) "$last" "$work/without-$k/metrics.csv")
    f1=$(window $((last - 40)) "$last" "$work/with-$k/metrics.csv")
    row+=" $f0 | $f1 | $(awk -v a="$f0" -v b="$f1" 'BEGIN {printf "%+.1f%%", 100 * (b / a - 1)}') |"
  fi
  echo "$row"
done
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

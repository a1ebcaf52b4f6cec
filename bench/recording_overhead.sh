#!/usr/bin/env bash
# What watching a run costs it (issue 6: "recording a snapshot every epoch with all
# analyses live costs < 5% of training throughput for 784-256-256-10 with a ring of 500").
#
# Runs `driftscope run` ALTERNATELY with and without recording on the same configuration
# and compares training time over two windows of epochs, taken from metrics.csv's
# `seconds` column (wall time at the end of each epoch; the per-epoch evaluation is the
# same in both runs):
#   early: epochs 3..40      (ring filling, few snapshots)
#   full:  epochs 519..(last - 1) (ring of 500 full and wrapping; only with --full; the
#          last epoch is left out: the run "without" starts recording there)
# "with": a snapshot every epoch (record_every = steps per epoch of the embedded MNIST,
# 8,000 samples / batch 64 = 125), burn-in 0, all analyses at their defaults.
# "without": the same run with burn-in = epochs - 1 (recording starts at the last epoch).
# --gui: "without" is the headless run WITH recording and "with" the same configuration in
# the window (QT_QPA_PLATFORM=offscreen, all six plots live, `--start --export DIR`), so
# the overhead column is what the window costs over `driftscope run`.
#
# Two runs per pair: on a shared guest whose speed drifts between states ~30% apart for
# tens of seconds, a 5% effect needs many pairs; build/release/bench/recording_toggle
# measures the same within one run (bench/recording_toggle.cpp).
# Usage: bench/recording_overhead.sh [--threads N] [--pairs N] [--full] [--share S] [--gui]
#                                     [--eval-subset N] [--epochs N] [--build-dir DIR]
#                                     [--keep DIR]
# --eval-subset: test inputs of the function-space distance and the linear path (default
# 2,000): at a full ring every snapshot's function distance is one forward pass of them.
# --epochs N: run length with --full (default 560: a 40-epoch window at a full ring, which
# the run-to-run noise of +-10% swamps; 1000 gives a ~480-epoch window).
# Default: 2 threads, 3 pairs, 44 epochs (~1 min a pair); --full runs --epochs epochs
# (default 560, ~3 min a pair at 2 threads; 1000: ~4 min a pair). Build first: cmake --build --preset release
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build_dir="$root/build/release"
threads=2
pairs=3
full=0
gui=0
share=""
eval_subset=""
full_epochs=560
keep=""
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --full) full=1; shift ;;
    --gui) gui=1; shift ;;
    --share) share="$2"; shift 2 ;;
    --eval-subset) eval_subset="$2"; shift 2 ;;
    --epochs) full_epochs="$2"; shift 2 ;;
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
if ((!full)) && [[ $full_epochs != 560 ]]; then
  echo "recording_overhead.sh: --epochs only applies with --full" >&2
  exit 2
fi
((full)) && epochs=$full_epochs
if ((full && epochs < 530)); then
  echo "recording_overhead.sh: --full needs --epochs >= 530 (the ring of 500 fills at 500)" >&2
  exit 2
fi
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[[ -n "$keep" ]] || trap 'rm -rf "$work"' EXIT

setup=(--layers 784,256,256,10 --batch 64 --record-every 125 --capacity 500
       --threads "$threads" --no-figures -q)
[[ -n "$share" ]] && setup+=(--live-share "$share")
[[ -n "$eval_subset" ]] && setup+=(--eval-subset "$eval_subset")
common=("${setup[@]}" --epochs "$epochs")

# seconds between the end of epoch a and the end of epoch b in metrics.csv
window() {
  awk -F, -v a="$1" -v b="$2" 'NR > 1 && $1 == a {ta = $NF} NR > 1 && $1 == b {tb = $NF}
       END {printf "%.3f", tb - ta}' "$3"
}

echo "# recording overhead: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "# threads $threads, epochs $epochs, pairs $pairs, share ${share:-default}," \
     "eval subset ${eval_subset:-default}," \
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
    f0=$(window 519 $((last - 1)) "$work/without-$k/metrics.csv")
    f1=$(window 519 $((last - 1)) "$work/with-$k/metrics.csv")
    row+=" $f0 | $f1 | $(awk -v a="$f0" -v b="$f1" 'BEGIN {printf "%+.1f%%", 100 * (b / a - 1)}') |"
  fi
  echo "$row"
done
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

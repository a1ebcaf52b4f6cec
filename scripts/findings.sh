#!/usr/bin/env bash
# The study behind docs/findings.md: how far constant-learning-rate SGD wanders after
# MNIST training stops improving, against the permutation yardstick, and how that
# depends on the learning rate, weight decay, the loss and momentum.
#
# Every run: the embedded MNIST (8,000 train / 2,000 test), 784-128-10 ReLU, batch 64,
# 20 burn-in epochs, then 60 recorded epochs (7,500 steps) with a snapshot every 25
# steps (301 snapshots, all kept in the ring); two long runs record 300 epochs instead. Runs are deterministic: a seed gives the
# same numbers with any thread count.
#
#   OUT=DIR      where the runs go (default: build/findings)
#   REPORT=DIR   where the report goes (default: docs/findings)
#   JOBS=N       runs at once, one thread each (default: 2 = the cores of the CI machine)
#   FORCE=1      rerun runs whose folder is complete already (default: reuse them)
#
# About 12 minutes on 2 cores from a fresh clone, half of it the release build (measured:
# see docs/findings.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-build/findings}   # relative: the report names the runs by these paths
report=${REPORT:-docs/findings}
jobs=${JOBS:-2}

scripts/install-deps.sh
cmake --preset release -DDRIFTSCOPE_BUILD_GUI=ON >/dev/null
cmake --build --preset release --target driftscope
app=$root/build/release/app/driftscope

common=(--dataset mnist-embedded --layers 784,128,10 --activation relu --batch 64
        --burn-in 20 --capacity 500 --threads 1 -q)
std="--epochs 80 --record-every 25"   # 60 recorded epochs, 301 snapshots
# name | flags
runs=(
  "lr0.01|--lr 0.01 $std"
  "lr0.05|--lr 0.05 $std"
  "lr0.2|--lr 0.2 $std"
  "lr0.05-wd5e-4|--lr 0.05 --weight-decay 5e-4 $std"
  "lr0.05-wd1e-2|--lr 0.05 --weight-decay 1e-2 $std"
  "lr0.05-mse|--lr 0.05 --loss mse $std"
  "lr0.005-mom0.9|--lr 0.005 --momentum 0.9 $std"
  "lr0.05-seed2|--lr 0.05 --seed 2 $std"
  # Five times longer (300 recorded epochs, a snapshot per epoch): does the drift plateau?
  "lr0.05-long|--lr 0.05 --epochs 320 --record-every 125"
  "lr0.05-wd1e-2-long|--lr 0.05 --weight-decay 1e-2 --epochs 320 --record-every 125"
)

one_run() {
  local name=${1%%|*} flags=${1#*|}
  local dir=$out/$name
  # Reuse a finished run only if it was made with exactly these flags.
  local stamp="${common[*]} $flags"
  if [[ -z "${FORCE:-}" && -f $dir/summary.json && -f $dir/findings-flags.txt &&
        "$(cat "$dir/findings-flags.txt")" == "$stamp" ]]; then
    echo "findings: $name: reusing $dir"
    return 0
  fi
  rm -rf "$dir"
  local t0=$SECONDS
  # shellcheck disable=SC2086  # flags are word lists by design
  if ! "$app" run "${common[@]}" $flags --out "$dir" >"$out/$name.log" 2>&1; then
    echo "findings: $name FAILED (see $out/$name.log)" >&2
    cat "$out/$name.log" >&2
    return 1
  fi
  echo "$stamp" >"$dir/findings-flags.txt"
  echo "findings: $name done in $((SECONDS - t0)) s"
}

mkdir -p "$out"
t0=$SECONDS
failed=0
pids=()
for spec in "${runs[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || failed=1
  done
  one_run "$spec" &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if ((failed)); then
  echo "findings: some runs failed" >&2
  exit 1
fi
echo "findings: all runs in $((SECONDS - t0)) s"

dirs=()
for spec in "${runs[@]}"; do dirs+=("$out/${spec%%|*}"); done
# The whole study (the 80-epoch runs), then focused comparisons (fewer curves per figure).
"$app" report --no-svg --title "Driftscope findings: the whole study" --runs "${dirs[@]:0:8}" \
  --out "$report/all"
"$app" report --no-svg --title "Learning rate (cross-entropy, no weight decay) and an independent run" \
  --runs "$out/lr0.01" "$out/lr0.05" "$out/lr0.2" "$out/lr0.05-seed2" --out "$report/lr"
"$app" report --no-svg --title "Weight decay and loss at lr 0.05" \
  --runs "$out/lr0.05" "$out/lr0.05-wd5e-4" "$out/lr0.05-wd1e-2" "$out/lr0.05-mse" \
  --out "$report/regularisation"
"$app" report --no-svg --title "Momentum 0.9 at lr 0.005 against plain SGD at lr 0.05" \
  --runs "$out/lr0.05" "$out/lr0.005-mom0.9" --out "$report/momentum"
"$app" report --no-svg --title "Long runs: 300 recorded epochs, with and without weight decay" \
  --runs "$out/lr0.05-long" "$out/lr0.05-wd1e-2-long" --out "$report/long"
echo "findings: report in $report (all, lr, regularisation, momentum, long); $((SECONDS - t0)) s in all"

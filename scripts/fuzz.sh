#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, ASan + UBSan, coverage) and runs
# each one on its seed corpus for a fixed time, one after the other.
#
#   scripts/fuzz.sh                 all targets (idx config session), 600 s each
#   scripts/fuzz.sh idx             one target
#   SECONDS_PER_TARGET=60 scripts/fuzz.sh
#   JOBS=2                          parallel build jobs (default 2)
#
# The seed corpus (fuzz/corpus/<target>/) is read-only here: inputs the fuzzer finds go
# to build/fuzz/corpus/<target>/, crashes to build/fuzz/artifacts/<target>/, the log to
# build/fuzz/<target>.log. A crash input that is fixed belongs in fuzz/regressions/<target>/:
# the normal test suite replays it (tests/fuzz/fuzz_entries_test.cpp).
# Exits non-zero if any target found a crash, leak, timeout or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
# Fuzz-only packages: clang with its libFuzzer/sanitizer runtimes.
missing=()
for p in clang libclang-rt-14-dev; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

targets=${*:-idx config session}
per_target=${SECONDS_PER_TARGET:-600}
jobs=${JOBS:-2}

build_targets=()
for t in $targets; do build_targets+=("driftscope_fuzz_$t"); done
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs" --target "${build_targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
summary=()
for t in $targets; do
  bin="$root/build/fuzz/fuzz/driftscope_fuzz_$t"
  work="$root/build/fuzz/corpus/$t"
  artifacts="$root/build/fuzz/artifacts/$t"
  log="$root/build/fuzz/$t.log"
  mkdir -p "$work" "$artifacts"
  dict="$root/fuzz/dict/json.dict"
  [[ "$t" == idx ]] && dict="$root/fuzz/dict/idx.dict"
  echo "=== fuzz: $t for ${per_target}s (log $log) ==="
  set +e
  # -rss_limit_mb/-malloc_limit_mb: an input must not make the reader allocate what the
  # file merely declares; -timeout: no input may take 10 s.
  "$bin" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=65536 -dict="$dict" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 || true)
  if ((rc == 0)); then
    summary+=("$t: clean, $runs runs in ${per_target}s, $cov, corpus $(ls "$work" | wc -l) inputs")
  else
    summary+=("$t: FOUND A PROBLEM (exit $rc) after $runs runs; see $log and $artifacts/")
    failed=1
  fi
done
echo "=== fuzz summary ==="
printf '%s\n' "${summary[@]}"
exit "$failed"

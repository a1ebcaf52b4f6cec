#!/usr/bin/env bash
# Builds and tests Driftscope under the sanitizer presets (asan = Address+UndefinedBehavior,
# tsan = Thread) and prints a one-line summary per preset.
#
#   PRESETS="asan tsan"  presets to run (default: both)
#   JOBS=2               parallel build jobs (default: 2)
#
# Exits non-zero when any preset fails to configure, build or pass its tests.
# Sanitizer options are exported before the build too, because gtest_discover_tests
# runs the (instrumented) test binaries at build time.
# Suppression files, when present, only cover third-party libraries (Qt, fontconfig,
# TBB, ...), never Driftscope's own code:
#   scripts/lsan.supp  LeakSanitizer (asan preset)
#   scripts/tsan.supp  ThreadSanitizer (tsan preset); the tsan preset's suite includes
#                      TsanSuppressions.* (tests/tsan/), deliberate races that must still
#                      be reported with these suppressions.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh

presets=${PRESETS:-asan tsan}
jobs=${JOBS:-2}
summary=()
failed=0

for p in $presets; do
  echo "=== sanitizers: preset $p ==="
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS
  case "$p" in
    asan)
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      if [[ -f "$root/scripts/lsan.supp" ]]; then
        export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=1"
      fi
      ;;
    tsan)
      # history_size=7: the largest access history, so the earlier access of a report keeps
      # its stack (with the default, long-running TBB workers' accesses show "[failed to
      # restore the stack]", and a suppression can only match the other stack).
      export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:history_size=7
      if [[ -f "$root/scripts/tsan.supp" ]]; then
        export TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$root/scripts/tsan.supp"
      fi
      ;;
    *)
      echo "unknown sanitizer preset: $p" >&2
      summary+=("$p: FAILED (unknown preset)")
      failed=1
      continue
      ;;
  esac

  t0=$SECONDS
  if ! cmake --preset "$p" -DDRIFTSCOPE_BUILD_BENCH=OFF; then
    summary+=("$p: FAILED at configure")
    failed=1
    continue
  fi
  if ! cmake --build --preset "$p" -j"$jobs"; then
    summary+=("$p: FAILED at build (build $((SECONDS - t0))s)")
    failed=1
    continue
  fi
  build_s=$((SECONDS - t0))

  t1=$SECONDS
  log="$root/build/$p/sanitizer-ctest.log"
  set +e
  ctest --preset "$p" -j2 --timeout 600 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  test_s=$((SECONDS - t1))
  result=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$log" | tail -n1 || true)
  if ((rc == 0)); then
    summary+=("$p: PASSED - ${result:-no ctest summary} (build ${build_s}s, tests ${test_s}s)")
  else
    summary+=("$p: FAILED - ${result:-ctest exit $rc} (build ${build_s}s, tests ${test_s}s; log $log)")
    failed=1
  fi
done

echo "=== sanitizer summary ==="
for line in "${summary[@]}"; do
  echo "$line"
done
exit "$failed"

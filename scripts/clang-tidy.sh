#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) on every source file of core/ (default) or on
# the files/regexes given, with the dev preset's compile_commands.json. Exits non-zero on
# any finding.
#
#   scripts/clang-tidy.sh                  all of core/
#   scripts/clang-tidy.sh 'core/io/.*'     a subset (run-clang-tidy regexes)
#   JOBS=2                                 parallel clang-tidy processes (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
missing=()
for p in clang-tidy clang-tools; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "clang-tidy: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f build/dev/compile_commands.json ]]; then
  cmake --preset dev >/dev/null
fi
files=("$@")
((${#files[@]} > 0)) || files=("$root/core/.*\\.cpp\$")
log="$root/build/dev/clang-tidy.log"
# The dev preset compiles with GCC: its GCC-only warning flags mean nothing to clang.
set +e
run-clang-tidy -quiet -j "${JOBS:-2}" -p build/dev \
  -extra-arg=-Wno-unknown-warning-option -extra-arg=-Wno-ignored-optimization-argument \
  "${files[@]}" 2>&1 | grep -v '^[0-9]* warnings\? generated' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# run-clang-tidy colours its output: strip the escape sequences before counting.
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^/.*: (warning|error): ' || true)
echo "clang-tidy: $findings finding(s); log $log"
if ((rc != 0 || findings > 0)); then exit 1; fi

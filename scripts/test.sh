#!/usr/bin/env bash
# Installs what is missing, builds the dev preset (optimised, assertions on) and runs
# the whole test suite; UI tests use Qt's offscreen platform.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
QT_QPA_PLATFORM=offscreen ctest --preset dev -j2

#!/usr/bin/env bash
# Installs what is missing, builds the release preset and starts Driftscope on the
# embedded MNIST default. Without a display it says so and runs the default experiment
# headless (`driftscope run`) instead. Extra arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
app=build/release/app/driftscope
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]] && "$app" --has-gui >/dev/null 2>&1; then
  exec "$app" "$@"
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "driftscope: no display found (DISPLAY and WAYLAND_DISPLAY are unset);" \
       "running the default experiment headless with 'driftscope run'."
fi
exec "$app" run "$@"

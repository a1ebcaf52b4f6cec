#!/usr/bin/env bash
# Builds the distributable Debian package: installs what is missing, configures and
# builds the `package` preset (-O3, portable x86-64, no benchmarks, no tests), runs
# CPack's DEB generator and prints the path of the .deb.
#   scripts/package.sh            # then: sudo apt-get install ./build/package/driftscope_*.deb
# JOBS=N sets the build parallelism (default: 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# dpkg-shlibdeps (dpkg-dev) computes the Depends line from the binary's libraries.
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "driftscope: installing dpkg-dev (for dpkg-shlibdeps)"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi
cmake --preset package -DBUILD_TESTING=OFF >/dev/null
cmake --build --preset package -j"${JOBS:-2}"
rm -f build/package/driftscope_*.deb
(cd build/package && cpack -G DEB >/dev/null)
deb=$(ls build/package/driftscope_*.deb)
echo "driftscope: built $deb"
echo "$PWD/$deb"

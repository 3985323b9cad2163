#!/usr/bin/env bash
# Configures (once) and builds cbes into build/ with Ninja. Extra arguments go to cmake's
# configure step, e.g. scripts/build.sh -DCBES_SANITIZE='address;undefined'.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CBES_BUILD_DIR:-build}
args=(-G Ninja -DCMAKE_BUILD_TYPE=${CBES_BUILD_TYPE:-RelWithDebInfo})
[[ "${CI:-}" == true ]] && args+=(-DCBES_WERROR=ON)
if [[ ! -f "$build_dir/build.ninja" || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" "${args[@]}" "$@" >/dev/null
fi
cmake --build "$build_dir" -j "${CBES_JOBS:-$(nproc)}"

#!/usr/bin/env bash
# Configures (once) and builds cbes into build/ with Ninja. Extra arguments go to cmake's
# configure step, e.g. scripts/build.sh -DCBES_SANITIZE='address;undefined'.
# CBES_TARGETS="cbes-sandbox cbes-consul" builds only those targets (./quickstart.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths below the source folder are hashed relative to it and the working directory is
# not hashed, so a fresh clone in another folder on the same machine hits the cache of earlier
# builds (a CI clone otherwise recompiles everything).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
build_dir=${CBES_BUILD_DIR:-build}
args=(-G Ninja -DCMAKE_BUILD_TYPE=${CBES_BUILD_TYPE:-RelWithDebInfo})
[[ "${CI:-}" == true ]] && args+=(-DCBES_WERROR=ON)
if [[ ! -f "$build_dir/build.ninja" || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" "${args[@]}" "$@" >/dev/null
fi
targets=()
for t in ${CBES_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "${CBES_JOBS:-$(nproc)}" "${targets[@]}"

#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*.cpp) with Clang 14, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, replays every committed regression input, then runs
# each target for a bounded time on its seed corpus. Any crash, leak, sanitizer report, timeout
# (10 s per input) or memory use over 2 GB fails the run; what the fuzzer found is left in
# build-fuzz/fuzz-artifacts/ — fix it and commit the input under fuzz/regressions/<target>/.
#
#   scripts/fuzz.sh              30 s per target
#   scripts/fuzz.sh 600          longer, by hand
#   scripts/fuzz.sh 60 sink      one target (fuzz/sink.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
only=${2:-}
dir=${CBES_FUZZ_BUILD_DIR:-build-fuzz}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
if ! command -v clang++-14 >/dev/null || ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "scripts/fuzz.sh: clang-14 and libclang-rt-14-dev are needed (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
if [[ ! -f "$dir/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCBES_FUZZ=ON -DCBES_SANITIZE='address;undefined' -DCBES_BUILD_TESTS=OFF \
    -DCBES_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$dir" -j "$(nproc)" --target fuzz

status=0
for src in fuzz/*.cpp; do
  name=$(basename "$src" .cpp)
  [[ -n "$only" && "$only" != "$name" ]] && continue
  bin="$dir/bin/fuzz-${name//_/-}"
  work="$dir/fuzz-corpus/$name" artifacts="$dir/fuzz-artifacts/$name"
  mkdir -p "$work" "$artifacts" "fuzz/corpus/$name"
  common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/")
  log="$artifacts/run.log"
  if compgen -G "fuzz/regressions/$name/*" >/dev/null; then
    if ! "$bin" "${common[@]}" fuzz/regressions/"$name"/* >"$log" 2>&1; then
      echo "fuzz-$name: a regression input fails again:"; tail -40 "$log"; status=1; continue
    fi
  fi
  # New inputs go to the first folder (build-fuzz/), the committed seeds are only read.
  if "$bin" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      "$work" "fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz-$name: ${runs:-?} inputs in ${seconds} s, corpus $(ls "$work" | wc -l) files, no findings"
  else
    echo "fuzz-$name FAILED (input in $artifacts/):"; grep -v "^#" "$log" | tail -60; status=1
  fi
done
exit $status

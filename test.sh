#!/usr/bin/env bash
# Installs what is missing, builds into build/, and runs every test through ctest.
#
#   ./test.sh                 the whole suite in build/
#   ./test.sh --sanitizers    then the unit and integration suites under AddressSanitizer +
#                             UndefinedBehaviorSanitizer (build-asan/), the integration
#                             suites (the fakes serve from their own threads) under
#                             ThreadSanitizer (build-tsan/), and every libFuzzer target for
#                             CBES_FUZZ_SECONDS (20) each (scripts/fuzz.sh, build-fuzz/).
#                             .ci/run uses this mode.
#   ./test.sh -R sink         other arguments go to every ctest run
#
# Any sanitizer report fails the run: the options below stop the process at the first report,
# and the reports also go to files, so one from a child process (cbes-sandbox, cbes-dcp started
# by a test) fails the stage even when the test ignores the child's exit status.
set -euo pipefail
cd "$(dirname "$0")"

sanitizers=false
ctest_args=()
for a in "$@"; do
  case "$a" in
    --sanitizers) sanitizers=true ;;
    --no-sanitizers) sanitizers=false ;;
    *) ctest_args+=("$a") ;;
  esac
done
jobs=$(nproc)
stage() { printf '\n==== test.sh: %s (%s)\n' "$*" "$(date +%T)"; }

stage "installing missing dependencies"
scripts/install-deps.sh
stage "building ${CBES_BUILD_DIR:-build}/"
scripts/build.sh
stage "running the whole suite in ${CBES_BUILD_DIR:-build}/"
(cd "${CBES_BUILD_DIR:-build}" && ctest --output-on-failure -j "$jobs" --timeout 600 "${ctest_args[@]}")

$sanitizers || exit 0

suppressions=$PWD/tests/sanitizers
# Runs ctest in build dir $1 with label regex $2; fails when ctest fails or a report was written.
sanitized_ctest() {
  local dir=$1 labels=$2 logs=$PWD/$1/sanitizer-reports
  rm -rf "$logs" && mkdir -p "$logs"
  local common=halt_on_error=1:log_path=$logs/report
  local status=0
  (cd "$dir" &&
    ASAN_OPTIONS=$common:detect_leaks=1 \
    LSAN_OPTIONS=suppressions=$suppressions/lsan.supp \
    UBSAN_OPTIONS=$common:print_stacktrace=1:suppressions=$suppressions/ubsan.supp \
    TSAN_OPTIONS=$common:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp \
      ctest -L "$labels" --output-on-failure -j "$jobs" --timeout 1800 "${ctest_args[@]}") ||
    status=$?
  if compgen -G "$logs/report*" >/dev/null; then
    echo "test.sh: sanitizer reports in $dir (each one fails the stage):"
    cat "$logs"/report*
    status=1
  fi
  return $status
}

# Warnings are the plain build's job (-Werror in CI): GCC documents that sanitizer
# instrumentation produces false warnings, so the sanitized builds do not turn them into errors.
# Benchmarks are not run here; compat and package tests (labelled `system`) test the stock
# clients and the install, which the sanitizers add nothing to. Debug (-O0) builds: they compile
# faster than optimised ones, give exact stack traces, and keep the asserts on.
export CBES_BUILD_TYPE=Debug
stage "building build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer)"
CBES_BUILD_DIR=build-asan scripts/build.sh -DCBES_SANITIZE='address;undefined' \
  -DCBES_BUILD_BENCH=OFF -DCBES_WERROR=OFF
stage "running the unit and integration suites under ASan + UBSan in build-asan/"
sanitized_ctest build-asan '^(unit|integration)$'

stage "building build-tsan/ (ThreadSanitizer)"
CBES_BUILD_DIR=build-tsan scripts/build.sh -DCBES_SANITIZE=thread -DCBES_BUILD_BENCH=OFF \
  -DCBES_WERROR=OFF
stage "running the integration suites under TSan in build-tsan/"
sanitized_ctest build-tsan '^integration$'
stage "fuzzing: every fuzz/ target, its regression inputs and ${CBES_FUZZ_SECONDS:-20} s of new inputs (build-fuzz/)"
scripts/fuzz.sh "${CBES_FUZZ_SECONDS:-20}"
stage "done: the suite, the sanitizer runs and the fuzzers passed"

#!/usr/bin/env bash
# Stages `cmake --install` of the build tree and checks what an embedding project gets from it.
#   find_package_test.sh <build dir> <source dir> consul      examples/libconsul with
#                                                             find_package(consul), run against
#                                                             cbes-sandbox's Consul
#   find_package_test.sh <build dir> <source dir> cbes        examples/libcbes with
#                                                             find_package(cbes), run against
#                                                             cbes-sandbox's Couchbase
#   find_package_test.sh <build dir> <source dir> components  the default install has no
#                                                             cbes-sandbox; component sandbox has it
set -euo pipefail
build=$1 src=$2 mode=$3
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/stage" >/dev/null

# Builds examples/<name> out of tree against the staged install.
build_example() {
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src/examples/$1" -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$work/stage" \
    -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$work/example" >/dev/null
}

# Starts the in-tree cbes-sandbox with the given arguments and sets sandbox_url to the URL(s) of
# its `ready: <service> ...` line. Not called in $(...): sandbox_pid must reach cleanup().
start_sandbox() {
  local service=$1
  shift
  "$build/bin/cbes-sandbox" --services="$service" "$@" >"$work/sandbox.log" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 200); do
    grep -q "^ready: $service " "$work/sandbox.log" && break
    kill -0 "$sandbox_pid" 2>/dev/null || break
    sleep 0.1
  done
  sandbox_url=$(sed -n "s/^ready: $service //p" "$work/sandbox.log")
}

case $mode in
consul)
  test -f "$work/stage/lib/cmake/consul/consulConfig.cmake" || fail "no consulConfig.cmake"
  test -f "$work/stage/include/consul/client.hpp" || fail "no consul/client.hpp"
  test -f "$work/stage/include/consul/version.hpp" || fail "no generated consul/version.hpp"
  build_example libconsul
  start_sandbox consul --consul-port=0
  url=$sandbox_url
  [[ -n "$url" ]] || { cat "$work/sandbox.log"; fail "the Consul sandbox did not start"; }
  out=$("$work/example/kv_example" "${url#http://}")
  echo "$out"
  grep -q "hello from libconsul" <<<"$out" || fail "the KV example did not read its value back"
  ;;
cbes)
  test -f "$work/stage/lib/cmake/cbes/cbesConfig.cmake" || fail "no cbesConfig.cmake"
  test -f "$work/stage/include/cbes/couchbase/cluster.hpp" || fail "no cbes/couchbase/cluster.hpp"
  test -f "$work/stage/include/cbes/version.hpp" || fail "no generated cbes/version.hpp"
  # libcbes users must not pull in a Consul client: only the files of the `group` component
  # (cbesGroup*.cmake, read for find_package(cbes COMPONENTS group)) may name libconsul.
  test -f "$work/stage/lib/cmake/cbes/cbesGroup.cmake" || fail "no cbesGroup.cmake"
  test -f "$work/stage/include/cbes/group/rpc.hpp" || fail "no cbes/group/rpc.hpp"
  if grep -E 'consul::|find_dependency\(consul' "$work/stage/lib/cmake/cbes/cbesConfig.cmake" \
    "$work/stage/lib/cmake/cbes/cbesTargets"*.cmake; then
    fail "cbes's package config mentions consul outside the group component"
  fi
  build_example libcbes
  if grep -q consul "$work/example/build.ninja"; then
    fail "the libcbes example links libconsul"
  fi
  start_sandbox couchbase --kv-port=0 --mgmt-port=0
  urls=$sandbox_url
  [[ -n "$urls" ]] || { cat "$work/sandbox.log"; fail "the Couchbase sandbox did not start"; }
  out=$("$work/example/kv_example" "${urls%% *}" default Administrator password)
  echo "$out"
  grep -q 'examples::greeting = {"greeting":"hello from libcbes"}' <<<"$out" ||
    fail "the KV example did not read its document back"
  ;;
components)
  test -x "$work/stage/bin/cbes-dcp" || fail "the default install has no bin/cbes-dcp"
  test -x "$work/stage/bin/cbes-consul" || fail "the default install has no bin/cbes-consul"
  if [[ -e "$work/stage/bin/cbes-sandbox" ]]; then
    fail "the default install put the test fakes (cbes-sandbox) into bin/"
  fi
  examples=$work/stage/share/cbes/examples
  for f in ao-quickstart-config.toml consul.toml connector/default-connector.toml \
    connector/secrets/couchbase-password.toml connector/secrets/elasticsearch-password.toml \
    libconsul/CMakeLists.txt libcbes/CMakeLists.txt; do
    test -f "$examples/$f" || fail "the install has no share/cbes/examples/$f"
  done
  "$work/stage/bin/cbes-dcp" --version | grep -qE '^cbes-dcp [0-9]+\.[0-9]+\.[0-9]+' ||
    fail "the installed cbes-dcp has no --version"
  cmake --install "$build" --prefix "$work/sandbox-stage" --component sandbox >/dev/null
  test -x "$work/sandbox-stage/bin/cbes-sandbox" || fail "--component sandbox installed no cbes-sandbox"
  "$work/sandbox-stage/bin/cbes-sandbox" --help | grep -q -- "--services" ||
    fail "the installed cbes-sandbox does not run"
  echo "default install: $(ls "$work/stage/bin" | tr '\n' ' '); sandbox component: cbes-sandbox"
  ;;
*)
  fail "unknown mode '$mode' (consul, cbes or components)"
  ;;
esac

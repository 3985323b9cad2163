#!/usr/bin/env bash
# Stages `cmake --install` of the build tree, builds examples/libconsul out of tree against it
# with find_package(consul), and runs the KV example against a cbes-sandbox Consul agent.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$work/stage" >/dev/null
test -f "$work/stage/lib/cmake/consul/consulConfig.cmake"
test -f "$work/stage/include/consul/client.hpp"

cmake -S "$src/examples/libconsul" -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$work/stage" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" >/dev/null

"$build/bin/cbes-sandbox" --services=consul --consul-port=0 >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 100); do
  grep -q '^ready: consul ' "$work/sandbox.log" && break
  sleep 0.1
done
url=$(sed -n 's/^ready: consul //p' "$work/sandbox.log")
[[ -n "$url" ]] || { cat "$work/sandbox.log"; exit 1; }

out=$("$work/example/kv_example" "${url#http://}")
echo "$out"
grep -q "hello from libconsul" <<<"$out"

#!/usr/bin/env bash
# Starts `cbes-sandbox --services=consul --consul-port=0`, waits for its "ready:" line, exports
# CONSUL_URL / CONSUL_HOST / CONSUL_PORT, runs the given command, and always stops the sandbox.
# Usage: run_with_sandbox.sh <build-dir> <command...>
set -euo pipefail
build_dir=$1
shift
sandbox="$build_dir/bin/cbes-sandbox"
[[ -x "$sandbox" ]] || { echo "error: $sandbox not built" >&2; exit 1; }
out=$(mktemp)
"$sandbox" --services=consul --consul-port=0 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^ready: consul \(http[^ ]*\)$/\1/p' "$out")
  [[ -n "$url" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "error: sandbox exited: $(cat "$out")" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "error: sandbox printed no ready line" >&2; exit 1; }
export CONSUL_URL=$url
hostport=${url#http://}
export CONSUL_HOST=${hostport%:*} CONSUL_PORT=${hostport##*:}
"$@"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs the quickstart on cbes-sandbox:
# a local Consul-compatible agent, a demo service with a TTL health check, a KV round trip and a
# leader election between two libconsul clients; then a Couchbase-compatible cluster with
# travel-sample-like documents whose change feed cbes-dcp drains. Exits 0 when every step worked.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
bin=${CBES_BUILD_DIR:-build}/bin

log=$(mktemp)
cb_log=$(mktemp)
password_file=$(mktemp)
sandbox_pid=""
cb_pid=""
cleanup() {
  for pid in $sandbox_pid $cb_pid; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -f "$log" "$cb_log" "$password_file"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "starting cbes-sandbox (Consul-compatible agent on an ephemeral port)"
"$bin/cbes-sandbox" --services=consul --consul-port="${CONSUL_PORT:-0}" >"$log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 100); do
  grep -q '^ready: consul ' "$log" && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$log"; echo "cbes-sandbox exited early" >&2; exit 1; }
  sleep 0.1
done
consul=$(sed -n 's/^ready: consul //p' "$log")
[[ -n "$consul" ]] || { cat "$log"; echo "cbes-sandbox did not become ready" >&2; exit 1; }
echo "$(grep '^ready: consul' "$log")"

step "registering a demo service with a TTL check, then passing the check"
curl -fsS -X PUT "$consul/v1/agent/service/register" \
  -d '{"ID":"demo-1","Name":"demo","Port":8080,"Check":{"TTL":"30s"}}'
curl -fsS -X PUT "$consul/v1/agent/check/pass/service:demo-1?note=ready"
echo "passing instances of 'demo':"
curl -fsS "$consul/v1/health/service/demo?passing" |
  python3 -c 'import json,sys; [print("  ", e["Service"]["ID"], e["Service"]["Port"], [c["CheckID"]+"="+c["Status"] for c in e["Checks"]]) for e in json.load(sys.stdin)]'

step "KV round trip with libconsul"
"$bin/libconsul-kv-example" "${consul#http://}"

step "leader election between two libconsul clients"
"$bin/libconsul-leader-election" "${consul#http://}"

step "starting cbes-sandbox with a Couchbase-compatible cluster (2 nodes, 500 documents)"
"$bin/cbes-sandbox" --services=couchbase --kv-port=0 --mgmt-port=0 --nodes=2 --vbuckets=64 \
  --load-sample=500 >"$cb_log" 2>&1 &
cb_pid=$!
for _ in $(seq 100); do
  grep -q '^ready: couchbase ' "$cb_log" && break
  kill -0 "$cb_pid" 2>/dev/null || { cat "$cb_log"; echo "cbes-sandbox exited early" >&2; exit 1; }
  sleep 0.1
done
couchbase=$(sed -n 's/^ready: couchbase \([^ ]*\) .*/\1/p' "$cb_log")
[[ -n "$couchbase" ]] || { cat "$cb_log"; echo "cbes-sandbox did not become ready" >&2; exit 1; }
grep '^ready: couchbase' "$cb_log"

step "draining the bucket's change feed with cbes-dcp (first 3 events, then the summary)"
echo password >"$password_file"
"$bin/cbes-dcp" --host="$couchbase" --bucket=default --username=Administrator \
  --password-file="$password_file" --from=beginning --until-caught-up |
  awk 'NR <= 3 || /"summary"/'

step "quickstart finished"

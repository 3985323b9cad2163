#!/usr/bin/env bash
# The Autonomous Operations quickstart, on one machine, in one command:
#   ./quickstart.sh [--keep-running]
# Installs what is missing (build packages only), builds only what it needs (cbes-sandbox,
# cbes-consul, libcbes-kv-example), then: cbes-sandbox with Consul, Couchbase (50 000 documents)
# and Elasticsearch on their usual ports; the group's config into Consul; three workers; live
# progress while the backlog drains; the leader interrupted and its vbuckets taken over; a new
# [elasticsearch.bulkRequestLimits] taking effect; pause and resume; a checkpoint backup; a few
# documents written through the Couchbase port arriving in Elasticsearch. Exits 0 when every step
# worked; stops every process it started on exit or Ctrl-C, unless --keep-running.
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "$0"
}
keep_running=false
for a in "$@"; do
  case "$a" in
    --keep-running) keep_running=true ;;
    -h | --help) usage && exit 0 ;;
    *) echo "quickstart.sh: unknown argument '$a' (try --keep-running or --help)" >&2 && exit 2 ;;
  esac
done

started=$SECONDS
step() { printf '\n== [%3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() {
  echo "quickstart.sh: $*" >&2
  exit 1
}

skip_build=${CBES_QUICKSTART_SKIP_BUILD:-false}  # tests that already built the programs
if [[ "$skip_build" != true ]]; then
  step "installing what is missing (scripts/install-deps.sh --build-only)"
  scripts/install-deps.sh --build-only
  step "building cbes-sandbox, cbes-consul and libcbes-kv-example (not the test suite)"
  CBES_TARGETS="cbes-sandbox cbes-consul libcbes-kv-example" scripts/build.sh
fi
build_dir=${CBES_BUILD_DIR:-build}
[[ "$build_dir" == /* ]] || build_dir=$PWD/$build_dir
bin=$build_dir/bin
group=my-ao-group
samples=${CBES_QUICKSTART_DOCUMENTS:-50000}
# examples/consul.toml: the workers' Consul settings (ACL token from $CBES_CONSUL_ACL_TOKEN,
# deregister on a graceful stop).
consul_cli() {
  local sub=$1
  shift
  "$bin/cbes-consul" "$sub" --consul-config=examples/consul.toml "$@"
}

# The usual ports, as a reader would use them (the CLIs' and the config's defaults).
for port in 8500 8091 11210 9200; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is in use; stop what listens there (a sandbox left by --keep-running: pkill -f cbes-sandbox) and run again"
  fi
done

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/cbes-quickstart.XXXXXX")
sandbox_pid=""
worker_pids=(0 0 0)
worker_ids=("" "" "")
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if $keep_running && [[ $status -eq 0 ]]; then
    return
  fi
  for i in 0 1 2; do
    [[ ${worker_pids[$i]} -gt 0 ]] && kill -TERM "${worker_pids[$i]}" 2>/dev/null || true
  done
  for i in 0 1 2; do
    [[ ${worker_pids[$i]} -gt 0 ]] && wait "${worker_pids[$i]}" 2>/dev/null || true
  done
  if [[ -n "$sandbox_pid" ]]; then
    kill -TERM "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 ]]; then
    echo "quickstart.sh: stopped (status $status); logs are in $run_dir" >&2
  else
    rm -rf "$run_dir"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until `file` has a line matching `regex` or `pid` exits; 60 s at most.
wait_for_line() {
  local file=$1 regex=$2 pid=$3 what=$4
  for _ in $(seq 600); do
    grep -qE "$regex" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$file" >&2; fail "$what exited"; }
    sleep 0.1
  done
  tail -n 20 "$file" >&2
  fail "$what did not print '$regex' within 60 s"
}

status_json() { consul_cli status --group=$group --json 2>/dev/null; }
# The service id part of an endpoint id (node::address::service-id).
short() { sed 's/.*:://'; }
es_count() { curl -fsS 'http://127.0.0.1:9200/_count' 2>/dev/null | jq -r '.count // 0' || echo 0; }

# Redraws one status line in place on a terminal; prints a line every 5 s otherwise.
tty=false
[[ -t 1 ]] && tty=true
last_plain=-5
show() {
  if $tty; then
    printf '\r\033[K%s' "$1"
  elif ((SECONDS - last_plain >= 5)); then
    last_plain=$SECONDS
    printf '%s\n' "$1"
  fi
}
end_show() { if $tty; then printf '\n'; fi; }

# Polls `cbes-consul status --json` every second, showing the documents in Elasticsearch, the
# vbuckets streaming, the leader, and each worker's vbuckets, backlog and documents/s, until
# `condition` (a jq expression over the status, with $docs bound to the Elasticsearch count)
# holds; `limit` seconds at most.
declare -A previous_written
watch_group() {
  local condition=$1 limit=$2 what=$3 begin=$SECONDS json docs
  previous_written=()
  while :; do
    json=$(status_json) || json='{}'
    docs=$(es_count)
    rates_from "$json"
    line=$(jq -r --argjson docs "$docs" --argjson want "$samples" --argjson rates "$rates" '
      def short: split("::") | last;
      "\($docs)/\($want) docs in Elasticsearch | " +
      "\([.workers[]? | select(.membership) | .vbucketCount // 0] | add // 0)/1024 vbuckets streaming | " +
      (if .paused then "PAUSED | " else "" end) +
      "leader \(.leader // "none" | short) | " +
      ([.workers[]? | (.endpoint | short) as $id | $id + ": " +
        (if .error then "no answer"
         elif .membership then "\(.vbucketCount // 0) vb, backlog \(.backlog // "-"), " +
           "\($rates[$id] // "-") docs/s"
         else "idle" end)] | join(" | "))' <<<"$json" 2>/dev/null) || line="(waiting for the group's status)"
    show "  [$((SECONDS - begin))s] $line"
    if jq -e --argjson docs "$docs" "$condition" <<<"$json" >/dev/null 2>&1; then
      end_show
      return 0
    fi
    if ((SECONDS - begin > limit)); then
      end_show
      consul_cli status --group=$group >&2 || true
      fail "$what: not done within $limit s (logs in $run_dir)"
    fi
    sleep 1
  done
}

# Sets `rates` to a JSON object {"<service id>": documents/s} from the change of each worker's
# `written` (documents Elasticsearch acknowledged) since the previous poll.
rates_from() {
  local json=$1 id written now=$EPOCHREALTIME pairs=()
  while read -r id written; do
    [[ -z "$id" ]] && continue
    if [[ -n "${previous_written[$id]:-}" ]]; then
      local prev=${previous_written[$id]}
      local count=${prev% *} at=${prev#* }
      pairs+=("\"$id\":$(awk -v c="$((written - count))" -v t="$now" -v a="$at" \
        'BEGIN { d = t - a; printf "%d", (d > 0 ? c / d : 0) }')")
    fi
    previous_written[$id]="$written $now"
  done < <(jq -r '.workers[]? | select(.written != null) |
                  "\(.endpoint | split("::") | last) \(.written)"' <<<"$json" 2>/dev/null)
  rates="{$(IFS=,; echo "${pairs[*]}")}"
}

streaming_all='([.workers[]? | select(.membership) | .vbucketCount] | add // 0) == 1024'

step "1. cbes-sandbox: Consul, Couchbase ($samples travel-sample-like documents), Elasticsearch"
"$bin/cbes-sandbox" --services=consul,couchbase,elasticsearch --load-sample="$samples" \
  >"$run_dir/sandbox.log" 2>&1 &
sandbox_pid=$!
wait_for_line "$run_dir/sandbox.log" '^ready: elasticsearch ' "$sandbox_pid" "cbes-sandbox"
grep '^ready:' "$run_dir/sandbox.log"
echo "Consul's web UI: http://127.0.0.1:8500/ui/ (while the quickstart runs)"

step "2. the group's config into Consul, paused so that three workers start together"
# Relative paths in the config (the password files) resolve against $CBES_HOME.
export CBES_HOME=$PWD/examples
consul_cli configure --input examples/ao-quickstart-config.toml
consul_cli pause --group=$group
names=("$group" second third)
for i in 0 1 2; do
  args=(run --consul-config=examples/consul.toml --group=$group)
  [[ $i -gt 0 ]] && args+=(--service-id="${names[$i]}")
  echo "+ cbes-consul ${args[*]} 2> $run_dir/worker-$((i + 1)).log"
  "$bin/cbes-consul" "${args[@]}" >"$run_dir/worker-$((i + 1)).out" 2>"$run_dir/worker-$((i + 1)).log" &
  worker_pids[$i]=$!
done
for i in 0 1 2; do
  wait_for_line "$run_dir/worker-$((i + 1)).out" '^ready: worker ' "${worker_pids[$i]}" \
    "worker $((i + 1))"
  worker_ids[$i]=$(sed -n 's/^ready: worker \([^ ]*\) .*/\1/p' "$run_dir/worker-$((i + 1)).out")
  echo "worker $((i + 1)) (pid ${worker_pids[$i]}): ${worker_ids[$i]}"
done
watch_group '[.workers[]? | select(.error == null)] | length == 3' 60 "three workers answering"
consul_cli resume --group=$group

step "3. the backlog drains: $samples documents into Elasticsearch"
echo "(first the new leader waits out the kill switch, 20 s from the start of its term, before it"
echo " gives out vbuckets no worker reports: a worker of an earlier term might still stream them)"
watch_group "$streaming_all and \$docs >= $samples and
             ([.workers[]? | .backlog // 0] | add // 0) == 0" 600 "replicating the sample"
consul_cli status --group=$group

step "4a. the leader is interrupted (SIGINT): the two others take its vbuckets over"
leader=$(status_json | jq -r '.leader // empty')
[[ -n "$leader" ]] || fail "the group has no leader"
for i in 0 1 2; do [[ "${worker_ids[$i]}" == "$leader" ]] && leader_index=$i; done
[[ -n "${leader_index:-}" ]] || fail "the leader $leader is none of the three workers"
echo "leader: worker $((leader_index + 1)) (${leader}), pid ${worker_pids[$leader_index]}"
kill -INT "${worker_pids[$leader_index]}"
stopped_at=$SECONDS
exit_code=0
wait "${worker_pids[$leader_index]}" || exit_code=$?
worker_pids[$leader_index]=0
echo "it exited with status $exit_code after $((SECONDS - stopped_at)) s (it stepped down, saved its checkpoints and left)"
[[ $exit_code -eq 0 ]] || fail "the interrupted leader exited with $exit_code"
echo "(the leaver recorded the vbuckets it stopped streaming, so the new leader gives them out as"
echo " soon as membership has settled, 5 s: a worker that vanishes instead is waited out, 20 s)"
watch_group "$streaming_all and ([.workers[]? | select(.membership.clusterSize == 2)] | length) == 2" \
  120 "the survivors taking over"
consul_cli status --group=$group
echo "takeover complete $((SECONDS - stopped_at)) s after the interrupt; new leader: $(status_json | jq -r '.leader')"

step "4b. a new [elasticsearch.bulkRequestLimits] (actions 1000 → 100) reaches every worker"
new_leader=$(status_json | jq -r '.leader')
for i in 0 1 2; do [[ "${worker_ids[$i]}" == "$new_leader" ]] && new_leader_index=$i; done
leader_log="$run_dir/worker-$((new_leader_index + 1)).log"
restarts() { grep -c 'restarts with the group.s current config' "$leader_log" || true; }
restarts_before=$(restarts)
sed 's/^  actions = 1000/  actions = 100/' examples/ao-quickstart-config.toml >"$run_dir/config.toml"
consul_cli configure --input "$run_dir/config.toml"
consul_cli get-config --group=$group --output="$run_dir/config-now.toml"
echo "stored: $(grep 'actions =' "$run_dir/config-now.toml" | tr -s ' ')"
for _ in $(seq 300); do
  (($(restarts) >= restarts_before + 2)) && break
  sleep 0.1
done
(($(restarts) >= restarts_before + 2)) || fail "the workers did not restart with the new config"
grep -E "config changed|restarts with the group.s current config" "$leader_log" | tail -n 3 |
  sed 's/^/  leader log: /'
watch_group "$streaming_all" 60 "streaming again with the new config"

step "4c. pause, then resume"
consul_cli pause --group=$group
consul_cli status --group=$group
consul_cli resume --group=$group
watch_group "$streaming_all" 60 "streaming again after resume"

step "4d. a checkpoint backup (the group keeps running)"
consul_cli checkpoint-backup --group=$group --output="$run_dir/checkpoints.json"
echo "$run_dir/checkpoints.json: $(wc -c <"$run_dir/checkpoints.json") bytes, $(jq ".vbuckets | length" "$run_dir/checkpoints.json" 2>/dev/null || echo '?') vbucket checkpoints"

step "5. three documents written through the Couchbase port arrive in Elasticsearch"
for n in 1 2 3; do
  "$bin/libcbes-kv-example" couchbase://127.0.0.1 default Administrator password \
    "quickstart::$n" "{\"from\":\"quickstart.sh\",\"n\":$n,\"at\":\"$(date -u +%FT%TZ)\"}"
done
written_at=$SECONDS
for n in 1 2 3; do
  for _ in $(seq 300); do
    doc=$(curl -fsS "http://127.0.0.1:9200/etc/_doc/quickstart::$n" 2>/dev/null) && break
    sleep 0.1
  done
  [[ -n "${doc:-}" ]] || fail "quickstart::$n did not reach Elasticsearch within 30 s"
  echo "Elasticsearch etc/_doc/quickstart::$n: $(jq -c '._source' <<<"$doc")"
  doc=""
done
echo "all three in Elasticsearch within $((SECONDS - written_at)) s"

step "quickstart finished in $((SECONDS - started)) s"
if $keep_running; then
  workers=""
  for i in 0 1 2; do [[ ${worker_pids[$i]} -gt 0 ]] && workers+=" ${worker_pids[$i]}"; done
  cat <<EOF
The group keeps running (logs in $run_dir). Try:
  export CBES_HOME=$PWD/examples
  $bin/cbes-consul status --group=$group
  $bin/cbes-consul status --group=$group --serve=8080   # the dashboard: http://127.0.0.1:8080/
  http://127.0.0.1:8500/ui/                               # Consul's web UI
  curl 'localhost:9200/_count'
  $bin/cbes-consul pause --group=$group; $bin/cbes-consul resume --group=$group
  $bin/cbes-consul run --group=$group --service-id=fourth   # one more worker
Stop the workers first (they leave the group through Consul), then the sandbox:
  kill$workers; sleep 3; kill $sandbox_pid
EOF
fi

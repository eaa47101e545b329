#!/usr/bin/env bash
# Comparison 8: scale and memory. A helixvol of its own (its own state directory in the
# reflink pool) with 1 volume, then with 1,000 (16 MiB ones: one made with mkfs, the rest
# reflink clones of it, created straight at the plugin's socket):
#   List, Get    latency at the plugin's socket, p50 and p99 of 200 requests a batch
#   start-up     from exec to the first answered List: recovery reads every meta.json and
#                looks for a loop device bound to every image before answering
#   memory       resident set (VmRSS) idle, and the peak while List and Get are hammered
# The helixauthz side of memory is in bench/authz.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
runs=$(bench_runs 3 2)
count=$(bench_runs 1000 300)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
name=helixvol-bench-scale-$tag
sock=/run/docker/plugins/$name.sock
bench_start_helixvol "$name" "scale-$tag"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(bench_plugin_pid "$name")/status"; }
# restart: SIGTERM, then start again; prints the ms from exec to the first answered List.
restart() {
  local pid
  pid=$(bench_plugin_pid "$name")
  _e2e_terminate "$pid" 10
  rm -f "$sock"
  $BENCH_PY spawn-and-wait "$sock" "$E2E_DIR/$name.pid" "$E2E_DIR/$name.log" -- \
    env LOG_LEVEL=info "$HELIXVOL_BINARY" serve --socket "$sock" --state-dir "$E2E_DIR/$name-state"
}
# measure LABEL: fills list_p50_LABEL ... from `runs` batches, and start-up and memory.
measure() {
  local label=$1 r json
  local -n l50=list50_$label l99=list99_$label g50=get50_$label g99=get99_$label
  local -n up=startup_$label idle=idle_$label busy=busy_$label
  for ((r = 1; r <= runs; r++)); do
    up+=" $(restart)"
  done
  sleep 1
  idle=$(($(rss_kib) * 1024))
  for ((r = 1; r <= runs; r++)); do
    json=$($BENCH_PY latency "$sock" POST /VolumeDriver.List '{}' --n 200)
    l50+=" $(jq_ p50 <<<"$json")" l99+=" $(jq_ p99 <<<"$json")"
    json=$($BENCH_PY latency "$sock" POST /VolumeDriver.Get '{"Name":"v0000"}' --n 200)
    g50+=" $(jq_ p50 <<<"$json")" g99+=" $(jq_ p99 <<<"$json")"
  done
  # Memory under load: two clients on List and Get at once, VmRSS sampled meanwhile.
  $BENCH_PY latency "$sock" POST /VolumeDriver.List '{}' --n 300 >/dev/null &
  local a=$!
  $BENCH_PY latency "$sock" POST /VolumeDriver.Get '{"Name":"v0000"}' --n 1000 >/dev/null &
  local b=$! peak=0 now
  while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
    now=$(rss_kib)
    ((now > peak)) && peak=$now
    sleep 0.05
  done
  wait "$a" "$b"
  busy=$((peak * 1024))
}
jq_() { python3 -c 'import json, sys; print(round(json.load(sys.stdin)[sys.argv[1]], 3))' "$1"; }

$BENCH_PY call "$sock" POST /VolumeDriver.Create '{"Name":"v0000","Opts":{"size":"16M"}}' >/dev/null
measure one
t0=$(bench_us)
$BENCH_PY create-many "$sock" v $((count - 1)) '{"from":"v0000"}' --threads 2
made_ms=$(bench_ms_since "$t0")
n=$($BENCH_PY call "$sock" POST /VolumeDriver.List '{}' | python3 -c 'import json, sys; print(len(json.loads(sys.stdin.read().split(" ", 1)[1])["Volumes"]))')
[[ $n == "$count" ]] || { bench_log "List shows $n volumes, expected $count"; exit 1; }
measure many

label="$count volumes"
bench_row 8 "helixvol List p50" ms lower "$label" "$list50_many" "1 volume" "$list50_one"
bench_row 8 "helixvol List p99" ms lower "$label" "$list99_many" "1 volume" "$list99_one"
bench_row 8 "helixvol Get p50" ms lower "$label" "$get50_many" "1 volume" "$get50_one"
bench_row 8 "helixvol Get p99" ms lower "$label" "$get99_many" "1 volume" "$get99_one"
bench_row 8 "helixvol start-up to first List" ms lower "$label" "$startup_many" "1 volume" "$startup_one"
bench_row 8 "helixvol resident memory, idle" bytes lower "$label" "$idle_many" "1 volume" "$idle_one"
bench_row 8 "helixvol resident memory, List+Get load" bytes lower "$label" "$busy_many" "1 volume" "$busy_one"
bench_note 8 "$((count - 1)) clones of a 16 MiB volume made at the socket (two at a time) in $(awk -v t="$made_ms" 'BEGIN { printf "%.1f", t / 1000 }') s; latencies measured with a new connection per request, as dockerd makes them; $(losetup -nl | wc -l) loop devices were bound on the host"

#!/usr/bin/env bash
# Comparison 8: scale and memory. A helixvol of its own (its own state directory in the
# reflink pool) with 1 volume, then with 1,000 (16 MiB ones: one made with mkfs, the rest
# reflink clones of it, created straight at the plugin's socket), then with 300 of those
# mounted (a loop device and an ext4 mount each, as on a host running 300 sessions):
#   List, Get    latency at the plugin's socket, p50 and p99 of 200 requests a batch
#   start-up     from exec to the first answered List: recovery reads every meta.json, the
#                mount table and the kernel's loop devices, and reconciles them before
#                answering (dockerd gives a starting plugin about 10 s)
#   memory       resident set (VmRSS) idle, and the peak while List and Get are hammered
# The helixauthz side of memory is in bench/authz.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
runs=$(bench_runs 3 1)
count=$(bench_runs 1000 200)
mounted=$(bench_runs 300 60)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
name=helixvol-bench-scale-$tag
# Its socket is kept out of /run/docker/plugins: no engine needs it, and every engine on the
# host would otherwise list (and a `docker volume prune` in any of them remove) its volumes.
HELIXVOL_SOCKET_DIR=$E2E_DIR
sock=$HELIXVOL_SOCKET_DIR/$name.sock
bench_start_helixvol "$name" "scale-$tag"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(bench_plugin_pid "$name")/status"; }
# restart: SIGTERM, then start again; prints the ms from exec to the first answered List.
restart() {
  local pid
  pid=$(bench_plugin_pid "$name")
  e2e_terminate "$pid" 10
  rm -f "$sock"
  local cmd=()
  helixvol_serve_command "$name" cmd
  $BENCH_PY spawn-and-wait "$sock" "$E2E_DIR/$name.pid" "$E2E_DIR/$name.log" -- "${cmd[@]}"
}
# measure LABEL: appends to fig[METRIC:LABEL] the start-up times, List and Get latencies
# (p50 and p99 a batch) and the resident memory idle and under load.
declare -A fig
measure() {
  local label=$1 r a b
  for ((r = 1; r <= runs; r++)); do
    fig[startup:$label]+=" $(restart)"
  done
  sleep 1
  fig[idle:$label]=$(($(rss_kib) * 1024))
  while read -r a b; do
    fig[list50:$label]+=" $a" fig[list99:$label]+=" $b"
  done < <($BENCH_PY latency "$sock" POST /VolumeDriver.List '{}' --n 200 --batches "$runs")
  while read -r a b; do
    fig[get50:$label]+=" $a" fig[get99:$label]+=" $b"
  done < <($BENCH_PY latency "$sock" POST /VolumeDriver.Get '{"Name":"v0000"}' --n 200 --batches "$runs")
  # Memory under load: two clients on List and Get at once, VmRSS sampled meanwhile.
  $BENCH_PY latency "$sock" POST /VolumeDriver.List '{}' --n 300 >/dev/null &
  a=$!
  $BENCH_PY latency "$sock" POST /VolumeDriver.Get '{"Name":"v0000"}' --n 1000 >/dev/null &
  b=$!
  local peak=0 now
  while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
    now=$(rss_kib)
    ((now > peak)) && peak=$now
    sleep 0.05
  done
  wait "$a" "$b"
  fig[busy:$label]=$((peak * 1024))
}

$BENCH_PY call "$sock" POST /VolumeDriver.Create '{"Name":"v0000","Opts":{"size":"16M"}}' >/dev/null
measure one
t0=$(bench_us)
$BENCH_PY each "$sock" Create v 1 $((count - 1)) '{"Opts":{"from":"v0000"}}' --threads 2
made_ms=$(bench_ms_since "$t0")
n=$($BENCH_PY call "$sock" POST /VolumeDriver.List '{}' | python3 -c 'import json, sys; print(len(json.loads(sys.stdin.read().split(" ", 1)[1])["Volumes"]))')
[[ $n == "$count" ]] || { bench_log "List shows $n volumes, expected $count"; exit 1; }
measure many

# Deferred before anything mounts, so it runs before the plugin is stopped (last first).
e2e_defer bench_quiet $BENCH_PY each "$sock" Unmount v 1 "$mounted" '{"ID":"bench-scale"}'
t0=$(bench_us)
$BENCH_PY each "$sock" Mount v 1 "$mounted" '{"ID":"bench-scale"}' --threads 2
mount_ms=$(bench_ms_since "$t0")
loops=$(losetup -nl | wc -l)
measure mounted

label="$count volumes"
mlabel="$count volumes, $mounted mounted"
row() { bench_row 8 "helixvol $1" "$2" lower "$label" "${fig[$3:many]}" "1 volume" "${fig[$3:one]}"; }
mrow() { bench_row 8 "helixvol $1" "$2" lower "$mlabel" "${fig[$3:mounted]}" "1 volume" "${fig[$3:one]}"; }
row "List p50" ms list50
row "List p99" ms list99
row "Get p50" ms get50
row "Get p99" ms get99
row "start-up to first answered List" ms startup
mrow "start-up to first answered List" ms startup
mrow "List p50" ms list50
mrow "Get p50" ms get50
row "resident memory, idle" bytes idle
row "resident memory, List+Get load (peak)" bytes busy
bench_note 8 "$((count - 1)) clones of a 16 MiB volume made at the socket (two at a time) in $(awk -v t="$made_ms" 'BEGIN { printf "%.1f", t / 1000 }') s, then $mounted of them mounted at the socket in $(awk -v t="$mount_ms" 'BEGIN { printf "%.1f", t / 1000 }') s; latencies measured with a new connection per request, as dockerd makes them; $loops loop devices were bound on the host with the volumes mounted"

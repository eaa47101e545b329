#!/usr/bin/env bash
# Comparison 7 (and the helixauthz half of 8): authorization overhead. One engine of its
# own, measured without an authorization plugin, then restarted with
# --authorization-plugin=<helixauthz as a host service with authz-plugin/policy.json>:
#   latency   GET /_ping, GET /containers/json and POST /containers/create (the container
#             removed after each, untimed) at the engine's socket, p50 and p99 of 100
#             requests a batch
#   decisions AuthZReq documents POSTed straight to the plugin's socket by two clients for
#             a few seconds: a desktop's create body and an ordinary one, as dockerd
#             forwards them (base64 of the real JSON body)
#   memory    helixauthz's VmRSS idle, and its peak under that load
# Skips (with a note) while build/helixauthz is not built.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -x $HELIXAUTHZ_BINARY ]]; then
  BENCH_RESULTS=${BENCH_RESULTS:-/dev/stdout}
  bench_note 7 "skipped: ${HELIXAUTHZ_BINARY#"$BENCH_ROOT"/} not built"
  bench_note 8 "helixauthz memory skipped: ${HELIXAUTHZ_BINARY#"$BENCH_ROOT"/} not built"
  exit 0
fi
bench_init
runs=$(bench_runs 3 2)
seconds=$(bench_runs 5 2)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
policy=${HELIXAUTHZ_POLICY:-}
name=helixauthz-bench-$tag
plugin_sock=/run/docker/plugins/$name.sock

# The engine of this comparison, made without the plugin so that its images can be
# imported whatever the policy says about imports.
engine=authz-$tag
# Deferred first, so it runs last: the engine goes first (its clean-up requests must still
# be authorized), then the plugin.
e2e_defer helixauthz_stop_host_service "$name"
engine_start "$engine"
e2e_defer engine_stop "$engine"
image_busybox
image_dind
# The shipped policy with the desktop image allowed, so that the desktop body below is
# decided all the way to an allow.
if [[ -z $policy ]]; then
  policy=$E2E_DIR/authz-policy.json
  python3 - "$BENCH_ROOT/authz-plugin/policy.json" "$policy" \
    "$(docker image inspect --format '{{.Id}}' helix-e2e/dind)" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["privileged"]["images"] = [sys.argv[3]]
json.dump(p, open(sys.argv[2], "w"))
PY
fi
engine_sock=$E2E_DIR/$engine/docker.sock
api=/v1.41
create_body='{"Image":"helix-e2e/busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"none"}}'

# latencies WITH: appends one p50 and one p99 figure a batch to p50[ENDPOINT:WITH] and
# p99[ENDPOINT:WITH].
declare -A p50 p99
latencies() {
  local with=$1 ep a b
  for ep in ping list create; do
    local args=(GET "$api/_ping" --n 100)
    case $ep in
      list) args=(GET "$api/containers/json" --n 100) ;;
      create) args=(POST "$api/containers/create" "$create_body" --n 50 --remove-created) ;;
    esac
    while read -r a b; do
      p50[$ep:$with]+=" $a"
      p99[$ep:$with]+=" $b"
    done < <($BENCH_PY latency "$engine_sock" "${args[@]}" --batches "$runs")
  done
}

latencies off

# helixauthz as a host service, then the same engine restarted with it in the chain.
# The shipped defaults (AUDIT=deny, LOG_LEVEL=info): the harness's AUDIT=all and debug log
# would be measured too.
helixauthz_launch_host_service "$name" "$policy" AUDIT=deny LOG_LEVEL=info
authz_pid=$(<"$E2E_DIR/$name.pid")
printf '%s\0' "--authorization-plugin=$name" >>"$E2E_DIR/$engine/dockerd.flags"
engine_restart "$engine"
latencies on

# Decisions per second straight at the plugin's socket, and its memory meanwhile.
rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$authz_pid/status"; }
idle=$(rss)
desktop_body=$(printf '%s' '{"Image":"helix-e2e/dind","Labels":{"helix.session":"s1"},"HostConfig":{"Privileged":true,"Binds":["s1:/var/lib/docker"],"VolumeDriver":"helixvol","Memory":4294967296,"NanoCpus":2000000000,"PidsLimit":4096,"NetworkMode":"bridge"}}' | base64 -w0)
plain_body=$(printf '%s' "$create_body" | base64 -w0)
authz_doc() {
  printf '{"User":"","UserAuthNMethod":"","RequestMethod":"POST","RequestUri":"/v1.41/containers/create","RequestBody":"%s","RequestHeaders":{"Content-Type":"application/json"}}' "$1"
}
authz_doc "$desktop_body" >"$E2E_DIR/authz-desktop.json"
authz_doc "$plain_body" >"$E2E_DIR/authz-plain.json"
desktop=() plain=() answers=''
peak=0
for ((r = 1; r <= runs; r++)); do
  for kind in desktop plain; do
    $BENCH_PY rate "$plugin_sock" /AuthZPlugin.AuthZReq "$E2E_DIR/authz-$kind.json" \
      --seconds "$seconds" --threads 2 >"$E2E_DIR/rate.json" &
    load=$!
    while kill -0 "$load" 2>/dev/null; do
      now=$(rss)
      ((now > peak)) && peak=$now
      sleep 0.05
    done
    wait "$load"
    figure=$(python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["per_second"], 1))' "$E2E_DIR/rate.json")
    if [[ $kind == desktop ]]; then desktop+=("$figure"); else plain+=("$figure"); fi
    ((r > 1)) || answers+=" $kind: $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["answers"])' "$E2E_DIR/rate.json");"
  done
done

for ep in ping list create; do
  case $ep in
    ping) what="GET /_ping" ;;
    list) what="GET /containers/json" ;;
    create) what="POST /containers/create" ;;
  esac
  bench_row 7 "$what p50" ms lower "with helixauthz" "${p50[$ep:on]:-}" without "${p50[$ep:off]:-}"
  bench_row 7 "$what p99" ms lower "with helixauthz" "${p99[$ep:on]:-}" without "${p99[$ep:off]:-}"
done
bench_row 7 "decisions per second at the plugin socket" req/s higher \
  "desktop create body" "${desktop[*]}" "ordinary create body" "${plain[*]}"
bench_note 7 "answers in the first run:${answers%;}; the shipped policy with the desktop image allowed; two client threads, a new connection per request"
bench_row 8 "helixauthz resident memory" bytes lower "under decision load (peak)" "$peak" idle "$idle"

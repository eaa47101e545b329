# shellcheck shell=bash
#
# helixauthz in the e2e engines, both ways it is installed. Sourced by harness.sh.
#
#   helixauthz_policy OUT IMAGE...  the shipped policy (authz-plugin/policy.json) with the IDs
#                                   of IMAGEs (in the current engine) as the privileged images
#   helixauthz_start_host_service NAME POLICY [SETTING=VALUE...]
#                                   run the binary on /run/docker/plugins/NAME.sock (seen by
#                                   every engine on the host: NAME must be unique), looking
#                                   things up in the current engine; stopped at exit
#   helixauthz_launch_host_service NAME POLICY [SETTING=VALUE...]
#                                   the same, for a caller that defers
#                                   helixauthz_stop_host_service NAME itself
#   helixauthz_install_managed NAME POLICY
#                                   docker plugin create NAME from the bundle, its policy
#                                   directory and engine socket bound from the test's, enabled
#   helixauthz_activate NAME        name it in the current engine's daemon.json
#                                   ("authorization-plugins") and SIGHUP dockerd, as operators
#                                   do; deactivated again (before teardown) at exit
#   helixauthz_denied NAME WHAT CMD...
#                                   asserts that CMD fails with plugin NAME's refusal on the CLI
#
# HELIXAUTHZ_BUNDLE (build/plugins/helixauthz) and HELIXAUTHZ_BINARY (build/helixauthz)
# come from ctest, or default to the build tree.

HELIXAUTHZ_BUNDLE=${HELIXAUTHZ_BUNDLE:-$E2E_ROOT/build/plugins/helixauthz}
HELIXAUTHZ_BINARY=${HELIXAUTHZ_BINARY:-$E2E_ROOT/build/helixauthz}

helixauthz_policy() {
  local out=$1 ids=() image
  shift
  for image in "$@"; do
    ids+=("$(docker image inspect --format '{{.Id}}' "$image")") || return 1
  done
  python3 - "$E2E_ROOT/authz-plugin/policy.json" "$out" "${ids[@]}" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["privileged"]["images"] = sys.argv[3:]
json.dump(policy, open(sys.argv[2], "w"), indent=2)
PY
}

# helixauthz_start_host_service NAME POLICY [SETTING=VALUE...]: helixauthz_launch_host_service,
# stopped at exit (before the engines are, as it was started after them).
helixauthz_start_host_service() {
  e2e_defer helixauthz_stop_host_service "$1"
  helixauthz_launch_host_service "$@"
}

# helixauthz_launch_host_service NAME POLICY [SETTING=VALUE...]: starts helixauthz as a host
# service on /run/docker/plugins/NAME.sock with POLICY, looking things up in the engine
# DOCKER_HOST names, and waits for its socket. SETTINGs go into its environment after
# AUDIT=all LOG_LEVEL=debug, which they override. Its PID is in $E2E_DIR/NAME.pid, its log
# in $E2E_DIR/NAME.log. Nothing is deferred: see helixauthz_stop_host_service.
helixauthz_launch_host_service() {
  local name=$1 policy=$2
  shift 2
  local engine_socket=${DOCKER_HOST#unix://}
  env AUDIT=all LOG_LEVEL=debug "$@" "$HELIXAUTHZ_BINARY" serve --policy "$policy" \
    --socket "/run/docker/plugins/$name.sock" --engine-socket "$engine_socket" \
    >>"$E2E_DIR/$name.log" 2>&1 </dev/null &
  echo "$!" >"$E2E_DIR/$name.pid"
  disown "$!"
  if ! e2e_retry 10 test -S "/run/docker/plugins/$name.sock"; then
    e2e_log "helixauthz $name made no socket within 10 s"
    tail -n 20 "$E2E_DIR/$name.log" >&2
    return 1
  fi
  e2e_log "host-service helixauthz $name on /run/docker/plugins/$name.sock"
}

# helixauthz_stop_host_service NAME: stops host service NAME and removes its socket. Safe to
# call again, or when it never started.
helixauthz_stop_host_service() {
  local pid
  pid=$(cat "$E2E_DIR/$1.pid" 2>/dev/null)
  [[ -z $pid ]] || e2e_terminate "$pid" 10
  rm -f "/run/docker/plugins/$1.sock"
}

helixauthz_install_managed() {
  local name=$1 policy=$2 dir=$E2E_DIR/$1-policy
  mkdir -p "$dir" && cp "$policy" "$dir/policy.json" || return 1
  docker plugin create "$name" "$HELIXAUTHZ_BUNDLE" >/dev/null || return 1
  docker plugin set "$name" policy.source="$dir" engine.source="${DOCKER_HOST#unix://}" \
    AUDIT=all LOG_LEVEL=debug || return 1
  docker plugin enable "$name" >/dev/null || return 1
  e2e_log "managed helixauthz $name enabled, policy in $dir"
}

helixauthz_activate() {
  local name=$1 engine
  engine=$(basename "$(dirname "${DOCKER_HOST#unix://}")")
  _helixauthz_set_plugins "$engine" "$name" || return 1
  e2e_defer _helixauthz_set_plugins "$engine" ""
  # SIGHUP is applied asynchronously: wait until a harmless probe is refused.
  if ! e2e_retry 20 _helixauthz_active; then
    e2e_log "helixauthz_activate: $name not in force after 20 s"
    return 1
  fi
  e2e_log "authorization plugin $name in force on engine $engine"
}

# A request every helixauthz policy refuses and that changes nothing when allowed.
_helixauthz_active() {
  local out
  out=$(docker plugin set helixauthz-probe-nonexistent X=1 2>&1)
  [[ $out == *"authorization denied"* ]]
}

_helixauthz_inactive() {
  ! _helixauthz_active
}

# _helixauthz_set_plugins ENGINE NAME: "authorization-plugins": [NAME] (or none) in ENGINE's
# daemon.json, then SIGHUP its dockerd.
_helixauthz_set_plugins() {
  local dir=$E2E_DIR/$1
  python3 - "$dir/daemon.json" "$2" <<'PY' || return 1
import json, sys
path, name = sys.argv[1], sys.argv[2]
config = json.load(open(path))
if name:
    config["authorization-plugins"] = [name]
else:
    config.pop("authorization-plugins", None)
json.dump(config, open(path, "w"))
PY
  kill -HUP "$(cat "$dir/harness.pid")"
  if [[ -z $2 ]]; then
    # Wait until it is out of force, so teardown's requests are not refused.
    e2e_retry 20 _helixauthz_inactive
  fi
}

# helixauthz_denied NAME WHAT CMD...: CMD fails, and its error is helixauthz NAME's refusal
# as the CLI shows it (E2E_LAST_ERR keeps it for further checks).
helixauthz_denied() {
  local name=$1 what=$2
  shift 2
  assert_fails "$@"
  assert_contains "$E2E_LAST_ERR" "authorization denied by plugin $name: helixauthz:" "$what"
}

# shellcheck shell=bash
#
# Private Docker engines: each a dockerd in its own network namespace, with its own data-root,
# exec-root and (when needed) containerd, all under $E2E_DIR/NAME. Sourced by harness.sh;
# stopping an engine and finding what it left is in engine_stop.sh.
#
#   engine_start NAME [DOCKERD_FLAGS...]  start it; exports DOCKER_HOST for it
#   engine_restart NAME                   stop only its dockerd and start it again (live-restore)
#   engine_use NAME                       point DOCKER_HOST at it
#   engine_host NAME                      its DOCKER_HOST value
#
# Each engine lives in $E2E_DIR/NAME: data-root root/, exec-root exec/, docker.sock,
# dockerd.log, and the harness's own records (harness.pid, netns, cgroup-parent,
# dockerd.flags).
#
# Why the engine runs the way it does (verified with Debian's dockerd 20.10.24):
#   * Network: dockerd runs in its own network namespace (`ip netns add helix-e2e-<rand>`, lo
#     up) and creates its default docker0 bridge (172.17.0.0/16, free in an empty namespace)
#     and iptables rules there, leaving the host's links and tables alone. Bridge creation
#     works, so no --bridge=none: containers get normal networking, as they would in
#     production. A second dockerd in the host namespace must not be used: its start-up
#     reconfigures (or with --bridge=none deletes) the host's docker0. We enter the namespace with `nsenter --net` rather than
#     `ip netns exec`: the latter also unshares the mount namespace (and makes / a slave,
#     which on this host, where / is private, means "no propagation at all"). Then mounts
#     the helixvol plugin makes on the host after dockerd started would be invisible to
#     dockerd, and dockerd's own mounts would be invisible to us. With nsenter the engine
#     shares the host mount namespace, so engine_stop can see and unmount what it left.
#   * containerd: with no --containerd flag, dockerd 20.10 starts a managed containerd whose
#     socket, state and root are <exec-root>/containerd and <data-root>/containerd, so two
#     engines never share one. BUT dockerd first checks whether
#     /run/containerd/containerd.sock exists (os.Lstat) and, if it does, silently uses that
#     system containerd instead. When that socket exists (or E2E_OWN_CONTAINERD=1) we start a
#     containerd ourselves with the same private layout and pass --containerd.
#   * Restarting dockerd (engine_restart) with --live-restore: dockerd stops its managed
#     containerd when it shuts down, live-restore or not (SIGTERM from its supervisor), but
#     the shims are their own processes and keep the containers and managed plugins running;
#     the next dockerd starts a containerd on the same state directory, which finds them
#     again. A containerd we started ourselves is not dockerd's to stop and just stays up.
#     With running containers, dockerd 20.10's shutdown under live-restore returns before it
#     shuts plugins down, so a managed plugin's process and mounts stay as they are; with
#     none, live-restore still keeps the plugin's process, but dockerd unmounts its directory
#     (see helixvol_restart_test.sh, step 1).
#   * dockerd reads /etc/docker/daemon.json unless --config-file names another file, and
#     writes /etc/docker/key.json unless that file's "deprecated-key-path" (20.10: a config
#     key, not a flag) does; both point into the engine directory.
#   * Containers go under a private cgroup parent (/helix-e2e-<rand>) so engine_stop can
#     remove every cgroup the engine (and engines nested in its containers) created.
#   * Shared on purpose, by Docker's design: /run/docker/plugins (plugin socket discovery)
#     and /run/containerd/s (shim sockets, named by a hash that includes our containerd
#     address, so they do not collide).

# engine_host NAME: the DOCKER_HOST value of engine NAME.
engine_host() {
  echo "unix://$E2E_DIR/$1/docker.sock"
}

# engine_use NAME: points DOCKER_HOST (and so every later `docker` call) at engine NAME.
engine_use() {
  export DOCKER_HOST
  DOCKER_HOST=$(engine_host "$1")
}

# engine_start NAME [DOCKERD_FLAGS...]: starts a private dockerd in its own network namespace,
# waits until it answers (60 s), records its PID, and exports DOCKER_HOST for it. On failure
# prints the log tail and returns 1; whatever was made is left for engine_stop (or the trap).
engine_start() {
  e2e_tolerant _engine_start "$@"
}
_engine_start() {
  local name=${1:-}
  shift || true
  if [[ -z ${E2E_DIR:-} || ! -d $E2E_DIR ]]; then
    e2e_log "engine_start: call e2e_setup (or e2e_init) first"
    return 1
  fi
  if [[ ! $name =~ ^[a-z0-9][a-z0-9_-]{0,30}$ ]]; then
    e2e_log "engine_start: invalid engine name \"$name\" (want [a-z0-9][a-z0-9_-]*)"
    return 1
  fi
  local dir=$E2E_DIR/$name
  if ! mkdir "$dir"; then
    e2e_log "engine_start: engine \"$name\" already exists in $E2E_DIR"
    return 1
  fi
  local tag
  tag=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ') || return 1
  local netns=helix-e2e-$tag cgroup_parent=/helix-e2e-$tag
  # Recorded before they exist, so a half-made engine can still be torn down.
  echo "$netns" >"$dir/netns"
  echo "$cgroup_parent" >"$dir/cgroup-parent"
  : >"$dir/engine"
  echo "$name $netns $cgroup_parent" >>"$E2E_DIR/.engines"
  if ! ip netns add "$netns"; then
    e2e_log "engine_start $name: cannot create network namespace $netns"
    return 1
  fi
  if ! ip -n "$netns" link set lo up; then
    e2e_log "engine_start $name: cannot bring up lo in $netns"
    return 1
  fi
  # "deprecated-key-path" exists only as a config-file key in 20.10, not as a flag.
  printf '{"deprecated-key-path": "%s"}\n' "$dir/key.json" >"$dir/daemon.json" || return 1

  local containerd_flags=()
  if [[ -e /run/containerd/containerd.sock || ${E2E_OWN_CONTAINERD:-0} == 1 ]]; then
    _engine_start_containerd "$name" || return 1
    containerd_flags=(--containerd "$dir/exec/containerd/containerd.sock")
  fi

  # Kept for engine_restart, which must start dockerd exactly as it was (NUL-separated: a
  # flag may hold spaces).
  local flags=("${containerd_flags[@]}" "$@")
  : >"$dir/dockerd.flags" || return 1
  if ((${#flags[@]} > 0)); then
    printf '%s\0' "${flags[@]}" >"$dir/dockerd.flags" || return 1
  fi

  e2e_log "starting engine $name (netns $netns, log $dir/dockerd.log)"
  : >"$dir/dockerd.log"
  _engine_launch_dockerd "$name" engine_start
}

# _engine_launch_dockerd NAME CALLER: starts engine NAME's dockerd from its records (in its
# netns, appending to dockerd.log), waits until it answers (60 s), records its PID, and
# exports DOCKER_HOST for it. CALLER names the public function in messages.
_engine_launch_dockerd() {
  local name=$1 caller=$2 dir=$E2E_DIR/$1 netns cgroup_parent flags=()
  netns=$(<"$dir/netns") || return 1
  cgroup_parent=$(<"$dir/cgroup-parent") || return 1
  mapfile -d '' flags <"$dir/dockerd.flags" || return 1
  # Our flags come first so a caller's flags can override them (the last one wins).
  nsenter --net="/run/netns/$netns" -- dockerd \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/root" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" \
    --host "unix://$dir/docker.sock" \
    --cgroup-parent "$cgroup_parent" \
    "${flags[@]}" >>"$dir/dockerd.log" 2>&1 </dev/null &
  # nsenter without --fork execs dockerd, so $! is dockerd itself. Disowned so bash does not
  # report its death as a job; bash still reaps it.
  echo "$!" >"$dir/harness.pid"
  disown "$!"

  local pid=$! deadline=$((SECONDS + 60))
  until docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1; do
    if ! e2e_alive "$pid" || ((SECONDS >= deadline)); then
      if e2e_alive "$pid"; then
        e2e_log "$caller $name: dockerd (pid $pid) did not answer within 60 s"
      else
        e2e_log "$caller $name: dockerd (pid $pid) exited during startup"
      fi
      tail -n 25 "$dir/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
  engine_use "$name"
  e2e_log "engine $name ready: DOCKER_HOST=$DOCKER_HOST (pid $pid)"
}

# engine_restart NAME: stops engine NAME's dockerd alone (SIGTERM, as systemd would; SIGKILL
# after 60 s) and starts it again with the same flags in the same netns, as a daemon upgrade
# or `systemctl restart docker` does. Everything else stays: with --live-restore, containers,
# shims and managed plugins keep running (see the header). Exports DOCKER_HOST for it. On
# failure prints the log tail and returns 1; engine_stop still cleans up.
engine_restart() {
  e2e_tolerant _engine_restart "$@"
}
_engine_restart() {
  local name=${1:?engine_restart: missing NAME}
  local dir=$E2E_DIR/$name pid
  if [[ ! -f $dir/engine || ! -f $dir/dockerd.flags ]]; then
    e2e_log "engine_restart: no engine \"$name\" in ${E2E_DIR:-?}"
    return 1
  fi
  pid=$(cat "$dir/harness.pid" 2>/dev/null)
  if e2e_owned "$pid" "$dir"; then
    e2e_log "restarting engine $name: stopping dockerd (pid $pid)"
    # A longer fuse than engine_stop's: without live-restore dockerd first stops every
    # container, each with its own stop timeout, and killing it midway is no restart.
    e2e_terminate "$pid" 60
  else
    e2e_log "restarting engine $name: dockerd was not running"
  fi
  if e2e_alive "$pid"; then
    e2e_log "engine_restart $name: dockerd (pid $pid) would not stop"
    return 1
  fi
  echo "--- engine_restart $(date -u +%FT%TZ) ---" >>"$dir/dockerd.log"
  _engine_launch_dockerd "$name" engine_restart
}

# Starts a containerd for engine NAME with the layout dockerd's managed one would have, for
# when dockerd would otherwise latch onto a system containerd.
_engine_start_containerd() {
  local name=$1 dir=$E2E_DIR/$1
  local state=$dir/exec/containerd
  mkdir -p "$state" "$dir/root/containerd/daemon" || return 1
  cat >"$state/containerd.toml" <<EOF || return 1
version = 2
root = "$dir/root/containerd/daemon"
state = "$state/daemon"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$state/containerd.sock"
[debug]
  address = "$state/containerd-debug.sock"
EOF
  nsenter --net="/run/netns/$(<"$dir/netns")" -- containerd --config "$state/containerd.toml" \
    >"$dir/containerd.log" 2>&1 </dev/null &
  echo "$!" >"$dir/containerd.harness.pid"
  disown "$!"
  local pid=$! deadline=$((SECONDS + 30))
  until [[ -S $state/containerd.sock ]]; do
    if ! e2e_alive "$pid" || ((SECONDS >= deadline)); then
      e2e_log "engine_start $name: containerd (pid $pid) did not come up"
      tail -n 25 "$dir/containerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
  e2e_log "engine $name: own containerd (pid $pid) at $state/containerd.sock"
}

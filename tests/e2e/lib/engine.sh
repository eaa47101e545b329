# shellcheck shell=bash source-path=SCRIPTDIR
#
# End-to-end test harness: private Docker engines, assertions, cleanup.
#
# Source this file (it also sources images.sh), then:
#
#   e2e_skip_unless_dockerd_can_run     # exit 0 with "SKIPPED: ..." when hopeless
#   e2e_init                            # E2E_DIR + EXIT trap that stops every engine
#   engine_start outer                  # exports DOCKER_HOST for the new engine
#   engine_restart outer                # stops only dockerd and starts it again (live-restore)
#   image_busybox
#   assert_eq hello "$(docker run --rm helix-e2e/busybox echo hello)" "echo works"
#
# The trap prints "N passed, M failed" as the very last line and makes the exit status
# non-zero when anything failed (including an unexpected command failure under set -e).
#
# Conventions:
#   * Works with or without `set -euo pipefail` in the caller. The harness functions check
#     their own steps; the public ones switch errexit off while they run and restore it
#     (see _e2e_tolerant), so a tolerated failure inside a cleanup never aborts it halfway.
#     They return non-zero on real failure, as do the assert_* functions, which aborts a
#     `set -e` script (the EXIT trap still cleans up and prints the summary).
#   * Assertions must run in the main shell, not in $(...) or a pipeline: the counters live
#     in shell variables.
#   * Each engine lives in $E2E_DIR/NAME: data-root root/, exec-root exec/, docker.sock,
#     dockerd.log, and the harness's own records (harness.pid, netns, cgroup-parent,
#     dockerd.flags).
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

if [[ -n ${_E2E_ENGINE_SH:-} ]]; then
  return 0
fi
_E2E_ENGINE_SH=1

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_PASSED=${E2E_PASSED:-0}
E2E_FAILED=${E2E_FAILED:-0}
E2E_LAST_ERR=
E2E_LAST_OUT=
_E2E_DEFERRED=()
_E2E_SKIPPED=

# _e2e_tolerant FUNC ARGS...: runs FUNC with errexit off, restoring the caller's setting.
# The harness's functions check every step themselves and carry on past failures they
# expect (a process already gone, a mount already unmounted); under the caller's `set -e`
# any such step would abort the whole script halfway through a cleanup. FUNC's own status
# is returned, so a failing harness function still stops a `set -e` caller.
_e2e_tolerant() {
  if [[ $- != *e* ]]; then
    "$@"
    return
  fi
  set +e
  "$@"
  local rc=$?
  set -e
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Logging and assertions
# ---------------------------------------------------------------------------------------------

# e2e_log MSG...: timestamped progress line on stderr (stdout stays for test output).
e2e_log() {
  printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

# e2e_fail MSG...: records a failure and exits 1 (the EXIT trap cleans up and summarises).
# Inside $(...) it only leaves the subshell; call it from the main shell.
e2e_fail() {
  e2e_log "FAIL: $*"
  E2E_FAILED=$((E2E_FAILED + 1))
  exit 1
}

# e2e_pass MSG...: records a passed check that is not an assert_* (e.g. "it came up").
e2e_pass() {
  E2E_PASSED=$((E2E_PASSED + 1))
  e2e_log "ok: $*"
}

_e2e_failed() {
  E2E_FAILED=$((E2E_FAILED + 1))
  e2e_log "FAIL: $*"
  return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  local expected=$1 actual=$2 what=${3:-values are equal}
  if [[ $expected == "$actual" ]]; then
    e2e_pass "$what"
  else
    _e2e_failed "$what: expected '$expected', got '$actual'"
  fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
  local haystack=$1 needle=$2 what=${3:-output contains "$2"}
  if [[ $haystack == *"$needle"* ]]; then
    e2e_pass "$what"
  else
    _e2e_failed "$what: '$needle' not found in '$haystack'"
  fi
}

# assert_fails CMD...: runs CMD, expects a non-zero status. Its stdout and stderr are kept in
# E2E_LAST_OUT and E2E_LAST_ERR for further assertions on the error text.
assert_fails() {
  local out err
  out=$(mktemp "${E2E_DIR:-/tmp}/.out.XXXXXX") || return 1
  err=$(mktemp "${E2E_DIR:-/tmp}/.err.XXXXXX") || { rm -f "$out"; return 1; }
  local status=0
  "$@" >"$out" 2>"$err" || status=$?
  # shellcheck disable=SC2034 # read by the caller
  E2E_LAST_OUT=$(<"$out") E2E_LAST_ERR=$(<"$err")
  rm -f "$out" "$err"
  if ((status != 0)); then
    e2e_pass "fails as expected (status $status): $*"
  else
    _e2e_failed "expected a failure, but it succeeded: $*"
  fi
}

# e2e_retry SECONDS CMD...: runs CMD (output discarded) every 0.5 s until it succeeds.
# Returns 1 when SECONDS pass without success.
e2e_retry() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
}

# e2e_defer CMD...: runs CMD at exit (last deferred first), before the engines are stopped.
e2e_defer() {
  _E2E_DEFERRED+=("$(printf '%q ' "$@")")
}

# ---------------------------------------------------------------------------------------------
# Lifecycle of a test script
# ---------------------------------------------------------------------------------------------

# e2e_skip_unless_dockerd_can_run: prints "SKIPPED: <reason>" and exits 0 when no dockerd can
# run here at all. Anything else that goes wrong later is a failure, not a skip.
e2e_skip_unless_dockerd_can_run() {
  local reason='' tool
  if ((EUID != 0)); then
    reason="needs root to run dockerd (uid $EUID)"
  else
    for tool in dockerd containerd containerd-shim-runc-v2 runc docker ip nsenter; do
      if ! command -v "$tool" >/dev/null 2>&1; then
        reason="'$tool' is not installed"
        break
      fi
    done
  fi
  if [[ -n $reason ]]; then
    _E2E_SKIPPED=1
    echo "SKIPPED: $reason"
    exit 0
  fi
}

# e2e_init: creates E2E_DIR and installs the EXIT trap (which replaces any EXIT trap the caller
# had: use e2e_defer for extra cleanup). Signals become exits so the trap runs for them too.
e2e_init() {
  E2E_DIR=$(mktemp -d /tmp/helix-e2e.XXXX) || return 1
  export E2E_DIR
  trap _e2e_on_exit EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  e2e_log "e2e dir: $E2E_DIR"
}

_e2e_on_exit() {
  local status=$?
  # Cleanup must run to the end whatever the caller's options are, and must not be cut short
  # by an impatient second Ctrl-C.
  set +e
  trap '' HUP INT TERM
  local i
  for ((i = ${#_E2E_DEFERRED[@]} - 1; i >= 0; i--)); do
    eval "${_E2E_DEFERRED[i]}"
  done
  if ((status != 0 || E2E_FAILED != 0)); then
    _e2e_dump_logs
  fi
  engine_stop_all
  if [[ -d ${E2E_DIR:-} ]]; then
    if [[ -z $(_e2e_mounts_under "$E2E_DIR") ]]; then
      rm -rf "$E2E_DIR"
    else
      e2e_log "not removing $E2E_DIR: mounts remain under it"
      status=1
    fi
  fi
  if [[ -n $_E2E_SKIPPED ]]; then
    exit "$status"
  fi
  if ((status != 0 && E2E_FAILED == 0)); then
    e2e_log "FAIL: test script aborted with status $status"
    E2E_FAILED=1
  fi
  if ((E2E_FAILED != 0 && status == 0)); then
    status=1
  fi
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  exit "$status"
}

# Prints the tail of every engine log, and of the other logs kept in E2E_DIR (a plugin run as
# a host service, say), so a failed run explains itself after the directory is gone.
_e2e_dump_logs() {
  local log
  for log in "${E2E_DIR:-/nonexistent}"/*/dockerd.log "${E2E_DIR:-/nonexistent}"/*.log; do
    [[ -f $log ]] || continue
    e2e_log "last lines of $log:"
    tail -n 25 "$log" >&2
  done
}

# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------

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
  _e2e_tolerant _engine_start "$@"
}
_engine_start() {
  local name=${1:-}
  shift || true
  if [[ -z ${E2E_DIR:-} || ! -d $E2E_DIR ]]; then
    e2e_log "engine_start: call e2e_init first"
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
    if ! _e2e_alive "$pid" || ((SECONDS >= deadline)); then
      if _e2e_alive "$pid"; then
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
  _e2e_tolerant _engine_restart "$@"
}
_engine_restart() {
  local name=${1:?engine_restart: missing NAME}
  local dir=$E2E_DIR/$name pid
  if [[ ! -f $dir/engine || ! -f $dir/dockerd.flags ]]; then
    e2e_log "engine_restart: no engine \"$name\" in ${E2E_DIR:-?}"
    return 1
  fi
  pid=$(cat "$dir/harness.pid" 2>/dev/null)
  if _e2e_owned "$pid" "$dir"; then
    e2e_log "restarting engine $name: stopping dockerd (pid $pid)"
    # A longer fuse than engine_stop's: without live-restore dockerd first stops every
    # container, each with its own stop timeout, and killing it midway is no restart.
    _e2e_terminate "$pid" 60
  else
    e2e_log "restarting engine $name: dockerd was not running"
  fi
  if _e2e_alive "$pid"; then
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
    if ! _e2e_alive "$pid" || ((SECONDS >= deadline)); then
      e2e_log "engine_start $name: containerd (pid $pid) did not come up"
      tail -n 25 "$dir/containerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
  e2e_log "engine $name: own containerd (pid $pid) at $state/containerd.sock"
}

# engine_stop NAME: stops engine NAME and removes every trace of it. Safe to call twice, and
# on an engine whose start failed anywhere. Only touches processes it can tie to this engine
# (its recorded PIDs, or dockerd/containerd/shim processes naming the engine directory).
engine_stop() {
  _e2e_tolerant _engine_stop "$@"
}
_engine_stop() {
  local name=${1:?engine_stop: missing NAME}
  local dir=$E2E_DIR/$name
  [[ -d $dir ]] || return 0
  local rc=0 sock=$dir/docker.sock pid

  pid=$(cat "$dir/harness.pid" 2>/dev/null)
  if _e2e_owned "$pid" "$dir" && [[ -S $sock ]]; then
    # Killing containers first keeps shutdown quick: dockerd would otherwise give each one
    # its stop timeout.
    local ids
    ids=$(timeout 10 docker -H "unix://$sock" ps -aq 2>/dev/null)
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086 # one ID per word
      timeout 60 docker -H "unix://$sock" rm -f -v $ids >/dev/null 2>&1
    fi
  fi
  if _e2e_owned "$pid" "$dir"; then
    e2e_log "stopping engine $name (dockerd pid $pid)"
    _e2e_terminate "$pid" 20
  fi
  pid=$(cat "$dir/containerd.harness.pid" 2>/dev/null)
  if _e2e_owned "$pid" "$dir"; then
    _e2e_terminate "$pid" 10
  fi

  # Whatever survived an unclean stop: containers (runc kills them and their cgroups), then
  # the shims and the managed containerd, found by the engine directory in their arguments.
  _engine_kill_containers "$dir"
  local leftover args
  for leftover in $(_e2e_engine_pids "$dir"); do
    args=$(tr '\0' ' ' 2>/dev/null <"/proc/$leftover/cmdline")
    e2e_log "engine $name: terminating leftover $args"
    _e2e_terminate "$leftover" 5
  done

  _e2e_unmount_under "$dir" || rc=1
  _engine_remove_plugin_dirs "$dir" || rc=1
  _engine_remove_cgroups "$(cat "$dir/cgroup-parent" 2>/dev/null)" || rc=1

  local netns
  netns=$(cat "$dir/netns" 2>/dev/null)
  if [[ -n $netns && -e /run/netns/$netns ]]; then
    ip netns delete "$netns" || rc=1
  fi

  if [[ -n $(_e2e_mounts_under "$dir") ]]; then
    # rm -rf would descend into whatever is still mounted there.
    e2e_log "engine_stop $name: mounts remain under $dir, not removing it"
    return 1
  fi
  rm -rf "$dir" || rc=1
  if [[ ${DOCKER_HOST:-} == "unix://$sock" ]]; then
    unset DOCKER_HOST
  fi
  return "$rc"
}

# engine_stop_all: engine_stop for every engine in E2E_DIR.
engine_stop_all() {
  _e2e_tolerant _engine_stop_all
}
_engine_stop_all() {
  local dir rc=0
  for dir in "${E2E_DIR:-/nonexistent}"/*/; do
    if [[ -f $dir/engine ]]; then
      engine_stop "$(basename "$dir")" || rc=1
    fi
  done
  return "$rc"
}

# engine_pids NAME: PIDs of the dockerd, containerd and shim processes of engine NAME.
engine_pids() {
  _e2e_engine_pids "$E2E_DIR/$1"
}

# e2e_leftovers [NAME]: prints whatever engine NAME (default: every engine of this run) left
# behind: its processes, mounts under its directory, its network namespace and cgroups.
# Prints nothing when clean. Call it after engine_stop, before the script exits.
e2e_leftovers() {
  _e2e_tolerant _e2e_leftovers "$@"
}
_e2e_leftovers() {
  local only=${1:-} name netns cgroup_parent pid line path
  while read -r name netns cgroup_parent; do
    [[ -z $only || $only == "$name" ]] || continue
    for pid in $(_e2e_engine_pids "$E2E_DIR/$name"); do
      echo "process $pid: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
    done
    for line in $(_e2e_mounts_under "$E2E_DIR/$name"); do
      echo "mount $line"
    done
    if [[ -e /run/netns/$netns ]]; then
      echo "netns $netns"
    fi
    for path in /sys/fs/cgroup/*"$cgroup_parent" /sys/fs/cgroup"$cgroup_parent"; do
      if [[ -d $path ]]; then
        echo "cgroup $path"
      fi
    done
  done < <(cat "$E2E_DIR/.engines" 2>/dev/null)
}

# ---------------------------------------------------------------------------------------------
# Process, mount and cgroup plumbing
# ---------------------------------------------------------------------------------------------

# _e2e_alive PID: true while PID runs (a zombie counts as gone).
_e2e_alive() {
  local pid=${1:-} stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# _e2e_owned PID DIR: true while PID runs and still names DIR in its arguments (so a recorded
# PID that the kernel has since handed to another process is left alone).
_e2e_owned() {
  _e2e_alive "$1" || return 1
  local args
  args=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $args == *"$2/"* ]]
}

# _e2e_terminate PID SECONDS: SIGTERM, then SIGKILL after SECONDS. (The processes we start
# are disowned; bash reaps them, so a dead one never lingers as a zombie.)
_e2e_terminate() {
  local pid=$1 deadline=$((SECONDS + $2))
  kill -TERM "$pid" 2>/dev/null
  while _e2e_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if _e2e_alive "$pid"; then
    e2e_log "pid $pid ignored SIGTERM for $2 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    deadline=$((SECONDS + 5))
    while _e2e_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.1
    done
  fi
  return 0
}

# _e2e_engine_pids DIR: PIDs of dockerd, containerd and shim processes whose arguments name DIR.
_e2e_engine_pids() {
  local dir=$1 proc comm args
  for proc in /proc/[0-9]*; do
    # The builtin read, not $(cat): this runs over every process on the host. stderr is
    # redirected first so a process that exits meanwhile fails the `<` quietly.
    read -r comm 2>/dev/null <"$proc/comm" || continue
    case $comm in
      dockerd | containerd | containerd-shim*) ;;
      *) continue ;;
    esac
    args=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline") || continue
    if [[ $args == *"$dir/"* ]] && _e2e_alive "${proc#/proc/}"; then
      echo "${proc#/proc/}"
    fi
  done
}

# _engine_kill_containers DIR: force-deletes every container runc still knows about under the
# engine's exec-root (<exec-root>/runtime-runc/<containerd namespace>/<id>), which kills its
# processes and removes its cgroups, then removes the sockets killed shims leave behind in
# /run/containerd/s.
_engine_kill_containers() {
  local dir=$1 state root id
  for state in "$dir"/exec/runtime-*/*/*/state.json; do
    [[ -f $state ]] || continue
    root=$(dirname "$(dirname "$state")")
    id=$(basename "$(dirname "$state")")
    runc --root "$root" delete --force "$id" >/dev/null 2>&1 ||
      e2e_log "runc --root $root delete --force $id failed"
  done
  # containerd 1.6: /run/containerd/s/sha256("<containerd address>/<namespace>/<id>")
  local task ns hash
  for task in "$dir"/exec/containerd/daemon/io.containerd.runtime.v2.task/*/*/; do
    [[ -d $task ]] || continue
    task=${task%/}
    id=$(basename "$task")
    ns=$(basename "$(dirname "$task")")
    hash=$(printf '%s' "$dir/exec/containerd/containerd.sock/$ns/$id" | sha256sum | cut -d' ' -f1)
    rm -f "/run/containerd/s/$hash"
  done
}

# _engine_remove_plugin_dirs DIR: managed plugins keep their socket directory in the
# host-wide /run/docker/plugins/<plugin id>, which dockerd removes only on a clean stop.
# Removes those of the plugins installed in this engine's data-root.
_engine_remove_plugin_dirs() {
  local dir=$1 plugin id rc=0
  for plugin in "$dir"/root/plugins/*/; do
    id=$(basename "$plugin")
    [[ $id =~ ^[0-9a-f]{64}$ && -d /run/docker/plugins/$id ]] || continue
    if _e2e_unmount_under "/run/docker/plugins/$id"; then
      rm -rf "/run/docker/plugins/$id" || rc=1
    else
      rc=1
    fi
  done
  return "$rc"
}

# _e2e_mounts_under DIR: mount points at or below DIR, deepest first.
_e2e_mounts_under() {
  local dir=$1
  awk -v d="$dir" '
    { mp = $5; gsub(/\\040/, " ", mp) }
    mp == d || index(mp, d "/") == 1 { print length(mp) "\t" mp }
  ' /proc/self/mountinfo | sort -rn | cut -f2-
}

# _e2e_unmount_under DIR: unmounts everything at or below DIR (lazily if busy).
_e2e_unmount_under() {
  local dir=$1 mp
  for _ in 1 2 3; do
    local mounts
    mounts=$(_e2e_mounts_under "$dir")
    [[ -n $mounts ]] || return 0
    while IFS= read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
    done <<<"$mounts"
  done
  [[ -z $(_e2e_mounts_under "$dir") ]] || {
    e2e_log "cannot unmount: $(_e2e_mounts_under "$dir" | tr '\n' ' ')"
    return 1
  }
}

# _engine_remove_cgroups PARENT: removes PARENT (e.g. /helix-e2e-1a2b3c4d) and everything
# below it in every cgroup hierarchy, deepest first. The processes must be gone already.
_engine_remove_cgroups() {
  local parent=$1 hierarchy rc=0
  [[ $parent == /helix-e2e-* ]] || return 0
  for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d $hierarchy${parent#/} ]] || continue
    find "$hierarchy${parent#/}" -depth -type d -exec rmdir {} + 2>/dev/null
    if [[ -d $hierarchy${parent#/} ]]; then
      e2e_log "cannot remove cgroup $hierarchy${parent#/}"
      rc=1
    fi
  done
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Privileged containers
# ---------------------------------------------------------------------------------------------

# Capability names by number, as far as dockerd 20.10 knows them (its "ALL" stops at 37).
_E2E_CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
  SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
  SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
  MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)

# privileged_flags: prints, one per line, the `docker run` flags that make a container
# privileged on this machine, checked against the current engine (DOCKER_HOST):
# `--privileged` if it can start, else the equivalent set minus the capabilities missing
# from our bounding set (here CAP_SYS_RESOURCE, which is why --privileged fails:
# runc cannot grant it). The answer is cached in $E2E_DIR/privileged-flags. Use it as
#   flags=$(privileged_flags); mapfile -t priv <<<"$flags"; docker run "${priv[@]}" ...
# (one per line because `--device-cgroup-rule 'a *:* rwm'` has spaces).
privileged_flags() {
  _e2e_tolerant _privileged_flags
}
_privileged_flags() {
  local cache=$E2E_DIR/privileged-flags
  if [[ -s $cache ]]; then
    cat "$cache"
    return 0
  fi
  image_busybox >&2 || return 1
  local flags=(--privileged) err=$E2E_DIR/.priv.err
  if ! docker run --rm "${flags[@]}" helix-e2e/busybox true >/dev/null 2>"$err"; then
    e2e_log "--privileged cannot start here: $(head -n 1 "$err")"
    local bnd i
    bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    flags=(--cap-add ALL)
    for i in "${!_E2E_CAPS[@]}"; do
      if (((0x$bnd >> i & 1) == 0)); then
        flags+=(--cap-drop "${_E2E_CAPS[i]}")
      fi
    done
    flags+=(--security-opt seccomp=unconfined --security-opt apparmor=unconfined
      --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm')
    if ! docker run --rm "${flags[@]}" helix-e2e/busybox true >/dev/null 2>"$err"; then
      e2e_log "privileged_flags: neither --privileged nor ${flags[*]} can start a container:"
      cat "$err" >&2
      return 1
    fi
  fi
  rm -f "$err"
  printf '%s\n' "${flags[@]}" >"$cache" || return 1
  cat "$cache"
}

source "$E2E_LIB_DIR/images.sh"

# shellcheck shell=bash
#
# Stopping a private engine (engine.sh) and proving it left nothing behind: its processes,
# containers, mounts, managed plugins' socket directories, cgroups and network namespace.
# Sourced by harness.sh.
#
#   engine_stop NAME         stop engine NAME and remove every trace of it (safe to repeat)
#   engine_stop_all          engine_stop for every engine of this run (the EXIT trap does it)
#   engine_pids NAME         PIDs of its dockerd, containerd and shim processes
#   e2e_leftovers [NAME]     what it left behind; nothing when clean

# engine_stop NAME: stops engine NAME and removes every trace of it. Safe to call twice, and
# on an engine whose start failed anywhere. Only touches processes it can tie to this engine
# (its recorded PIDs, or dockerd/containerd/shim processes naming the engine directory).
engine_stop() {
  e2e_tolerant _engine_stop "$@"
}
_engine_stop() {
  local name=${1:?engine_stop: missing NAME}
  local dir=$E2E_DIR/$name
  [[ -d $dir ]] || return 0
  local rc=0 sock=$dir/docker.sock pid

  pid=$(cat "$dir/harness.pid" 2>/dev/null)
  if e2e_owned "$pid" "$dir" && [[ -S $sock ]]; then
    # Killing containers first keeps shutdown quick: dockerd would otherwise give each one
    # its stop timeout.
    local ids
    ids=$(timeout 10 docker -H "unix://$sock" ps -aq 2>/dev/null)
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086 # one ID per word
      timeout 60 docker -H "unix://$sock" rm -f -v $ids >/dev/null 2>&1
    fi
  fi
  if e2e_owned "$pid" "$dir"; then
    e2e_log "stopping engine $name (dockerd pid $pid)"
    e2e_terminate "$pid" 20
  fi
  pid=$(cat "$dir/containerd.harness.pid" 2>/dev/null)
  if e2e_owned "$pid" "$dir"; then
    e2e_terminate "$pid" 10
  fi

  # Whatever survived an unclean stop: containers (runc kills them and their cgroups), then
  # the shims and the managed containerd, found by the engine directory in their arguments.
  _engine_kill_containers "$dir"
  local leftover args
  for leftover in $(_engine_pids_in "$dir"); do
    args=$(tr '\0' ' ' 2>/dev/null <"/proc/$leftover/cmdline")
    e2e_log "engine $name: terminating leftover $args"
    e2e_terminate "$leftover" 5
  done

  e2e_unmount_under "$dir" || rc=1
  _engine_remove_plugin_dirs "$dir" || rc=1
  _engine_remove_cgroups "$(cat "$dir/cgroup-parent" 2>/dev/null)" || rc=1

  local netns
  netns=$(cat "$dir/netns" 2>/dev/null)
  if [[ -n $netns && -e /run/netns/$netns ]]; then
    ip netns delete "$netns" || rc=1
  fi

  if [[ -n $(e2e_mounts_under "$dir") ]]; then
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
  e2e_tolerant _engine_stop_all
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
  _engine_pids_in "$E2E_DIR/$1"
}

# e2e_leftovers [NAME]: prints whatever engine NAME (default: every engine of this run) left
# behind: its processes, mounts under its directory, its network namespace and cgroups.
# Prints nothing when clean. Call it after engine_stop, before the script exits.
e2e_leftovers() {
  e2e_tolerant _e2e_leftovers "$@"
}
_e2e_leftovers() {
  local only=${1:-} name netns cgroup_parent pid line path
  while read -r name netns cgroup_parent; do
    [[ -z $only || $only == "$name" ]] || continue
    for pid in $(_engine_pids_in "$E2E_DIR/$name"); do
      echo "process $pid: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
    done
    for line in $(e2e_mounts_under "$E2E_DIR/$name"); do
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

# _engine_pids_in DIR: PIDs of dockerd, containerd and shim processes whose arguments name DIR.
_engine_pids_in() {
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
    if [[ $args == *"$dir/"* ]] && e2e_alive "${proc#/proc/}"; then
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
    if e2e_unmount_under "/run/docker/plugins/$id"; then
      rm -rf "/run/docker/plugins/$id" || rc=1
    else
      rc=1
    fi
  done
  return "$rc"
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

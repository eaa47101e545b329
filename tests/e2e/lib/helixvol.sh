# shellcheck shell=bash
#
# helixvol in the e2e engines, both ways it is installed. Sourced by harness.sh.
#
#   helixvol_install_managed NAME   docker plugin create NAME from the bundle, with its
#                                   state directory under E2E_DIR, and enable it; removed
#                                   at exit (helixvol_remove_managed)
#   helixvol_managed_pid NAME       the managed plugin's process on the host (for kill -9)
#   helixvol_start_host_service NAME [SETTING=VALUE...]
#                                   run the binary as a host service on
#                                   /run/docker/plugins/NAME.sock (seen by every engine
#                                   on the host: NAME must be unique; HELIXVOL_SOCKET_DIR
#                                   puts it elsewhere); stopped at exit
#   helixvol_restart_host_service NAME
#                                   start it again, same settings and state directory
#                                   (after a kill -9, say)
#   helixvol_stop_host_service NAME stop it and unmount what it left in its state directory
#   helixvol_serve_command NAME ARRAY
#                                   the command line it runs with, into ARRAY (to time a
#                                   start-up from exec, say)
#   helixvol_loops_for STATE_DIR    loop devices still bound to images under STATE_DIR
#
# HELIXVOL_BUNDLE (build/plugins/helixvol) and HELIXVOL_BINARY (build/helixvol) come
# from ctest, or default to the build tree.

HELIXVOL_BUNDLE=${HELIXVOL_BUNDLE:-$E2E_ROOT/build/plugins/helixvol}
HELIXVOL_BINARY=${HELIXVOL_BINARY:-$E2E_ROOT/build/helixvol}

# A name no other test run on this host uses.
helixvol_unique_name() {
  echo "helixvol-e2e-$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')"
}

helixvol_install_managed() {
  local name=$1 state=$E2E_DIR/$1-state
  helixvol_xfs_state "$state" || return 1
  docker plugin create "$name" "$HELIXVOL_BUNDLE" >/dev/null || return 1
  docker plugin set "$name" state.source="$state" LOG_LEVEL=debug || return 1
  docker plugin enable "$name" >/dev/null || return 1
  # Disabled with -f before the engine stops, so its mounts go first.
  e2e_defer helixvol_remove_managed "$DOCKER_HOST" "$name"
  e2e_log "managed plugin $name enabled, state in $state"
}

# helixvol_xfs_state DIR: makes DIR its own XFS filesystem (reflink=1, a 4 GiB
# sparse image), as docs/install.md tells operators to do: mounted before the
# plugin is enabled, POOL=auto then clones by reflink right there, and the
# images stay visible on the host (a self-managed pool would be mounted inside
# the managed plugin's own mount namespace).
helixvol_xfs_state() {
  local dir=$1
  mkdir -p "$dir" || return 1
  truncate -s 4G "$dir.img" || return 1
  mkfs.xfs -q -f -m reflink=1 "$dir.img" || return 1
  mount -o loop "$dir.img" "$dir" || return 1
  e2e_defer umount -l "$dir"
}

# helixvol_remove_managed DOCKER_HOST NAME: removes managed plugin NAME from that engine, with
# every container there and every volume of NAME first (disabled with -f).
helixvol_remove_managed() {
  DOCKER_HOST=$1 docker ps -aq | xargs -r env DOCKER_HOST="$1" docker rm -f >/dev/null 2>&1
  # Only this plugin's volumes: `docker volume ls` (and prune) also lists the volumes of
  # every host-service plugin on the host, other test runs' included.
  DOCKER_HOST=$1 docker volume ls --format '{{.Driver}} {{.Name}}' 2>/dev/null |
    awk -v a="$2" -v b="$2:latest" '$1 == a || $1 == b { print $2 }' |
    xargs -r env DOCKER_HOST="$1" docker volume rm -f >/dev/null 2>&1
  DOCKER_HOST=$1 docker plugin disable -f "$2" >/dev/null 2>&1
  DOCKER_HOST=$1 docker plugin rm -f "$2" >/dev/null 2>&1
}

# The managed plugin's process on the host (for kill -9): of every helixvol running from a
# plugin rootfs (other engines' included), the one in this plugin's cgroup or rootfs.
# Returns 1 when there is none, for example while dockerd is restarting it. (A loop, not a
# pipeline: under the caller's pipefail, pgrep finding nothing or head closing the pipe
# would decide the status.)
helixvol_managed_pid() {
  local id pid
  id=$(docker plugin inspect --format '{{.Id}}' "$1") || return 1
  for pid in $(pgrep -f '^/usr/bin/helixvol serve'); do
    if grep -qs "$id" "/proc/$pid/cgroup" || grep -qs "$id" "/proc/$pid/mountinfo"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# A host service NAME keeps its records in E2E_DIR: its state directory NAME-state/ (a
# caller may mount a filesystem there before starting it), NAME.pid, NAME.log, NAME.settings
# (SETTING=VALUE, NUL-separated) and NAME.socket-path (the socket's path).

# helixvol_start_host_service NAME [SETTING=VALUE...]: starts helixvol as a host service on
# $HELIXVOL_SOCKET_DIR/NAME.sock (default /run/docker/plugins, where every engine on the host
# finds it) with its state directory $E2E_DIR/NAME-state, and waits for its socket. SETTINGs
# go into its environment after LOG_LEVEL=debug, so LOG_LEVEL=info overrides it. Stopped at
# exit.
helixvol_start_host_service() {
  local name=$1 sock=${HELIXVOL_SOCKET_DIR:-/run/docker/plugins}/$1.sock
  shift
  mkdir -p "$E2E_DIR/$name-state" || return 1
  echo "$sock" >"$E2E_DIR/$name.socket-path" || return 1
  : >"$E2E_DIR/$name.settings" || return 1
  if (($# > 0)); then
    printf '%s\0' "$@" >"$E2E_DIR/$name.settings" || return 1
  fi
  e2e_defer helixvol_stop_host_service "$name"
  _helixvol_launch_host_service "$name" || return 1
  e2e_log "host-service plugin $name on $sock"
}

# helixvol_restart_host_service NAME: stops host service NAME (if it still runs) and starts it
# again with the same settings and state directory.
helixvol_restart_host_service() {
  e2e_tolerant _helixvol_restart_host_service "$@"
}
_helixvol_restart_host_service() {
  local name=$1 pid
  pid=$(<"$E2E_DIR/$name.pid")
  e2e_terminate "$pid" 10
  if e2e_alive "$pid"; then
    e2e_log "host service $name (pid $pid) would not die: $(cat "/proc/$pid/wchan" 2>/dev/null)"
    return 1
  fi
  _helixvol_launch_host_service "$name" || return 1
  e2e_log "host-service plugin $name restarted (pid $(<"$E2E_DIR/$name.pid"))"
}

# helixvol_serve_command NAME ARRAY: sets ARRAY to the command line host service NAME runs
# with (env SETTINGS... helixvol serve ...).
helixvol_serve_command() {
  local name=$1 settings=()
  local -n _helixvol_command=$2
  mapfile -d '' settings <"$E2E_DIR/$name.settings" || return 1
  _helixvol_command=(env LOG_LEVEL=debug "${settings[@]}" "$HELIXVOL_BINARY" serve
    --socket "$(<"$E2E_DIR/$name.socket-path")" --state-dir "$E2E_DIR/$name-state")
}

_helixvol_launch_host_service() {
  local name=$1 sock cmd=()
  sock=$(<"$E2E_DIR/$name.socket-path") || return 1
  helixvol_serve_command "$name" cmd || return 1
  # A killed service leaves its socket behind, and the wait below would take it for the
  # new one.
  rm -f "$sock"
  "${cmd[@]}" >>"$E2E_DIR/$name.log" 2>&1 </dev/null &
  echo "$!" >"$E2E_DIR/$name.pid"
  disown "$!"
  if ! e2e_retry 30 test -S "$sock"; then
    e2e_log "host service $name (pid $(<"$E2E_DIR/$name.pid")) made no socket within 30 s"
    tail -n 20 "$E2E_DIR/$name.log" >&2
    return 1
  fi
}

# helixvol_stop_host_service NAME: stops host service NAME and unmounts what it left under its
# state directory. Safe to call again.
helixvol_stop_host_service() {
  local name=$1 pid sock
  pid=$(cat "$E2E_DIR/$name.pid" 2>/dev/null)
  sock=$(cat "$E2E_DIR/$name.socket-path" 2>/dev/null)
  # SIGTERM first, for up to 10 s: a SIGKILL would skip removing its socket. (It stops at
  # once: idle connections, dockerd's included, hold no worker and delay nothing.)
  [[ -z $pid ]] || e2e_terminate "$pid" 10
  rm -f "${sock:-/run/docker/plugins/$name.sock}"
  # Whatever it mounted under its state directory: the volumes (in mounts/, which is no
  # mount point itself, so `umount -R mounts` would do nothing) and a pool filesystem of
  # its own, deepest first. The engine's containers keep their own copies of the volumes,
  # and the loop devices go when the last copy does.
  e2e_unmount_under "$E2E_DIR/$name-state"
}

# Loop devices bound to an image under STATE_DIR (or any directory), one per line, matched
# by device and inode: inside a managed plugin the backing path the kernel records is the
# plugin's, not the host's, and an inode number alone may repeat on another filesystem.
helixvol_loops_for() {
  local images
  images=$(find "$1" -name '*.img' -exec stat -c '%Hd:%Ld %i' {} + 2>/dev/null | sort -u) || true
  [[ -n $images ]] || return 0
  losetup -nO NAME,BACK-MAJ:MIN,BACK-INO 2>/dev/null | while read -r dev majmin ino; do
    if grep -qxF "$majmin $ino" <<<"$images"; then echo "$dev"; fi
  done
}

# helixvol_preload_shape: the `helixvol preload` flags for a desktop's shape on this machine,
# one per line (from privileged_flags): --shape privileged, or --shape equivalent with the
# capabilities the machine cannot grant dropped.
helixvol_preload_shape() {
  local flags
  flags=$(privileged_flags) || return 1
  if [[ $flags == --privileged ]]; then
    printf '%s\n' --shape privileged
    return 0
  fi
  printf '%s\n' --shape equivalent
  awk 'prev == "--cap-drop" { print "--cap-drop"; print } { prev = $0 }' <<<"$flags"
}

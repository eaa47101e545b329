# shellcheck shell=bash
#
# helixvol in the e2e engines, both ways it is installed:
#
#   helixvol_install_managed NAME   docker plugin create NAME from the bundle, with its
#                                   state directory under E2E_DIR, and enable it
#   helixvol_start_host_service NAME
#                                   run the binary as a host service on
#                                   /run/docker/plugins/NAME.sock (seen by every engine
#                                   on the host: NAME must be unique)
#   helixvol_loops_for STATE_DIR    loop devices still bound to images under STATE_DIR
#
# HELIXVOL_BUNDLE (build/plugins/helixvol) and HELIXVOL_BINARY (build/helixvol) come
# from ctest, or default to the build tree.

_HELIXVOL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HELIXVOL_BUNDLE=${HELIXVOL_BUNDLE:-$_HELIXVOL_ROOT/build/plugins/helixvol}
HELIXVOL_BINARY=${HELIXVOL_BINARY:-$_HELIXVOL_ROOT/build/helixvol}

# A name no other test run on this host uses.
helixvol_unique_name() {
  echo "helixvol-e2e-$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')"
}

helixvol_install_managed() {
  local name=$1 state=$E2E_DIR/$1-state
  mkdir -p "$state"
  docker plugin create "$name" "$HELIXVOL_BUNDLE" >/dev/null || return 1
  docker plugin set "$name" state.source="$state" LOG_LEVEL=debug || return 1
  docker plugin enable "$name" >/dev/null || return 1
  # Disabled with -f before the engine stops, so its mounts go first.
  e2e_defer _helixvol_remove_managed "$DOCKER_HOST" "$name"
  e2e_log "managed plugin $name enabled, state in $state"
}
_helixvol_remove_managed() {
  DOCKER_HOST=$1 docker ps -aq | xargs -r env DOCKER_HOST="$1" docker rm -f >/dev/null 2>&1
  DOCKER_HOST=$1 docker volume prune -af >/dev/null 2>&1 ||
    DOCKER_HOST=$1 docker volume ls -q | xargs -r env DOCKER_HOST="$1" docker volume rm -f \
      >/dev/null 2>&1
  DOCKER_HOST=$1 docker plugin disable -f "$2" >/dev/null 2>&1
  DOCKER_HOST=$1 docker plugin rm -f "$2" >/dev/null 2>&1
}

# The managed plugin's process on the host (for kill -9).
helixvol_managed_pid() {
  local id
  id=$(docker plugin inspect --format '{{.Id}}' "$1") || return 1
  pgrep -f "^/usr/bin/helixvol serve" | while read -r pid; do
    if grep -q "$id" "/proc/$pid/cgroup" 2>/dev/null ||
      grep -q "$id" "/proc/$pid/mountinfo" 2>/dev/null; then
      echo "$pid"
    fi
  done | head -n 1
}

helixvol_start_host_service() {
  local name=$1 state=$E2E_DIR/$1-state
  mkdir -p "$state"
  LOG_LEVEL=debug "$HELIXVOL_BINARY" serve --socket "/run/docker/plugins/$name.sock" \
    --state-dir "$state" >>"$E2E_DIR/$name.log" 2>&1 </dev/null &
  echo "$!" >"$E2E_DIR/$name.pid"
  disown "$!"
  e2e_retry 10 test -S "/run/docker/plugins/$name.sock" || return 1
  e2e_defer _helixvol_stop_host_service "$name"
  e2e_log "host-service plugin $name on /run/docker/plugins/$name.sock"
}
_helixvol_stop_host_service() {
  local name=$1 pid
  pid=$(<"$E2E_DIR/$name.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "/run/docker/plugins/$name.sock"
  umount -R "$E2E_DIR/$name-state/mounts" 2>/dev/null || true
}

# Loop devices bound to an image under STATE_DIR, matched by inode (inside a managed plugin
# the backing path the kernel records is the plugin's, not the host's).
helixvol_loops_for() {
  local inodes
  inodes=$(find "$1" -name '*.img' -printf '%i\n' 2>/dev/null | sort -u)
  [[ -n $inodes ]] || return 0
  losetup -nO NAME,BACK-INO 2>/dev/null | while read -r dev ino; do
    if grep -qx "$ino" <<<"$inodes"; then echo "$dev"; fi
  done
}

# shellcheck shell=bash
#
# Processes by PID, waiting, and mounts: what the engines, the plugin launchers, bench and
# the tests use to start, find and clean up after things on the host. Sourced by harness.sh.
#
#   e2e_alive PID                 true while PID runs (a zombie counts as gone)
#   e2e_owned PID DIR             true while PID runs and still names DIR in its arguments
#   e2e_terminate PID SECONDS     SIGTERM, then SIGKILL after SECONDS
#   e2e_retry SECONDS CMD...      CMD every 0.5 s until it succeeds
#   e2e_mounts_under DIR          mount points at or below DIR, deepest first
#   e2e_unmount_under DIR         unmount everything at or below DIR

# e2e_alive PID: true while PID runs (a zombie counts as gone).
e2e_alive() {
  local pid=${1:-} stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# e2e_owned PID DIR: true while PID runs and still names DIR in its arguments (so a recorded
# PID that the kernel has since handed to another process is left alone).
e2e_owned() {
  e2e_alive "$1" || return 1
  local args
  args=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $args == *"$2/"* ]]
}

# e2e_terminate PID SECONDS: SIGTERM, then SIGKILL after SECONDS. Always returns 0: check
# e2e_alive afterwards when it matters. (The processes the harness starts are disowned; bash
# reaps them, so a dead one never lingers as a zombie.)
e2e_terminate() {
  local pid=$1 deadline=$((SECONDS + $2))
  kill -TERM "$pid" 2>/dev/null
  while e2e_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if e2e_alive "$pid"; then
    e2e_log "pid $pid ignored SIGTERM for $2 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    deadline=$((SECONDS + 5))
    while e2e_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.1
    done
  fi
  return 0
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

# e2e_mounts_under DIR: mount points at or below DIR, deepest first.
e2e_mounts_under() {
  local dir=$1
  awk -v d="$dir" '
    { mp = $5; gsub(/\\040/, " ", mp) }
    mp == d || index(mp, d "/") == 1 { print length(mp) "\t" mp }
  ' /proc/self/mountinfo | sort -rn | cut -f2-
}

# e2e_unmount_under DIR: unmounts everything at or below DIR (lazily if busy). Returns 1,
# saying what, when mounts remain.
e2e_unmount_under() {
  local dir=$1 mp
  for _ in 1 2 3; do
    local mounts
    mounts=$(e2e_mounts_under "$dir")
    [[ -n $mounts ]] || return 0
    while IFS= read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
    done <<<"$mounts"
  done
  [[ -z $(e2e_mounts_under "$dir") ]] || {
    e2e_log "cannot unmount: $(e2e_mounts_under "$dir" | tr '\n' ' ')"
    return 1
  }
}

# shellcheck shell=bash
#
# The life of a script on the harness: logging, the skip, the run directory E2E_DIR, commands
# deferred to exit, and the EXIT trap that runs them, stops every engine and prints the
# summary. Sourced by harness.sh.
#
#   e2e_log MSG...                      timestamped progress line on stderr
#   e2e_tolerant FUNC ARGS...           FUNC with errexit off, the caller's setting restored
#   e2e_skip_unless_dockerd_can_run     exit 0 with "SKIPPED: ..." when no dockerd can run
#   e2e_init                            E2E_DIR and the EXIT trap
#   e2e_join DIR                        join the run a parent script made (bench/run.sh)
#   e2e_defer CMD...                    run CMD at exit, last deferred first
#   e2e_run_deferred                    run (and forget) the deferred commands now

E2E_PASSED=${E2E_PASSED:-0}
E2E_FAILED=${E2E_FAILED:-0}
_E2E_DEFERRED=()
_E2E_SKIPPED=

# e2e_log MSG...: timestamped progress line on stderr (stdout stays for test output).
e2e_log() {
  printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

# e2e_tolerant FUNC ARGS...: runs FUNC with errexit off, restoring the caller's setting.
# The harness's functions check every step themselves and carry on past failures they
# expect (a process already gone, a mount already unmounted); under the caller's `set -e`
# any such step would abort the whole script halfway through a cleanup. FUNC's own status
# is returned, so a failing harness function still stops a `set -e` caller.
e2e_tolerant() {
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
  _e2e_trap _e2e_on_exit
  e2e_log "e2e dir: $E2E_DIR"
}

# e2e_join DIR: joins the run whose E2E_DIR is DIR, made by a parent script's e2e_init (as
# bench/run.sh shares one fixture with every comparison). The engines and the summary are the
# parent's: at exit this script only runs what it deferred itself, and keeps its status.
e2e_join() {
  E2E_DIR=$1
  export E2E_DIR
  _e2e_trap _e2e_on_joined_exit
}

# e2e_defer CMD...: runs CMD at exit (last deferred first), before the engines are stopped.
e2e_defer() {
  _E2E_DEFERRED+=("$(printf '%q ' "$@")")
}

# e2e_run_deferred: runs every deferred command now, last deferred first, and forgets them.
# Errors are the commands' own business: every one runs.
e2e_run_deferred() {
  local i
  for ((i = ${#_E2E_DEFERRED[@]} - 1; i >= 0; i--)); do
    eval "${_E2E_DEFERRED[i]}"
  done
  _E2E_DEFERRED=()
}

# _e2e_trap FUNC: FUNC on EXIT; signals become exits so it runs for them too.
_e2e_trap() {
  # shellcheck disable=SC2064 # FUNC is meant to be expanded now
  trap "$1" EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

_e2e_on_joined_exit() {
  local status=$?
  set +e
  trap '' HUP INT TERM
  e2e_run_deferred
  exit "$status"
}

_e2e_on_exit() {
  local status=$?
  # Cleanup must run to the end whatever the caller's options are, and must not be cut short
  # by an impatient second Ctrl-C.
  set +e
  trap '' HUP INT TERM
  e2e_run_deferred
  if ((status != 0 || E2E_FAILED != 0)); then
    _e2e_dump_logs
  fi
  engine_stop_all
  if [[ -d ${E2E_DIR:-} ]]; then
    if [[ -z $(e2e_mounts_under "$E2E_DIR") ]]; then
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

# shellcheck shell=bash
#
# Checks and their counters: every passed check adds to E2E_PASSED, every failed one to
# E2E_FAILED, and the EXIT trap (lifecycle.sh) prints both last. Sourced by harness.sh.
#
#   assert_eq EXPECTED ACTUAL [WHAT]
#   assert_contains HAYSTACK NEEDLE [WHAT]
#   assert_fails CMD...          expects a non-zero status; keeps E2E_LAST_OUT, E2E_LAST_ERR
#   e2e_pass MSG...              a passed check that is not an assert_* ("it came up")
#   e2e_fail MSG...              a failed check that ends the script
#
# The assert_* functions return non-zero on failure, which aborts a `set -e` script (the
# EXIT trap still cleans up). They must run in the main shell, not in $(...) or a pipeline:
# the counters live in shell variables.

E2E_LAST_ERR=
E2E_LAST_OUT=

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

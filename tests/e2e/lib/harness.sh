# shellcheck shell=bash source-path=SCRIPTDIR
#
# The harness of the e2e tests, bench/ and demo/: private Docker engines, offline images,
# helixvol and helixauthz as managed plugins or host services, checks and cleanup. The one
# file to source; it brings in the rest:
#
#   lifecycle.sh    logging, the skip, E2E_DIR, deferred cleanup, the EXIT trap and summary
#   assert.sh       assert_eq, assert_contains, assert_fails, e2e_pass, e2e_fail
#   plumbing.sh     processes by PID, e2e_retry, mounts
#   engine.sh       starting and restarting a private dockerd in its own network namespace
#   engine_stop.sh  stopping one and finding what it left behind
#   privileged.sh   privileged_flags: what makes a container privileged here
#   images.sh       the offline images helix-e2e/busybox and helix-e2e/dind
#   helixvol.sh     helixvol: managed plugin, host service, its loop devices
#   helixauthz.sh   helixauthz: managed plugin, host service, activation in an engine
#   userns.sh       user-namespaced desktops: a remap user, the image, the flags
#
# An e2e test opens with
#
#   set -euo pipefail
#   # shellcheck source=lib/harness.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
#   e2e_setup                           # the skip, E2E_DIR and the EXIT trap
#   engine_start outer                  # exports DOCKER_HOST for the new engine
#   image_busybox
#   assert_eq hello "$(docker run --rm helix-e2e/busybox echo hello)" "echo works"
#
# The trap prints "N passed, M failed" as the very last line and makes the exit status
# non-zero when anything failed (including an unexpected command failure under set -e).
#
# Conventions:
#   * Works with or without `set -euo pipefail` in the caller. The harness functions check
#     their own steps; the public ones switch errexit off while they run and restore it
#     (e2e_tolerant), so a tolerated failure inside a cleanup never aborts it halfway.
#     They return non-zero on real failure, as do the assert_* functions, which aborts a
#     `set -e` script (the EXIT trap still cleans up and prints the summary).
#   * A name with a leading underscore is used only in the file that defines it; everything
#     else is public and documented where it is defined.
#   * HELIXVOL_BUNDLE, HELIXVOL_BINARY, HELIXAUTHZ_BUNDLE and HELIXAUTHZ_BINARY come from
#     ctest (or make demo, make bench), or default to the build tree.

if [[ -n ${_E2E_HARNESS_SH:-} ]]; then
  return 0
fi
_E2E_HARNESS_SH=1

# E2E_LIB_DIR: this directory. E2E_ROOT: the repository.
E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_LIB_DIR/../../.." && pwd)

# shellcheck source=lifecycle.sh
source "$E2E_LIB_DIR/lifecycle.sh"
# shellcheck source=assert.sh
source "$E2E_LIB_DIR/assert.sh"
# shellcheck source=plumbing.sh
source "$E2E_LIB_DIR/plumbing.sh"
# shellcheck source=engine.sh
source "$E2E_LIB_DIR/engine.sh"
# shellcheck source=engine_stop.sh
source "$E2E_LIB_DIR/engine_stop.sh"
# shellcheck source=privileged.sh
source "$E2E_LIB_DIR/privileged.sh"
# shellcheck source=images.sh
source "$E2E_LIB_DIR/images.sh"
# shellcheck source=helixvol.sh
source "$E2E_LIB_DIR/helixvol.sh"
# shellcheck source=helixauthz.sh
source "$E2E_LIB_DIR/helixauthz.sh"
# shellcheck source=userns.sh
source "$E2E_LIB_DIR/userns.sh"

# e2e_setup: the opening of every e2e script (and of bench and the demo): exits 0 with
# "SKIPPED: ..." when no dockerd can run here, else makes E2E_DIR and installs the EXIT trap
# that runs the deferred cleanup, stops every engine and prints the summary.
e2e_setup() {
  e2e_skip_unless_dockerd_can_run
  e2e_init
}

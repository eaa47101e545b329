#!/usr/bin/env bash
# Docker in Docker in Docker, each engine's data root a helixvol volume of the
# engine above it, the same plugin bundle installed at every level:
#
#   L0  the test's private engine, helixvol as a managed plugin
#   L1  dind container on L0, /var/lib/docker = helixvol volume s1 of L0
#   L2  dind container on L1, /var/lib/docker = helixvol volume s2 of L1
#   L3  dind container on L2, /var/lib/docker = helixvol volume s3 of L2
#
# Every inner engine must report overlay2 on extfs and run a container from an
# image loaded into it. (A local volume on ext4 would also avoid overlay on
# overlay; the point is that one plugin serves every level.)
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
image_dind
helixvol_install_managed helixvol
flags=$(privileged_flags)
mapfile -t priv <<<"$flags"
e2e_log "privileged flags: ${priv[*]}"

levels=3
docker_at=(docker)  # the docker command of the engine we are at, L0 first
for level in $(seq 1 "$levels"); do
  parent=("${docker_at[@]}")
  "${parent[@]}" run -d "${priv[@]}" --name "l$level" --volume-driver helixvol \
    -v "s$level:/var/lib/docker" helix-e2e/dind >/dev/null
  docker_at=("${parent[@]}" exec -i "l$level" docker)
  if ! e2e_retry 120 "${docker_at[@]}" version; then
    "${parent[@]}" logs "l$level" 2>&1 | tail -n 20 >&2
    e2e_fail "L$level engine did not answer"
  fi
  e2e_pass "L$level engine answers"
  assert_eq overlay2 "$("${docker_at[@]}" info --format '{{.Driver}}')" \
    "L$level engine uses overlay2"
  assert_contains "$("${docker_at[@]}" info --format '{{json .DriverStatus}}')" \
    '["Backing Filesystem","extfs"]' "L$level engine's data root is ext4"
  assert_contains "$("${parent[@]}" volume inspect "s$level" --format '{{json .Status}}')" \
    '"mounted":true' "L$level data root is a mounted helixvol volume of L$((level - 1))"

  # Images go down one level at a time: save from the parent, load into the child.
  "${parent[@]}" save helix-e2e/busybox | "${docker_at[@]}" load >/dev/null
  assert_eq "level $level" "$("${docker_at[@]}" run --rm helix-e2e/busybox echo level "$level")" \
    "L$level engine runs a container from a loaded image"
  if ((level < levels)); then
    "${parent[@]}" save helix-e2e/dind | "${docker_at[@]}" load >/dev/null
    # The same bundle, copied in as a tar stream and installed as a managed plugin.
    tar -C "$HELIXVOL_BUNDLE" -c . |
      "${parent[@]}" exec -i "l$level" sh -c 'mkdir -p /bundle /var/lib/helixvol && tar -x -C /bundle'
    "${docker_at[@]}" plugin create helixvol /bundle >/dev/null
    "${docker_at[@]}" plugin enable helixvol >/dev/null
    e2e_pass "helixvol installed in L$level from the same bundle"
  fi
done
assert_eq deepest "$("${docker_at[@]}" run --rm helix-e2e/busybox echo deepest)" \
  "a container runs at the deepest level"

# Tear down inside out, so every level's plugin sees its Unmounts.
for level in $(seq "$levels" -1 1); do
  docker_at=(docker)
  for ((up = 1; up < level; up++)); do docker_at+=(exec -i "l$up" docker); done
  "${docker_at[@]}" rm -f "l$level" >/dev/null
  "${docker_at[@]}" volume rm "s$level" >/dev/null
done
e2e_pass "all levels removed"
assert_eq "" "$(helixvol_loops_for "$E2E_DIR/helixvol-state")" \
  "no loop device left on L0's pool"
